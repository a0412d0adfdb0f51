"""Local state that survives restarts: the tables' items and the secrets' versions, in one JSON file.

moto keeps everything in memory. :class:`StateFile` snapshots the stack's DynamoDB items (through
boto3's ``Scan``) and every version of its secrets *with their staging labels* (``AWSCURRENT``,
``AWSPREVIOUS``, ``AWSPENDING``; read from moto's backend, which runs in this process) to
``<state dir>/state.json`` (mode 600: password hashes and private keys inside), and puts them back
into a fresh moto before the stack seeds anything. The demo credentials live next to it in
``demo.json`` (mode 600), so they stay the same across restarts.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["StateFile", "write_private_json"]

STATE_FORMAT = 1


def write_private_json(path: Path, doc: Any) -> None:
    """Write ``doc`` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1, default=_encode)
    tmp.replace(path)


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, set):
        return sorted(value, key=str)
    raise TypeError(f"cannot persist {type(value).__name__}")


def _decode(doc: Any) -> Any:
    if isinstance(doc, dict):
        if set(doc) == {"__bytes__"}:
            return base64.b64decode(doc["__bytes__"])
        return {k: _decode(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_decode(v) for v in doc]
    return doc


class StateFile:
    """``state.json`` and ``demo.json`` in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"
        self.demo_path = state_dir / "demo.json"
        self._last: str | None = None

    def reset(self) -> None:
        for path in (self.path, self.demo_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def load(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise OSError(
                f"{self.path} is unreadable ({exc}); start with --reset (make local RESET=1)"
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise OSError(f"{self.path} has an unknown format; start with --reset (make local RESET=1)")
        return dict(_decode(doc))

    def load_demo(self) -> dict[str, str] | None:
        try:
            doc = json.loads(self.demo_path.read_text())
        except (OSError, ValueError):
            return None
        return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else None

    def save_demo(self, demo: Mapping[str, str]) -> None:
        write_private_json(self.demo_path, dict(demo))

    # -------------------------------------------------------------------------- snapshot
    @staticmethod
    def snapshot(ddb: Any, backend: Any, tables: Iterable[str], secrets: Iterable[str]) -> dict[str, Any]:
        """Every item of ``tables`` and every version of ``secrets`` (names or ARNs)."""
        doc: dict[str, Any] = {"format": STATE_FORMAT, "tables": {}, "secrets": {}}
        for table in tables:
            items: list[Any] = []
            for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                items.extend(page.get("Items", []))
            doc["tables"][table] = items
        for secret_id in secrets:
            secret = backend.secrets[secret_id]
            doc["secrets"][secret.name] = {
                "versions": copy.deepcopy(secret.versions),
                "default_version_id": secret.default_version_id,
            }
        return doc

    def save(self, doc: Mapping[str, Any]) -> bool:
        """Write ``doc`` if it changed since the last save; ``True`` when written."""
        text = json.dumps(doc, sort_keys=True, default=_encode)
        if text == self._last:
            return False
        write_private_json(self.path, doc)
        self._last = text
        return True

    # -------------------------------------------------------------------------- restore
    @staticmethod
    def restore(ddb: Any, backend: Any, doc: Mapping[str, Any]) -> list[str]:
        """Put ``doc`` back into fresh tables and secrets; returns the secret names restored.

        Tables or secrets the template no longer has are skipped.
        """
        existing = set(ddb.list_tables().get("TableNames", []))
        for table, items in (doc.get("tables") or {}).items():
            if table not in existing:
                continue
            for item in items:
                ddb.put_item(TableName=table, Item=item)
        restored: list[str] = []
        for name, state in (doc.get("secrets") or {}).items():
            secret = backend.secrets.get(name)
            if secret is None or not state.get("versions"):
                continue
            secret.versions = {k: dict(v) for k, v in state["versions"].items()}
            secret.default_version_id = state.get("default_version_id")
            restored.append(name)
        return restored
