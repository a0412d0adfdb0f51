"""Lambda SnapStart hooks, when the runtime offers them.

With SnapStart (Python 3.12+), the initialised execution environment is snapshotted and later
restored, possibly many times and long after. Caches built before the snapshot (keys, verified
tokens, revocation answers) would then be restored stale, so the handler registers a hook that
empties them after each restore. ``snapshot_restore_py`` exists only in the Lambda runtime;
elsewhere registration is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["after_restore"]


def after_restore(callback: Callable[[], object]) -> bool:
    """Run ``callback`` after every SnapStart restore. Returns whether a hook was registered."""
    try:
        from snapshot_restore_py import register_after_restore  # noqa: PLC0415 - Lambda runtime only
    except ImportError:
        return False
    register_after_restore(callback)
    return True
