"""Local state that survives restarts: the tables' items and the secrets' versions, in one JSON file.

moto keeps everything in memory. :class:`StateFile` snapshots the stack's DynamoDB items and every
version of its secrets *with their staging labels* (``AWSCURRENT``, ``AWSPREVIOUS``,
``AWSPENDING``), both read from moto's backends (they run in this process), to
``<state dir>/state.json`` (mode 600: password hashes and private keys inside), and puts them back
into a fresh moto before the stack seeds anything. The demo credentials live next to it in
``demo.json`` (mode 600), so they stay the same across restarts.

The items are read :data:`SNAPSHOT_CHUNK` at a time under moto's DynamoDB lock, which is released
in between. (They used to be read with boto3's ``Scan``: moto walks the whole table for every
page, under the lock that serialises every DynamoDB request; with 10,000 sessions, a snapshot
every 5 s held the lock for seconds at a time, the functions' DynamoDB calls ran into their read
timeout, and logins and refreshes answered 503.) Like a ``Scan``, a snapshot is not a
point-in-time copy: an item written while it runs may be missed, and is in the next one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SNAPSHOT_CHUNK", "StateFile", "table_chunks", "write_private_json"]

STATE_FORMAT = 1
#: items read per hold of moto's DynamoDB lock by a snapshot: what a request may wait behind it
SNAPSHOT_CHUNK = 200


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


_ITEM_JSON = json.JSONEncoder(sort_keys=True, default=_encode).encode


class StateFile:
    """``state.json`` and ``demo.json`` in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"
        self.demo_path = state_dir / "demo.json"
        self._digest: bytes | None = None  # of the state.json last written
        self._seen: tuple[int, str] | None = None  # (DynamoDB write count, secrets) last snapshotted

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
    def write(
        self,
        ddb_backend: Any,
        backend: Any,
        tables: Iterable[str],
        secrets: Iterable[str],
        *,
        lock: threading.RLock | None = None,
        generation: int | None = None,
    ) -> bool:
        """Snapshot every item of ``tables`` (from moto's DynamoDB backend ``ddb_backend``, read
        under ``lock``, by default the one moto's DynamoDB requests run under) and every version of
        ``secrets`` (names or ARNs, from moto's Secrets Manager backend ``backend``) to
        ``state.json``; ``True`` when the file was written.

        The items are streamed to the file :data:`SNAPSHOT_CHUNK` at a time: the whole state is
        never in memory twice (as a document, then as its text), which made the stack's memory
        grow with every snapshot of a large table. With ``generation`` (a count of DynamoDB
        writes, :func:`local_stack.moto_backend.generation`) unchanged since the last snapshot and
        the secrets unchanged, the tables are not read at all; otherwise the file is replaced
        only if its content changed (a digest of the last one is kept, not its text).
        """
        from local_stack.moto_backend import DYNAMODB_LOCK  # noqa: PLC0415 - moto is imported lazily there

        states = {}
        for secret_id in secrets:
            found = backend.secrets[secret_id]
            states[found.name] = {"versions": found.versions, "default_version_id": found.default_version_id}
        secrets_text = json.dumps(states, sort_keys=True, default=_encode)
        if generation is not None and (generation, secrets_text) == self._seen:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        digest = hashlib.sha256()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:

                def out(text: str) -> None:
                    fh.write(text)
                    digest.update(text.encode())

                out(f'{{"format":{STATE_FORMAT},"secrets":{secrets_text},"tables":{{')
                for index, table in enumerate(tables):
                    out(f"{',' if index else ''}{json.dumps(table)}:[")
                    separator = ""
                    for chunk in table_chunks(ddb_backend.get_table(table), lock or DYNAMODB_LOCK):
                        if chunk:
                            out(separator + ",".join(_ITEM_JSON(item) for item in chunk))
                            separator = ","
                    out("]")
                out("}}")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._seen = (generation, secrets_text) if generation is not None else None
        if digest.digest() == self._digest:
            tmp.unlink()
            return False
        tmp.replace(self.path)
        self._digest = digest.digest()
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


def table_chunks(
    table: Any, lock: threading.RLock, chunk: int = SNAPSHOT_CHUNK
) -> Iterator[list[dict[str, Any]]]:
    """The items of moto's ``table`` as boto3 returns them (``{"pk": {"S": ...}}``, binary as
    ``bytes``), ``chunk`` at a time, holding ``lock`` while one chunk is read."""
    with lock:  # the keys only: cheap, and the table may change between the chunks below
        if table.range_key_attr:
            keys = [(h, r) for h, by_range in table.items.items() for r in by_range]
        else:
            keys = [(h, None) for h in table.items]
    for start in range(0, len(keys), chunk):
        out: list[dict[str, Any]] = []
        with lock:
            for hash_key, range_key in keys[start : start + chunk]:
                found = table.items.get(hash_key)
                if found is not None and range_key is not None:
                    found = found.get(range_key)
                if found is not None:  # deleted meanwhile: gone from the snapshot too
                    out.append(_item_doc(found))
        yield out


def _item_doc(item: Any) -> dict[str, Any]:
    return {name: _value_doc(value) for name, value in item.attrs.items()}


def _value_doc(value: Any) -> dict[str, Any]:
    """One moto ``DynamoType`` in boto3's form (moto keeps binary values base64-encoded)."""
    if value.type == "BS":
        return {"BS": [base64.b64decode(v) if isinstance(v, str) else v for v in value.value]}
    if value.type == "L":
        return {"L": [_value_doc(v) for v in value.value]}
    if value.type == "M":
        return {"M": {k: _value_doc(v) for k, v in value.value.items()}}
    return dict(value.to_regular_json())
