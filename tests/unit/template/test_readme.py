"""The README's configuration table is the one ``scripts/settings_table.py`` derives from settings.py."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_readme_configuration_table_matches_the_settings() -> None:
    table = runpy.run_path(str(ROOT / "scripts" / "settings_table.py"))["table"]()
    readme = (ROOT / "README.md").read_text()
    assert table in readme, (
        "README's configuration table is stale: run .venv/bin/python scripts/settings_table.py"
    )
