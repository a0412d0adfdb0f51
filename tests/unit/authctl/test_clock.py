"""authctl writes cut-offs on AWS's time: the offset from a response's ``Date`` header."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from authctl.clock import aws_clock, offset_from

NOW = 1_800_000_000.0


def test_no_correction_within_the_headers_resolution() -> None:
    assert offset_from(formatdate(NOW, usegmt=True), NOW - 0.2, NOW + 0.2) == 0.0
    assert offset_from(None, NOW, NOW) == 0.0
    assert offset_from("not a date", NOW, NOW) == 0.0


def test_a_slow_laptop_is_corrected() -> None:
    # AWS says NOW (+0.5 for the floored second); the laptop thinks it is 40 s earlier
    offset = offset_from(formatdate(NOW, usegmt=True), NOW - 40.1, NOW - 39.9)
    assert 40.0 < offset < 41.0


class FakeDynamo:
    def __init__(self, date: str | None, fail: bool = False) -> None:
        self.date, self.fail = date, fail

    def describe_table(self, **_: Any) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("denied")
        return {"ResponseMetadata": {"HTTPHeaders": {"date": self.date} if self.date else {}}}


def test_aws_clock_shifts_and_warns(monkeypatch) -> None:
    import time

    warnings: list[str] = []
    monkeypatch.setattr(time, "time", lambda: NOW - 40)
    clock = aws_clock(FakeDynamo(formatdate(NOW, usegmt=True)), "t", warn=warnings.append)
    assert abs(clock() - (NOW + 0.5)) < 0.01
    assert warnings and "40" in warnings[0]


def test_aws_clock_falls_back_to_the_local_clock(monkeypatch) -> None:
    import time

    assert aws_clock(FakeDynamo(None, fail=True), "t") is time.time
    assert aws_clock(FakeDynamo(None), "t") is time.time
