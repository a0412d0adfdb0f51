"""``Settings`` is a ``typing.NamedTuple`` (not a dataclass: it is on the authorizer's cold path).

On a NamedTuple ``Settings.<field>`` is the field's getter, not its default: a default is read as
``Settings._field_defaults["<field>"]``. Nothing type-checks that (mypy calls both a ``str``),
so the code is scanned for the old spelling.
"""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import pytest

from auth_core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = ("layers/auth_core/auth_core", "functions", "authctl", "local_stack", "scripts", "bench", "tests")
FIELDS = frozenset(Settings._fields)


def _reads_of_a_default(path: Path) -> list[str]:
    """``Settings.<field>`` and ``getattr(Settings, ...)`` (``cls.<field>`` in the class's module)."""
    owners = {"Settings", "cls"} if path.name == "settings.py" else {"Settings"}
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in owners
            and node.attr in FIELDS
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "Settings"
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: getattr(Settings, ...)")
    return found


def test_no_code_reads_a_default_as_a_class_attribute() -> None:
    files = [p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py") if "node_modules" not in p.parts]
    assert len(files) > 100  # the scan saw the code
    assert [hit for path in files for hit in _reads_of_a_default(path)] == []


def test_the_defaults_are_the_fields_defaults_and_from_env_of_nothing() -> None:
    defaults = Settings._field_defaults
    assert set(defaults) == FIELDS  # every setting has a default: Settings() is a valid config
    built = Settings()
    assert all(getattr(built, name) == value for name, value in defaults.items())
    assert Settings.from_env({}) == built
    assert Settings.from_env({}, audience="orders").audience == "orders"


def test_settings_are_immutable_and_replace_derives_a_copy() -> None:
    settings = Settings(audience="orders")
    with pytest.raises(AttributeError):
        settings.audience = "other"  # type: ignore[misc]
    changed = settings._replace(leeway=5)
    assert (changed.leeway, changed.audience, settings.leeway) == (5, "orders", 60)


def test_the_shared_default_route_scopes_cannot_be_changed() -> None:
    # One default object is shared by every Settings(): a write to it would reach them all.
    with pytest.raises(TypeError):
        Settings().route_scopes["GET /x"] = ("read",)  # type: ignore[index]
    assert Settings().route_scopes == {}
    assert Settings.from_env({"ROUTE_SCOPES": '{"GET /x": "read"}'}).route_scopes == {"GET /x": ("read",)}


def test_default_settings_copy_and_pickle() -> None:
    # The immutable default ROUTE_SCOPES must not make Settings() uncopyable (a dict was).
    settings = Settings(audience="orders")
    for twin in (copy.copy(settings), copy.deepcopy(settings), pickle.loads(pickle.dumps(settings))):  # noqa: S301
        assert twin == settings and type(twin) is Settings
