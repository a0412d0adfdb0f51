"""A wheel of the project carries every package of the layer (a non-editable ``pip install``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_auth_core_subpackage_is_declared() -> None:
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    base = ROOT / "layers" / "auth_core"
    found = {
        ".".join(init.parent.relative_to(base).parts)
        for init in (base / "auth_core").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= declared, f"add to pyproject.toml's packages: {sorted(found - declared)}"
