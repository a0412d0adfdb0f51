"""Every event format API Gateway sends to a Lambda authorizer, read defensively.

=================  ==========================================  ===========================
format             recognised by                               token read from
=================  ==========================================  ===========================
REST ``TOKEN``     ``type == "TOKEN"``                         ``authorizationToken``
REST ``REQUEST``   ``type == "REQUEST"``, no ``version``       ``headers`` / ``multiValueHeaders``
HTTP payload 1.0   ``version == "1.0"``                        ``headers`` / ``multiValueHeaders``
HTTP payload 2.0   ``version == "2.0"``, ``type == "REQUEST"``  ``headers`` (lower-cased)
=================  ==========================================  ===========================

The token only ever comes from the identity header (``IDENTITY_HEADER``, matched
case-insensitively): never from the query string, a cookie, or the comma-joined
``identitySource`` copies, which are ambiguous (RFC 6750 §2.3 discourages URI tokens, and a
cookie would make the API CSRF-able). Two headers of that name, a multi-value list, or a
comma-joined value are refused rather than guessed at (docs/threat-model.md T-HTTP-10).

An event is untrusted input: anything unexpected raises :class:`~auth_core.errors.TokenError`
with reason ``malformed_event`` (so it ends as a 401, never a 500).

:func:`api_request_ids` reads API Gateway's own ids of the request (``requestContext.requestId``,
and ``extendedRequestId`` where the event has one: REST and payload 1.0), which the decision line
carries so it joins with the API's access log. REST ``TOKEN`` events have no request context.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, NamedTuple

from auth_core.authorizer.routes import ExecuteApiArn
from auth_core.errors import TokenError

__all__ = [
    "MAX_REQUEST_ID_LENGTH",
    "AuthorizerRequest",
    "EventFormat",
    "api_request_ids",
    "detect_format",
    "parse_event",
    "single_header",
]

#: Longer ``requestId`` values are not API Gateway's (its ids are < 64 characters): not logged.
MAX_REQUEST_ID_LENGTH = 128


class EventFormat(enum.Enum):
    REST_TOKEN = "rest_token"
    REST_REQUEST = "rest_request"
    HTTP_V1 = "http_v1"
    HTTP_V2 = "http_v2"


class AuthorizerRequest(NamedTuple):
    """What the authorizer needs from an event, and nothing else (no header dump).

    A named tuple: it is built on every request, and a frozen dataclass costs ~1 µs more.
    """

    format: EventFormat
    arn: ExecuteApiArn
    credentials: object  # the raw identity header value; never logged
    route_key: str | None = None
    domain_name: str | None = None


def _malformed(what: str) -> TokenError:
    return TokenError(what, reason="malformed_event")


def detect_format(event: object) -> EventFormat:
    """Tell the four formats apart.

    :raises TokenError: ``malformed_event`` for anything else.
    """
    # ``type is dict`` first: the runtime always hands a dict, and an ABC ``isinstance`` costs more.
    if type(event) is not dict and not isinstance(event, Mapping):
        raise _malformed("event is not an object")
    version = event.get("version")
    kind = event.get("type")
    if version == "2.0" and kind == "REQUEST":
        return EventFormat.HTTP_V2
    if version == "1.0" and kind == "REQUEST":
        return EventFormat.HTTP_V1
    if version is None and kind == "TOKEN":
        return EventFormat.REST_TOKEN
    if version is None and kind == "REQUEST":
        return EventFormat.REST_REQUEST
    raise _malformed("unknown authorizer event format")


def _values(mapping: Mapping[Any, Any], name: str) -> list[Any]:
    """The values of every key of ``mapping`` that lower-cases to ``name`` (keys that are not
    text never match).

    The usual case takes one C-level pass instead of a Python loop over every header: each key
    that lower-cases to an ASCII ``name`` leaves one occurrence of ``name`` in the lower-cased
    join of all keys (lower-casing maps characters one by one), so no occurrence means no such
    key, and one occurrence with ``name`` itself a key means that key alone. Anything else
    (a non-text key, several occurrences, another spelling) takes the exact scan.
    """
    if name.isascii():
        try:
            hits = "\n".join(mapping).lower().count(name)
        except TypeError:  # a key that is not text
            hits = -1
        if hits == 0:
            return []
        if hits == 1 and name in mapping:
            return [mapping[name]]
    return [v for k, v in mapping.items() if isinstance(k, str) and k.lower() == name]


def _header(event: Mapping[str, Any], name: str) -> object:
    """The single value of header ``name`` (lower-case), or ``None`` when absent.

    :raises TokenError: ``duplicate_header`` when the header occurs more than once.
    """
    found: list[object] = []
    headers = event.get("headers")
    if headers is not None:
        if type(headers) is not dict and not isinstance(headers, Mapping):  # dict: no ABC check
            raise _malformed("headers is not an object")
        found = _values(headers, name)
    multi = event.get("multiValueHeaders")
    if multi is not None:
        if type(multi) is not dict and not isinstance(multi, Mapping):
            raise _malformed("multiValueHeaders is not an object")
        for values in _values(multi, name):
            if not isinstance(values, list) or len(values) != 1:
                raise TokenError("identity header repeated", reason="duplicate_header")
            if values[0] not in found:
                found.append(values[0])
    if len(found) > 1:
        raise TokenError("identity header repeated", reason="duplicate_header")
    value = found[0] if found else None
    if isinstance(value, str) and "," in value:
        # Payload 2.0 joins repeated headers with commas; b64token has no comma anyway.
        raise TokenError("identity header repeated", reason="duplicate_header")
    return value


def single_header(event: Mapping[str, Any], name: str) -> object:
    """The one value of header ``name`` (lower-case) in any event format with headers, or
    ``None``; the identity header's rules (a repeated or comma-joined header is refused).

    :raises TokenError: ``duplicate_header`` or ``malformed_event``.
    """
    return _header(event, name)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _request_id(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID_LENGTH else None


def api_request_ids(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """API Gateway's ``(requestId, extendedRequestId)`` of the request; ``None`` where absent.

    Untrusted like the rest of the event: anything but a short non-empty string is ``None``
    (never an error: a log field must not change a decision).
    """
    ctx = event.get("requestContext")
    if type(ctx) is not dict and not isinstance(ctx, Mapping):
        return None, None
    return _request_id(ctx.get("requestId")), _request_id(ctx.get("extendedRequestId"))


def parse_event(event: Mapping[str, Any], fmt: EventFormat, identity_header: str) -> AuthorizerRequest:
    """Extract credentials, route ARN, route key and domain from an event of format ``fmt``.

    :raises TokenError: ``malformed_event`` or ``duplicate_header``.
    """
    if fmt is EventFormat.REST_TOKEN:  # first: it needs nothing from the request context
        return AuthorizerRequest(
            fmt, ExecuteApiArn.parse(event.get("methodArn")), event.get("authorizationToken")
        )
    ctx = event.get("requestContext")
    ctx = ctx if type(ctx) is dict or isinstance(ctx, Mapping) else {}
    domain = _text(ctx.get("domainName"))
    if fmt is EventFormat.HTTP_V2:
        arn = ExecuteApiArn.parse(event.get("routeArn"))
        route_key = _text(event.get("routeKey")) or _text(ctx.get("routeKey"))
        return AuthorizerRequest(fmt, arn, _header(event, identity_header), route_key, domain)
    # REST REQUEST and HTTP payload 1.0 share a shape.
    arn = ExecuteApiArn.parse(event.get("methodArn"))
    method, resource = _text(event.get("httpMethod")), _text(event.get("resource"))
    route_key = f"{method} {resource}" if method and resource else _text(ctx.get("routeKey"))
    return AuthorizerRequest(fmt, arn, _header(event, identity_header), route_key, domain)
