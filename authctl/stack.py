"""``--stack .local/stack.json``: names and endpoints of a running local stack, for every command group.

Kept for callers that only want the file's contents; the resolution itself (the file wins over
the shell's AWS variables, exported names mixed with it are refused) lives in
:mod:`authctl.context`.
"""

from __future__ import annotations

import argparse
from typing import Any

from authctl.context import context

__all__ = ["load_stack"]


def load_stack(args: argparse.Namespace) -> dict[str, Any]:
    """The stack file named by ``--stack`` (empty when none); boto3 now points at its endpoint.

    :raises authctl.context.CliError: the file cannot be read, is stale, or is mixed with
        exported names.
    """
    return context(args).stack
