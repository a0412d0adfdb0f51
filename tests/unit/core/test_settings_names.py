"""Each setting's environment variable is spelt once: ``auth_core.settings.ENV_VARS`` (issue 12).

``from_env``, its error messages and authctl all read the table; a second spelling elsewhere in
the code is how a renamed variable ends up half-renamed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auth_core.settings import ENV_VARS

ROOT = Path(__file__).resolve().parents[3]
CODE = [ROOT / "layers/auth_core/auth_core", ROOT / "functions", ROOT / "authctl", ROOT / "local_stack"]
SETTINGS = ROOT / "layers/auth_core/auth_core/settings.py"


def _spelt(var: str) -> list[str]:
    literal = re.compile(rf"""["']{var}["']""")
    return [
        str(path.relative_to(ROOT))
        for folder in CODE
        for path in folder.rglob("*.py")
        if literal.search(path.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("var", sorted(ENV_VARS.values()))
def test_a_variable_name_is_a_string_only_in_the_settings_table(var: str) -> None:
    assert _spelt(var) == [str(SETTINGS.relative_to(ROOT))]
    assert len(re.findall(rf'"{var}"', SETTINGS.read_text(encoding="utf-8"))) == 1
