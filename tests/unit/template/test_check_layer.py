"""scripts/check_layer.py on synthetic layers: real ELF headers, no real wheels needed."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from scripts.check_layer import (
    EM_AARCH64,
    EM_X86_64,
    check_layer,
    elf_machine,
    main,
    required_imports,
    unresolved_imports,
)
from tests.unit.template.cfn import ROOT


def elf_header(machine: int, *, elf_class: int = 2, data: int = 1) -> bytes:
    """A minimal ELF64 header prefix: e_ident, e_type (ET_DYN), e_machine."""
    ident = b"\x7fELF" + bytes([elf_class, data, 1, 0]) + bytes(8)
    return ident + struct.pack("<HH", 3, machine) + bytes(44)


def make_layer(root: Path, *, machine: int = EM_AARCH64) -> Path:
    site = root / "python"
    (site / "auth_core").mkdir(parents=True)
    (site / "auth_core" / "__init__.py").write_text('"""core"""\n')
    (site / "cryptography" / "hazmat" / "bindings").mkdir(parents=True)
    (site / "cryptography" / "hazmat" / "bindings" / "_rust.abi3.so").write_bytes(elf_header(machine))
    (site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so").write_bytes(elf_header(machine))
    (site / "auth_core" / "__pycache__").mkdir()
    (site / "auth_core" / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"\xf3\r\r\n" + bytes(12))
    return root


def test_elf_machine() -> None:
    assert elf_machine(elf_header(EM_AARCH64)) == EM_AARCH64
    assert elf_machine(elf_header(EM_X86_64)) == EM_X86_64
    assert elf_machine(elf_header(EM_AARCH64, elf_class=1)) == -1  # 32-bit
    assert elf_machine(elf_header(EM_AARCH64, data=2)) == -1  # big-endian
    assert elf_machine(b"#!/bin/sh\n" + bytes(20)) is None
    assert elf_machine(b"\x7fELF") is None  # truncated


def test_a_good_layer_passes(tmp_path: Path) -> None:
    report = check_layer(make_layer(tmp_path))
    assert report.ok, report.problems
    assert report.elf_files == 2
    assert report.files == 4
    assert report.unzipped_bytes > 0 and report.zipped_bytes > 0


def test_x86_objects_fail(tmp_path: Path) -> None:
    report = check_layer(make_layer(tmp_path, machine=EM_X86_64))
    assert not report.ok
    assert len(report.problems) == 2
    assert all("ELF for x86_64" in p for p in report.problems)


def test_every_elf_is_checked_not_only_dot_so(tmp_path: Path) -> None:
    layer = make_layer(tmp_path)
    libs = layer / "python" / "cffi.libs"
    libs.mkdir()
    (libs / "libffi-abc.so.8.1.2").write_bytes(elf_header(EM_X86_64))
    report = check_layer(layer)
    assert report.problems == ["python/cffi.libs/libffi-abc.so.8.1.2: ELF for x86_64, layer targets aarch64"]


def test_a_shared_object_that_is_not_elf_fails(tmp_path: Path) -> None:
    layer = make_layer(tmp_path)
    (layer / "python" / "fake.so").write_bytes(b"not an elf" + bytes(20))
    assert check_layer(layer).problems == ["python/fake.so: named like a shared object but not a 64-bit ELF"]


def test_layout_and_content_problems(tmp_path: Path) -> None:
    layer = make_layer(tmp_path)
    site = layer / "python"
    (site / "auth_core" / "__init__.py").unlink()
    (site / "boto3").mkdir()
    (site / "boto3" / "__init__.py").write_text("")
    (site / "jmespath" / "tests").mkdir(parents=True)
    (site / "jmespath" / "tests" / "test_x.py").write_text("")
    (site / "auth_core" / "__pycache__" / "x.cpython-311.pyc").write_bytes(bytes(16))
    problems = check_layer(layer).problems
    assert any("auth_core/__init__.py is missing" in p for p in problems)
    assert any("python/boto3 is bundled" in p for p in problems)
    assert any("test suite bundled" in p for p in problems)
    assert any("byte-code for another Python" in p for p in problems)


def test_size_budget(tmp_path: Path) -> None:
    layer = make_layer(tmp_path)
    (layer / "python" / "blob.bin").write_bytes(bytes(range(256)) * 4096)
    report = check_layer(layer, max_zipped_bytes=1000)
    assert report.problems and "budget" in report.problems[-1]
    assert check_layer(layer, max_zipped_bytes=10_000_000).ok


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_layer(tmp_path / "good")
    assert main([str(good)]) == 0
    assert "layer OK" in capsys.readouterr().out
    bad = make_layer(tmp_path / "bad", machine=EM_X86_64)
    assert main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "2 problem(s)" in out
    assert main([str(good), "--arch", "x86_64"]) == 1
    capsys.readouterr()
    assert main([str(tmp_path / "missing")]) == 1
    assert "run sam build first" in capsys.readouterr().err


# ----------------------------------------------------------------------------- import resolution
def test_required_imports_skip_type_checking_and_optional_imports() -> None:
    source = (
        "from __future__ import annotations\n"
        "import json, jwt.api_jwk\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from mypy_boto3_dynamodb import DynamoDBClient\n"
        "else:\n"
        "    import yaml\n"
        "try:\n"
        "    from snapshot_restore_py import register_after_restore\n"
        "except (ValueError, ImportError):\n"
        "    import fallback_mod\n"
        "def lazy() -> None:\n"
        "    import aws_lambda_powertools.metrics  # noqa: PLC0415\n"
    )
    assert [m for _line, m in required_imports(source)] == [
        "__future__", "json", "jwt.api_jwk", "typing", "yaml", "fallback_mod",
        "aws_lambda_powertools.metrics",
    ]


def test_unresolved_imports(tmp_path: Path) -> None:
    site = tmp_path / "python"
    (site / "cryptography").mkdir(parents=True)
    (site / "cryptography" / "__init__.py").write_text("")
    (site / "_cffi_backend.cpython-313-aarch64-linux-gnu.so").write_bytes(elf_header(EM_AARCH64))
    code = tmp_path / "fn"
    code.mkdir()
    (code / "helpers.py").write_text("")
    (code / "app.py").write_text(
        "import os\nimport boto3\nimport helpers\nimport _cffi_backend\n"
        "from cryptography.hazmat.primitives import hashes\nimport jwt\n"
    )
    problems = unresolved_imports([code], site)
    assert len(problems) == 1
    assert problems[0].endswith("app.py:6: imports jwt, which neither the layer, the code, the standard "
                                "library nor the runtime provides")


def test_check_layer_reports_unresolved_imports_of_code_dirs(tmp_path: Path) -> None:
    layer = make_layer(tmp_path / "layer")
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text("import yaml\n")
    report = check_layer(layer, code_dirs=[code])
    assert len(report.problems) == 1 and "imports yaml" in report.problems[0]


def test_deployed_source_imports_only_what_is_deployed(tmp_path: Path) -> None:
    """The real auth_core and functions against a layer holding exactly layers/auth_core/requirements.txt.

    Catches a test-only package (PyJWT, PyYAML, moto ...) imported by deployed code at pytest time,
    before ``make template`` builds anything.
    """
    site = tmp_path / "python"
    requirements = (ROOT / "layers/auth_core/requirements.txt").read_text().splitlines()
    for line in requirements:
        name = line.split("#", 1)[0].split("==", 1)[0].strip()
        if name:
            (site / name.lower().replace("-", "_")).mkdir(parents=True)
            (site / name.lower().replace("-", "_") / "__init__.py").write_text("")
    (site / "typing_extensions.py").write_text("")  # a dependency of aws-lambda-powertools
    shutil.copytree(ROOT / "layers/auth_core/auth_core", site / "auth_core")
    code_dirs = [site / "auth_core", *sorted(p for p in (ROOT / "functions").iterdir() if p.is_dir())]
    assert unresolved_imports(code_dirs, site) == []
