#!/usr/bin/env python3
"""Import every built function from exactly what Lambda would give it: its code and the layer.

The real layer is aarch64 and cannot be loaded on an x86_64 build machine, so ``make template``
also builds a host-architecture twin of it with the same Makefile (same pins, same trimming, same
byte-code) and imports each ``.aws-sam/build/<Function>/app.py`` against it in a fresh, isolated
interpreter: no site-packages (``-I -S``), so a dependency that only the test virtualenv has, or
a module-level ``import boto3`` (a cold-start regression), fails here instead of in Lambda.

Prints each function's import time (cold, byte-code from the layer). Exit status 1 on any failure.

Usage: ``scripts/smoke_layer.py LAYER_SITE_DIR FUNCTION_DIR [FUNCTION_DIR ...]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ImportResult", "import_function", "main"]

#: Runs in the child: only the function dir and the layer on sys.path, like /var/task and /opt/python.
_CHILD = """
import json, sys, time
sys.path[:0] = [{code!r}, {site!r}]
t = time.perf_counter()
import app
elapsed = (time.perf_counter() - t) * 1000
handler = getattr(app, "lambda_handler", None)
sdk = sorted(m for m in ("boto3", "botocore") if m in sys.modules)
print(json.dumps({{"ms": elapsed, "handler": callable(handler), "sdk": sdk}}))
"""


@dataclass(frozen=True)
class ImportResult:
    """What importing one function's ``app`` did."""

    ms: float
    handler: bool
    sdk: tuple[str, ...]


def import_function(code_dir: Path, site: Path, python: str = sys.executable) -> ImportResult:
    """Import ``code_dir/app.py`` in an isolated interpreter.

    :raises RuntimeError: the import failed (message: the child's last stderr line).
    """
    child = _CHILD.format(code=str(code_dir.resolve()), site=str(site.resolve()))
    env = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "LANG": "C.UTF-8"}
    command = [python, "-I", "-S", "-B", "-c", child]
    proc = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        command, capture_output=True, text=True, env=env, check=False, timeout=60
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no output)"]
        raise RuntimeError(lines[-1])
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return ImportResult(ms=float(doc["ms"]), handler=bool(doc["handler"]), sdk=tuple(doc["sdk"]))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("site", type=Path, help="the host-architecture layer's python/ directory")
    parser.add_argument("functions", type=Path, nargs="+", help="built function code directories")
    parser.add_argument("--python", default=sys.executable, help="interpreter (the runtime's version)")
    args = parser.parse_args(argv)
    out = sys.stdout
    failures = 0
    for code_dir in args.functions:
        try:
            result = import_function(code_dir, args.site, args.python)
        except RuntimeError as exc:
            failures += 1
            out.write(f"  FAIL {code_dir.name}: {exc}\n")
            continue
        problems = []
        if not result.handler:
            problems.append("no callable lambda_handler")
        if result.sdk:
            problems.append(f"imports {', '.join(result.sdk)} at module level (cold start)")
        failures += bool(problems)
        line = f"import {result.ms:.0f} ms"
        out.write(f"  {'FAIL' if problems else 'ok  '} {code_dir.name}: {'; '.join([line, *problems])}\n")
    out.write("import smoke OK\n" if not failures else f"import smoke failed: {failures} function(s)\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
