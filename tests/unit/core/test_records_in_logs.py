"""A record in a log line is shown by its ``repr``, as the dataclasses it replaced were.

``IssuedToken`` and ``AccessTokenClaims`` are ``typing.NamedTuple``s (the authorizer's cold
path). Their ``repr`` leaves out the token and the raw claims, but a tuple in ``extra=`` is
written by the JSON formatter as an array of its fields -- the token in clear. The functions'
loggers (:func:`auth_core.observability.get_logger`) must keep showing the ``repr``.
"""

from __future__ import annotations

import io
import json
from types import MappingProxyType

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
