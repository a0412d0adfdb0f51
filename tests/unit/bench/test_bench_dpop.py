"""``bench/bench_dpop.py`` runs and reports every part it claims to measure (a smoke run on a few
calls: its figures are printed for people, never asserted as times)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_dpop.py"


def test_the_dpop_bench_reports_its_cases_and_where_the_time_goes(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_dpop", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--rounds", "1", "--batch", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["us_per_call"]) == {"bearer, first sight", "DPoP, first sight", "DPoP, repeated token"}
    assert set(report["dpop_parts_us"]) == {"proof check", "proof signature", "replay records"}
    assert all(value > 0 for value in report["dpop_parts_us"].values())
