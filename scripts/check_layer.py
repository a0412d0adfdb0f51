#!/usr/bin/env python3
"""Check a built Lambda layer before it is deployed: right CPU, right contents, small enough.

A layer cross-built on an x86_64 laptop for arm64 Lambda fails only at the first cold start
(``invalid ELF header`` importing ``cryptography``), so ``make template`` checks it here:

* every ELF file in the layer (``.so`` and anything else starting with ``\\x7fELF``) is a 64-bit
  little-endian aarch64 object (``e_machine == 183``); every ``*.so`` file is ELF;
* ``python/auth_core`` is present and no test suites, ``__pycache__`` of a foreign Python, or
  runtime-provided packages (boto3, botocore) were bundled;
* every absolute import in ``auth_core`` and in each ``--code`` directory (the built functions)
  resolves to the standard library, the runtime's own modules, the layer, or the code itself: a
  test-only package (PyJWT, PyYAML, moto...) imported by deployed code passes every local test
  and fails in Lambda. Imports under ``if TYPE_CHECKING:`` or in ``try: ... except ImportError``
  are exempt;
* unzipped and zipped sizes are reported; the zipped size must not exceed the budget.

Usage: ``scripts/check_layer.py [--max-zipped-mb 8] [--arch aarch64] LAYER_DIR [--code DIR ...]``.
Exit status 0 when every check passes, 1 otherwise (each problem is printed).
"""

from __future__ import annotations

import argparse
import ast
import io
import struct
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EM_AARCH64",
    "EM_X86_64",
    "LayerReport",
    "check_layer",
    "elf_machine",
    "main",
    "required_imports",
    "unresolved_imports",
]

EM_X86_64 = 62
EM_AARCH64 = 183
MACHINES = {"aarch64": EM_AARCH64, "x86_64": EM_X86_64}
_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
#: Packages the python3.13 runtime already provides; bundling them only adds size and version skew.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
#: Compiled byte-code is only useful for the runtime's interpreter.
RUNTIME_PYC_TAG = "cpython-313"
#: Importable in the python3.13 runtime without the layer: the SDK and its dependencies, the
#: runtime interface client, and the SnapStart hooks module.
RUNTIME_MODULES = frozenset(
    {"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "jmespath", "six", "awslambdaric",
     "snapshot_restore_py"}
)


def elf_machine(head: bytes) -> int | None:
    """``e_machine`` of an ELF header, or ``None`` when ``head`` is not a 64-bit little-endian ELF.

    Layout (ELF64): 16 bytes ``e_ident`` (magic, class, data, ...), then ``e_type`` (2 bytes) and
    ``e_machine`` (2 bytes) at offset 18.
    """
    if len(head) < 20 or not head.startswith(_ELF_MAGIC):
        return None
    if head[4] != _ELFCLASS64 or head[5] != _ELFDATA2LSB:
        return -1  # an ELF, but not one any Lambda architecture loads
    (machine,) = struct.unpack_from("<H", head, 18)
    return int(machine)


@dataclass
class LayerReport:
    """What :func:`check_layer` found."""

    files: int = 0
    elf_files: int = 0
    unzipped_bytes: int = 0
    zipped_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_error(node: ast.Try | ast.TryStar) -> bool:
    names: list[ast.expr] = []
    for handler in node.handlers:
        if isinstance(handler.type, ast.Tuple):
            names.extend(handler.type.elts)
        elif handler.type is not None:
            names.append(handler.type)
    return any(isinstance(n, ast.Name) and n.id in {"ImportError", "ModuleNotFoundError"} for n in names)


def required_imports(source: str) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every absolute import that must succeed at run time."""

    def visit(node: ast.AST, optional: bool) -> Iterator[tuple[int, str]]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.orelse:
                yield from visit(stmt, optional)
            return
        if isinstance(node, ast.Try | ast.TryStar) and _catches_import_error(node):
            for stmt in node.body:
                yield from visit(stmt, True)
            for other in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from visit(other, optional)
            return
        if not optional:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node.lineno, node.module
        for child in ast.iter_child_nodes(node):
            yield from visit(child, optional)

    yield from visit(ast.parse(source), False)


def _provides(directory: Path, top: str) -> bool:
    return (
        (directory / top / "__init__.py").is_file()
        or (directory / f"{top}.py").is_file()
        or any(directory.glob(f"{top}.*.so"))
        or any(directory.glob(f"{top}.so"))
    )


def unresolved_imports(code_dirs: Sequence[Path], site: Path) -> list[str]:
    """Imports in ``code_dirs`` that nothing deployed provides (one message each).

    A module resolves when it is ``__future__``, in the standard library, one of
    :data:`RUNTIME_MODULES`, provided by the layer's ``site`` directory, or by the code
    directory itself (a function's sibling module).
    """
    problems: list[str] = []
    for code_dir in code_dirs:
        for path in sorted(code_dir.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            for line, module in required_imports(path.read_text(encoding="utf-8")):
                top = module.split(".", 1)[0]
                if top == "__future__" or top in sys.stdlib_module_names or top in RUNTIME_MODULES:
                    continue
                if _provides(site, top) or _provides(code_dir, top):
                    continue
                problems.append(
                    f"{path}:{line}: imports {module}, which neither the layer, the code, the standard "
                    "library nor the runtime provides"
                )
    return problems


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _zipped_size(root: Path, files: Sequence[Path]) -> int:
    """Size of the layer zip as ``sam deploy`` would upload it (deflate, default level)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.tell()


def check_layer(
    root: Path,
    *,
    arch: str = "aarch64",
    max_zipped_bytes: int | None = None,
    code_dirs: Sequence[Path] = (),
) -> LayerReport:
    """Inspect the layer directory ``root`` (the one that contains ``python/``) and the imports
    of its ``auth_core`` and of ``code_dirs``.

    :raises FileNotFoundError: ``root`` is not a directory.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory (run sam build first)")
    want = MACHINES[arch]
    report = LayerReport()
    files = list(_walk(root))
    report.files = len(files)
    site = root / "python"
    if not (site / "auth_core" / "__init__.py").is_file():
        report.problems.append("python/auth_core/__init__.py is missing (layer layout must be python/<pkg>)")
    for name in RUNTIME_PROVIDED:
        if (site / name).exists():
            report.problems.append(f"python/{name} is bundled but the Lambda runtime provides it")
    for path in files:
        rel = path.relative_to(root).as_posix()
        report.unzipped_bytes += path.stat().st_size
        parts = path.relative_to(root).parts
        if any(p in {"tests", "test"} for p in parts[:-1]):
            report.problems.append(f"{rel}: test suite bundled")
        if path.suffix == ".pyc" and RUNTIME_PYC_TAG not in path.name:
            report.problems.append(f"{rel}: byte-code for another Python (runtime is {RUNTIME_PYC_TAG})")
        with path.open("rb") as fh:
            head = fh.read(20)
        machine = elf_machine(head)
        is_shared_object = path.name.endswith(".so") or ".so." in path.name
        if machine is None:
            if is_shared_object:
                report.problems.append(f"{rel}: named like a shared object but not a 64-bit ELF")
            continue
        report.elf_files += 1
        if machine != want:
            found = next((a for a, m in MACHINES.items() if m == machine), f"e_machine={machine}")
            report.problems.append(f"{rel}: ELF for {found}, layer targets {arch}")
    if (site / "auth_core").is_dir():
        report.problems.extend(unresolved_imports([site / "auth_core", *code_dirs], site))
    report.zipped_bytes = _zipped_size(root, files)
    if max_zipped_bytes is not None and report.zipped_bytes > max_zipped_bytes:
        report.problems.append(
            f"zipped layer is {report.zipped_bytes / 1e6:.2f} MB, budget {max_zipped_bytes / 1e6:.2f} MB"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("layer_dir", type=Path, help="built layer dir, e.g. .aws-sam/build/AuthCoreLayer")
    parser.add_argument("--arch", choices=sorted(MACHINES), default="aarch64")
    parser.add_argument(
        "--code", type=Path, action="extend", nargs="+", default=[], metavar="DIR",
        help="function code dirs whose imports must resolve",
    )
    parser.add_argument("--max-zipped-mb", type=float, default=8.0, help="zipped size budget, MB (1e6 B)")
    args = parser.parse_args(argv)
    try:
        report = check_layer(
            args.layer_dir,
            arch=args.arch,
            max_zipped_bytes=int(args.max_zipped_mb * 1e6),
            code_dirs=args.code,
        )
    except FileNotFoundError as exc:
        sys.stderr.write(f"check_layer: {exc}\n")
        return 1
    out = sys.stdout
    out.write(
        f"layer {args.layer_dir}: {report.files} files, {report.elf_files} ELF objects ({args.arch}), "
        f"imports of auth_core + {len(args.code)} code dir(s) checked, "
        f"{report.unzipped_bytes / 1e6:.2f} MB unzipped, {report.zipped_bytes / 1e6:.2f} MB zipped "
        f"(budget {args.max_zipped_mb:.2f} MB)\n"
    )
    for problem in report.problems:
        out.write(f"  FAIL {problem}\n")
    out.write("layer OK\n" if report.ok else f"layer check failed: {len(report.problems)} problem(s)\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
