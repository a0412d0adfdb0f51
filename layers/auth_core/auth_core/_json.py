"""Strict JSON for JOSE headers, claims sets and key documents (RFC 8259, RFC 7515 §10.12).

Python's :mod:`json` accepts things a token verifier must refuse: ``NaN``/``Infinity`` (a token
with ``"exp": NaN`` never expires), ``1e309`` (becomes ``inf``), duplicate member names (last
wins: a parser differential), UTF-16/32 and a BOM when given bytes, lone surrogate escapes
(``"\\ud800"`` crashes later, when the string is encoded for a log line or a DynamoDB write),
and nesting deep enough to raise :class:`RecursionError`. :func:`loads_object` refuses all of
them with :class:`ValueError`, and nothing else escapes it.

Speed matters (this runs twice per authorizer call), so the decoder is built once and the
expensive checks (nesting scan, surrogate walk) run only when a cheap test says they might
be needed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "dumps_compact", "loads_object"]

#: Maximum nesting of arrays/objects in a header or claims set. Ours use 2.
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    strict=True,  # no raw control characters inside strings
)
#: The C scanner (with the hooks above), exactly what ``JSONDecoder.decode`` calls.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
#: RFC 8259 §2 insignificant whitespace (what ``json.decoder.WHITESPACE`` matches).
_JSON_WHITESPACE = " \t\n\r"
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _check_depth(text: str) -> None:
    """Reject nesting deeper than :data:`MAX_DEPTH` without recursing.

    Brackets inside strings do not count, so strings are blanked first. Only called when the
    text contains more brackets than the limit, i.e. never for a normal token.
    """
    depth = 0
    for char in _BRACKETS.findall(_STRING.sub('""', text)):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError("JSON nested too deeply")
        else:
            depth -= 1


def _check_strings(value: Any) -> None:
    """Walk ``value`` and reject any string (key or value) that is not valid Unicode text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads_object(data: bytes) -> dict[str, Any]:
    """Parse ``data`` as strict UTF-8 JSON whose top level is an object.

    :raises ValueError: invalid UTF-8, a BOM, invalid or non-standard JSON, trailing data,
        duplicate member names, non-finite numbers, integers over the interpreter's digit
        limit, nesting deeper than :data:`MAX_DEPTH`, lone surrogates, or a non-object.
    """
    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError; no UTF-16/32 sniffing
    if text[:1] != "{":  # also rules out a BOM and leading whitespace
        raise ValueError("JSON text is not an object")
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(text)
    # The C scanner directly: ``JSONDecoder.decode`` adds two Python frames and two whitespace
    # regex matches around this very call (~0.5 µs, a fifth of the parse). What it adds is
    # repeated here: "Expecting value" for a StopIteration, and only JSON whitespace may trail.
    try:
        obj, end = _SCAN(text, 0)
    except StopIteration as exc:
        raise ValueError("JSON value expected") from exc
    except RecursionError as exc:  # belt and braces: the depth scan should have caught it
        raise ValueError("JSON nested too deeply") from exc
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        raise ValueError("extra data after the JSON text")
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None:
        _check_strings(obj)
    if type(obj) is not dict:  # pragma: no cover - the leading "{" guarantees an object
        raise ValueError("JSON text is not an object")
    return obj


def dumps_compact(value: Any) -> bytes:
    """Serialise ``value`` as compact UTF-8 JSON (no NaN, no ASCII escaping of text).

    :raises ValueError: a non-finite float or a lone surrogate.
    :raises TypeError: a value JSON cannot represent.
    """
    return _ENCODER.encode(value).encode("utf-8")
