"""``bench/bench_authorizer.py`` runs end to end and reports every row the README quotes (a smoke
run on a few calls: its figures are printed for people, never asserted as times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def test_the_authorizer_bench_runs_as_lambda_calls_it_and_reports_each_row() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_authorizer.py"),
            "--json",
            "--rounds",
            "2",
            "--batch",
            "4",
            "--cold",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    warm = report["warm_us"]
    for row in (
        "ours, first sight",
        "ours, repeated",
        "ours, first sight, LogLevel WARN (no line)",
        "ours, repeated, LogLevel WARN (no line)",
        "ours, first sight, stdout a drained pipe",
        "reference",
        "floor",
        "ablation: handler, claims given",
        "ablation: handler + bare RSA",
        "old design, first sight",
    ):
        assert warm[row] > 0, row
    assert set(report["cold"]) >= {
        "ours, default: lean keys + lean DynamoDB",
        "reference (boto3 + PyJWT + Powertools)",
        "first request after restore, primed",
    }
    assert "repeated <= 5 us" in report["targets"]
