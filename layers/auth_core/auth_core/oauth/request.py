"""Strict parsing of OAuth endpoint requests (API Gateway HTTP API payload 2.0).

Everything a client sends is untrusted and must end as either an :class:`OAuthRequest` or an
:class:`InvalidRequestError` -- never a 500. Rules (RFC 6749 §3.1, §3.2, §2.3.1):

* POST only (the resolver's routes do that); no query string at all (credentials in URLs end up
  in access logs; RFC 6749 §3.2 says the token endpoint takes its parameters in the body);
* body ``application/x-www-form-urlencoded`` (the RFC) or ``application/json`` (a convenience),
  base64 bodies decoded strictly, at most :data:`MAX_BODY` bytes, UTF-8 only;
* a parameter may appear once (§3.1: "MUST NOT be included more than once"); an empty value is
  treated as absent (§3.1); values are strings without control characters, bounded in length;
* HTTP Basic credentials are form-urlencoded id and secret (§2.3.1), decoded strictly.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from auth_core.errors import InvalidRequestError

__all__ = [
    "DPOP_HEADER",
    "MAX_BODY",
    "MAX_VALUE",
    "ClientCredentials",
    "OAuthRequest",
    "parse_query",
    "parse_request",
]

#: the RFC 9449 proof header (``OAuthRequest.headers`` are lower-cased)
DPOP_HEADER = "dpop"
#: Largest accepted body, after base64 decoding (an access token to revoke is < 8 KiB).
MAX_BODY = 16 * 1024
#: Longest accepted parameter value.
MAX_VALUE = 8 * 1024
#: At most this many parameters.
MAX_PARAMS = 32

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ClientCredentials:
    """What the request says about the client; ``method`` is ``basic``, ``post`` or ``none``."""

    client_id: str | None
    client_secret: str | None
    method: str


@dataclass(frozen=True)
class OAuthRequest:
    params: Mapping[str, str]
    client: ClientCredentials
    headers: Mapping[str, str] = field(default_factory=dict)
    #: the caller's address as API Gateway saw it (``requestContext.http.sourceIp``), if any
    source_ip: str | None = None
    #: the thumbprint of the key of a DPoP proof that passed every check (RFC 9449), else None
    dpop_jkt: str | None = None
    #: that proof's replay record (key, expiry), written once the client has authenticated
    dpop_replay: tuple[str, int] | None = None

    def get(self, name: str) -> str | None:
        return self.params.get(name)

    def require(self, name: str) -> str:
        """The value of a mandatory parameter.

        :raises InvalidRequestError: it is missing.
        """
        value = self.params.get(name)
        if value is None:
            raise InvalidRequestError(f"missing parameter: {name}", reason="missing_parameter")
        return value


def parse_request(event: Mapping[str, Any]) -> OAuthRequest:
    """Parse an HTTP API (payload 2.0) event into an :class:`OAuthRequest`.

    :raises InvalidRequestError: on anything malformed (see the module rules).
    """
    headers = _headers(event)
    if event.get("rawQueryString") or event.get("queryStringParameters"):
        raise InvalidRequestError("parameters must be sent in the request body", reason="query_string")
    body = _body(event)
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        pairs = _form(body)
    elif content_type == "application/json":
        pairs = _json(body)
    else:
        raise InvalidRequestError("unsupported content type", reason="content_type")
    params = _params(pairs)
    return OAuthRequest(
        params=params,
        client=_client(params, headers.get("authorization")),
        headers=headers,
        source_ip=_source_ip(event),
    )


def parse_query(event: Mapping[str, Any]) -> dict[str, str]:
    """The parameters of a ``GET`` endpoint's query string (``/authorize``, ``/logout``), by the
    rules of the module for a body: bounded, strict, each parameter once, empty means absent.

    ``rawQueryString`` and not ``queryStringParameters``: API Gateway joins a repeated
    parameter's values with commas there, which would hide the repetition.

    :raises InvalidRequestError: on anything malformed.
    """
    raw = event.get("rawQueryString") or ""
    if not isinstance(raw, str) or len(raw) > MAX_BODY:
        raise InvalidRequestError("query too large", reason="query_size")
    return _params(_form(raw)) if raw else {}


def _source_ip(event: Mapping[str, Any]) -> str | None:
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    found = http.get("sourceIp") if isinstance(http, Mapping) else None
    return found if isinstance(found, str) and 0 < len(found) <= 64 else None


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    raw = event.get("headers") or {}
    if not isinstance(raw, Mapping):
        raise InvalidRequestError(reason="headers")
    return {str(k).lower(): str(v) for k, v in raw.items() if isinstance(v, str)}


def _body(event: Mapping[str, Any]) -> str:
    raw = event.get("body")
    if raw is None or raw == "":
        raise InvalidRequestError("empty body", reason="empty_body")
    if not isinstance(raw, str) or len(raw) > MAX_BODY * 2:
        raise InvalidRequestError("body too large", reason="body_size")
    data: bytes
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequestError("malformed body", reason="body_base64") from exc
    else:
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidRequestError("malformed body", reason="body_encoding") from exc
    if len(data) > MAX_BODY:
        raise InvalidRequestError("body too large", reason="body_size")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("body is not UTF-8", reason="body_encoding") from exc


def _form(body: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMS,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError("malformed form body", reason="form") from exc


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidRequestError(reason="duplicate_key")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _json(body: str) -> list[tuple[str, str]]:
    try:
        doc = json.loads(body, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestError("malformed JSON body", reason="json") from exc
    except InvalidRequestError as exc:
        raise InvalidRequestError("parameters must not repeat", reason="duplicate_parameter") from exc
    if not isinstance(doc, dict) or len(doc) > MAX_PARAMS:
        raise InvalidRequestError("JSON body must be an object", reason="json_shape")
    pairs: list[tuple[str, str]] = []
    for key, value in doc.items():
        if not isinstance(value, str):
            raise InvalidRequestError("parameter values must be strings", reason="json_type")
        pairs.append((key, value))
    return pairs


def _params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            raise InvalidRequestError("parameters must not repeat", reason="duplicate_parameter")
        seen.add(key)
        if not 0 < len(key) <= 64 or len(value) > MAX_VALUE or _CONTROL.search(key + value):
            raise InvalidRequestError("malformed parameter", reason="parameter_format")
        _utf8(value)
        if value:  # RFC 6749 §3.1: a parameter without a value is treated as omitted
            params[key] = value
    return params


def _utf8(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from JSON \ud800 escapes
        raise InvalidRequestError("malformed parameter", reason="parameter_encoding") from exc


def _client(params: Mapping[str, str], authorization: str | None) -> ClientCredentials:
    body_id, body_secret = params.get("client_id"), params.get("client_secret")
    if authorization is None:
        if body_secret is not None:
            return ClientCredentials(body_id, body_secret, "post")
        return ClientCredentials(body_id, None, "none")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidRequestError("unsupported authentication scheme", reason="auth_scheme")
    if body_secret is not None:  # RFC 6749 §2.3: one authentication method per request
        raise InvalidRequestError("more than one client authentication method", reason="auth_twice")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError("malformed Basic credentials", reason="basic_format") from exc
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep:
        raise InvalidRequestError("malformed Basic credentials", reason="basic_format")
    try:
        client_id = unquote_plus(raw_id, errors="strict")
        secret = unquote_plus(raw_secret, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("malformed Basic credentials", reason="basic_format") from exc
    if not client_id or _CONTROL.search(client_id) or _CONTROL.search(secret) or len(secret) > MAX_VALUE:
        raise InvalidRequestError("malformed Basic credentials", reason="basic_format")
    if body_id is not None and body_id != client_id:
        raise InvalidRequestError("client_id does not match the Basic credentials", reason="auth_mismatch")
    return ClientCredentials(client_id, secret, "basic")
