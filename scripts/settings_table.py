"""Print the README's configuration table from ``auth_core/settings.py``: one source of truth.

Each ``Settings`` field is documented by the ``#:`` comment above it, which starts with its
environment variable (``#: ISSUER: exact iss ...``). ``tests/unit/template/test_readme.py``
fails when the README's table differs from this output; regenerate it with
``.venv/bin/python scripts/settings_table.py``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "auth_core"))

from auth_core.settings import ENV_VARS, Settings  # noqa: E402

_FIELD = re.compile(r"^    (\w+): ")


def field_docs() -> dict[str, str]:
    """field name -> its ``#:`` documentation, the variable's name removed."""
    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in (ROOT / "layers/auth_core/auth_core/settings.py").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = _FIELD.match(line)
        if match and pending:
            text = " ".join(pending)
            env = ENV_VARS.get(match[1], "")
            docs[match[1]] = text.removeprefix(f"{env}:").strip()
        pending = []
    return docs


def _default(value: object) -> str:
    if isinstance(value, Mapping):  # ROUTE_SCOPES: an immutable empty mapping
        value = dict(value) or ""
    elif isinstance(value, tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return f"`{text}`" if text else "`(empty)`"


def table() -> str:
    docs = field_docs()
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    defaults = Settings._field_defaults
    for name in Settings._fields:
        default = _default(defaults[name]) if name in defaults else "`(required)`"
        meaning = docs.get(name, "").replace("``", "`")
        rows.append(f"| `{ENV_VARS[name]}` | {default} | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(table() + "\n")
