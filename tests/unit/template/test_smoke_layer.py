"""scripts/smoke_layer.py: functions import in isolation, against nothing but their code and a layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.smoke_layer import import_function, main


def function_dir(root: Path, name: str, source: str) -> Path:
    code = root / name
    code.mkdir(parents=True)
    (code / "app.py").write_text(source)
    return code


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "layer" / "python"
    (site / "layer_pkg").mkdir(parents=True)
    (site / "layer_pkg" / "__init__.py").write_text("VALUE = 1\n")
    return site


def test_a_function_importing_only_its_layer_and_the_stdlib_passes(tmp_path: Path, site: Path) -> None:
    source = "import json\nimport layer_pkg\ndef lambda_handler(e, c):\n    return 1\n"
    code = function_dir(tmp_path, "Good", source)
    result = import_function(code, site)
    assert result.handler is True
    assert result.sdk == ()
    assert result.ms >= 0


def test_site_packages_are_invisible(tmp_path: Path, site: Path) -> None:
    """yaml is installed in the test virtualenv, but not in the layer: the import must fail."""
    import yaml  # noqa: F401 - proves the package exists here

    code = function_dir(tmp_path, "Bad", "import yaml\ndef lambda_handler(e, c):\n    return 1\n")
    with pytest.raises(RuntimeError, match="No module named 'yaml'"):
        import_function(code, site)


def test_cli_reports_every_problem(tmp_path: Path, site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = function_dir(tmp_path, "Good", "def lambda_handler(e, c):\n    return 1\n")
    no_handler = function_dir(tmp_path, "NoHandler", "X = 1\n")
    broken = function_dir(tmp_path, "Broken", "import moto\n")
    assert main([str(site), str(good)]) == 0
    assert "import smoke OK" in capsys.readouterr().out
    assert main([str(site), str(good), str(no_handler), str(broken)]) == 1
    out = capsys.readouterr().out
    assert "ok   Good" in out
    assert "FAIL NoHandler" in out and "no callable lambda_handler" in out
    assert "FAIL Broken: ModuleNotFoundError: No module named 'moto'" in out
    assert "2 function(s)" in out
