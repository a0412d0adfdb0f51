"""authctl fails loudly when a command group does not import (issue 12): it never drops the group."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from authctl import cli


def _break(monkeypatch: pytest.MonkeyPatch, broken: str, exc: Exception) -> None:
    real = importlib.import_module

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == broken:
            raise exc
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cli.importlib, "import_module", fake)


@pytest.mark.parametrize(
    "exc",
    [
        ModuleNotFoundError("No module named 'authctl.users'", name="authctl.users"),
        ImportError("cannot import name 'x' from 'auth_core'"),
        SyntaxError("invalid syntax"),
    ],
)
def test_a_broken_group_is_one_error_line_and_a_nonzero_exit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception
) -> None:
    _break(monkeypatch, "authctl.users", exc)
    with pytest.raises(SystemExit) as info:
        cli.main(["users", "--help"])
    assert info.value.code != 0
    message = str(info.value.code)
    assert message.startswith("authctl: error: command group authctl.users failed to import")
    assert "\n" not in message
    assert capsys.readouterr().out == ""


def test_every_group_registers_when_all_import() -> None:
    parser = cli.build_parser()
    groups = next(a for a in parser._actions if a.dest == "group")
    assert {"keys", "users"} <= set(groups.choices)
