"""``--stack .local/stack.json``: names and endpoints of a running local stack, for every command group.

Reading it also points boto3 at the local stack's moto server (its endpoint, fake credentials
and region), unless the environment already says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from auth_core.errors import ConfigurationError

__all__ = ["load_stack"]


def load_stack(args: argparse.Namespace) -> dict[str, Any]:
    """The stack file named by ``--stack`` (empty when none), with AWS env defaults applied.

    :raises ConfigurationError: the file cannot be read or is not a JSON object.
    """
    path = getattr(args, "stack", None)
    if not path:
        return {}
    try:
        info = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read stack file {path}") from exc
    if not isinstance(info, dict):
        raise ConfigurationError(f"stack file {path} is not a JSON object")
    # the local stack is moto: point boto3 at it (explicit environment still wins)
    if info.get("aws_endpoint_url"):
        os.environ.setdefault("AWS_ENDPOINT_URL", str(info["aws_endpoint_url"]))
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    if info.get("region"):
        os.environ.setdefault("AWS_REGION", str(info["region"]))
        os.environ.setdefault("AWS_DEFAULT_REGION", str(info["region"]))
    return info
