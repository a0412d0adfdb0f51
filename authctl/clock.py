"""The operator's clock, corrected to AWS's: cut-offs and feed timestamps must not depend on a laptop.

``authctl`` writes revocation cut-offs (``not_before``) and revocation-feed entries
(``changed_ms``) with its own clock. A laptop a few seconds slow would write a cut-off *before*
the tokens it is meant to end, and one tens of seconds slow would write feed entries that warm
verifiers (which re-read a 30 s overlap) do not see until their next full reload. So before any
such write, :func:`aws_clock` asks DynamoDB once for its time (the ``Date`` header of a cheap
call, whole seconds) and returns a clock shifted by the measured offset. The correction is only
applied beyond the header's resolution (1 s); the remaining error is absorbed by the cut-off's
margin (``auth_core.oauth.revocation.CUTOFF_MARGIN_MS``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["aws_clock", "offset_from"]

#: Below this the header's whole-second resolution cannot tell: no correction.
_RESOLUTION = 1.0
#: Beyond this the operator is told to fix the machine's clock.
_WARN = 2.0


def offset_from(date_header: str | None, sent: float, received: float) -> float:
    """Seconds to add to the local clock so it reads AWS's time (0 when unknown or within 1 s)."""
    if not date_header:
        return 0.0
    try:
        server = parsedate_to_datetime(date_header).timestamp() + 0.5  # the header is floored
    except (TypeError, ValueError):
        return 0.0
    offset = server - (sent + received) / 2
    return offset if abs(offset) > _RESOLUTION else 0.0


def aws_clock(ddb: Any, table: str, *, warn: Callable[[str], None] | None = None) -> Callable[[], float]:
    """``time.time`` corrected by DynamoDB's ``Date`` for ``DescribeTable(table)`` (one call).

    Any failure of that call leaves the local clock as it is (the write that follows will fail
    on its own if DynamoDB is unreachable).
    """
    sent = time.time()
    try:
        response = ddb.describe_table(TableName=table)
    except Exception:  # noqa: BLE001 - only an estimate; the real call reports the real error
        return time.time
    received = time.time()
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    offset = offset_from(headers.get("date"), sent, received)
    if abs(offset) > _WARN:
        (warn or _stderr)(
            f"warning: this machine's clock is {offset:+.1f} s off AWS's; authctl corrects for it, "
            "but fix the clock (NTP)"
        )
    if not offset:
        return time.time
    return lambda: time.time() + offset


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
