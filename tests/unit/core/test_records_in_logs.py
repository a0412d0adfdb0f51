"""A record in a log line is shown by its ``repr``, as the dataclasses it replaced were.

``IssuedToken`` and ``AccessTokenClaims`` are ``typing.NamedTuple``s (the authorizer's cold
path). Their ``repr`` leaves out the token and the raw claims, but a tuple in ``extra=`` is
written by the JSON formatter as an array of its fields -- the token in clear. The functions'
loggers (:func:`auth_core.observability.get_logger`) must keep showing the ``repr``, and so must
the authorizer's own writer (:class:`auth_core.authorizer.telemetry.DecisionLog`), which shares
the rule without importing ``logging`` or Powertools.
"""

from __future__ import annotations

import io
import json
from types import MappingProxyType

from auth_core.authorizer.telemetry import DecisionLog
from auth_core.claims import AccessTokenClaims
from auth_core.observability import get_logger, redact
from auth_core.tokens import IssuedToken

TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
EMAIL = "alice@example.com"
ISSUED = IssuedToken(TOKEN, "jti-1", 100, 200, 100, ("read",))
CLAIMS = AccessTokenClaims(
    "alice", "web", ("read",), "jti-1", 100, 200, "https://auth.example.com", ("api",),
    raw=MappingProxyType({"sub": "alice", "email": EMAIL}),
)  # fmt: skip


def test_a_record_in_extra_is_logged_by_its_repr_not_its_fields() -> None:
    logger = get_logger("records-in-logs-test")
    out = io.StringIO()
    logger.registered_handler.setStream(out)
    logger.info("issued", extra={"issued": ISSUED, "nested": {"claims": CLAIMS, "list": [ISSUED]}})
    text = out.getvalue()
    assert TOKEN not in text and EMAIL not in text, text
    line = json.loads(text.strip().splitlines()[-1])
    assert line["issued"] == repr(ISSUED)
    assert line["nested"] == {"claims": repr(CLAIMS), "list": [repr(ISSUED)]}


def test_redact_shows_records_by_their_repr() -> None:
    assert redact({"a": ISSUED, "b": (1, 2)}) == {"a": repr(ISSUED), "b": [1, 2]}


def test_a_record_in_a_decision_line_is_written_by_its_repr_not_its_fields() -> None:
    out = io.StringIO()
    log = DecisionLog("records-in-logs-test", stream=out, clock=lambda: 1_800_000_000.0)
    log.emit(
        "INFO", "issued", "Issued", "req-1",
        issued=ISSUED, claims=CLAIMS, nested={"claims": CLAIMS, "list": [ISSUED, (1, 2)]},
    )  # fmt: skip
    text = out.getvalue()
    assert TOKEN not in text and EMAIL not in text, text
    line = json.loads(text)
    assert (line["issued"], line["claims"]) == (repr(ISSUED), repr(CLAIMS))
    assert line["nested"] == {"claims": repr(CLAIMS), "list": [repr(ISSUED), [1, 2]]}
    assert (line["function_request_id"], line["Issued"]) == ("req-1", 1)


def test_a_decision_line_redacts_credential_fields_as_the_functions_logs_do() -> None:
    out = io.StringIO()
    DecisionLog(stream=out).emit("INFO", "m", "M", None, access_token=TOKEN, detail={"Authorization": TOKEN})
    line = json.loads(out.getvalue())
    assert TOKEN not in out.getvalue()
    assert (line["access_token"], line["detail"]) == ("***", {"Authorization": "***"})


def test_credentials_inside_a_list_in_extra_are_redacted_too() -> None:
    """``extra={"items": [{"token": ...}]}``: the filter used to redact only top-level mappings and
    records, so a list of mappings went out in clear. Standard record attributes (``args``,
    ``exc_info``) stay as the formatter needs them."""
    logger = get_logger("records-in-logs-test")
    out = io.StringIO()
    logger.registered_handler.setStream(out)
    logger.info("listed %s", "x", extra={"items": [{"token": TOKEN}, ISSUED], "pair": ({"password": "pw1"},)})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed", extra={"items": [{"refresh_token": TOKEN}]})
    text = out.getvalue()
    assert TOKEN not in text and "pw1" not in text, text
    first, second = (json.loads(line) for line in text.strip().splitlines()[-2:])
    assert first["message"] == "listed x"
    assert first["items"] == [{"token": "***"}, repr(ISSUED)]
    assert "ValueError: boom" in second["exception"]
