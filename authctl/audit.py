"""What ``authctl`` says about an operator action: the plan before, the audit record after.

**The plan.** Before a command changes anything it prints one line on stderr,
``authctl: will <what>``: the user or client, and what happens to it and its sessions.

**The audit record.** Every operator action that changed something is reported through the
core's :class:`auth_core.oauth.audit.Audit` protocol (the one the functions use) by
:class:`OperatorAudit`: one structured line on stderr,
``authctl: audit {"event": "OperatorUserDeleted", ...}`` (JSON, sorted keys), with the operator
(the local account name, and the AWS account when it is known), the deployment, the time, the
target and what changed -- identifiers and counts only, never a secret, a hash or a password.
The same object is handed to :class:`~auth_core.oauth.revocation.SessionRevoker`, so the core's
own events (``FamilyRevoked``, ``UserDisabled``...) land in the same stream. A shell wrapper or
CI job keeps stderr (``2>>audit.log``); ``AUTHCTL_AUDIT_FILE`` also appends each record to a file.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["OperatorAudit", "plan"]


def plan(line: str) -> None:
    """Say, in one line on stderr, what the command is about to change."""
    print(f"authctl: will {' '.join(line.split())}", file=sys.stderr)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): still audit
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


class OperatorAudit:
    """:class:`auth_core.oauth.audit.Audit` for ``authctl``: one JSON line per event on stderr
    (and appended to ``AUTHCTL_AUDIT_FILE`` when set). Keeps the records (``events``) too."""

    def __init__(self, *, command: str, deployment: str | None, clock: Any = time.time) -> None:
        self.command = command
        self.deployment = deployment or "(names from flags or the environment)"
        self._clock = clock
        self.events: list[dict[str, Any]] = []

    def record(self, event: str, **fields: Any) -> None:
        now = self._clock()
        doc = {
            "event": event,
            "command": self.command,
            "operator": _operator(),
            "deployment": self.deployment,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            **fields,
        }
        self.events.append(doc)
        line = json.dumps(doc, sort_keys=True, default=str)
        print(f"authctl: audit {line}", file=sys.stderr)
        path = os.environ.get("AUTHCTL_AUDIT_FILE", "").strip()
        if path:
            with Path(path).open("a", encoding="utf-8") as out:
                out.write(line + "\n")
