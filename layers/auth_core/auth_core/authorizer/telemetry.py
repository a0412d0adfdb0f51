"""One JSON line per authorizer decision, carrying its own CloudWatch metric (EMF).

Why not Powertools Logger and Metrics here: the authorizer sits in front of every request, and
``from aws_lambda_powertools import Logger, Metrics`` costs ~120 ms of cold start (measured in
the README) for what is one ``json.dumps`` per invocation. This writer emits the same core
fields as Powertools Logger (``level``, ``message``, ``timestamp``, ``service``, ``cold_start``,
``function_request_id``) and an Embedded Metric Format block, so CloudWatch turns the line into
a metric without any API call: a dimension-free count (only the ``service`` dimension, as
Powertools does) named after the decision, with the ``reason`` as a searchable property.

What never gets here: the token, header values, or claims before the signature verified. The
fields are chosen by the caller, and ``json.dumps`` escapes control characters (no forged log
lines from a ``sub`` with a newline, CWE-117). :meth:`DecisionLog.emit` applies the functions'
log rule to its fields (:func:`auth_core.redaction.redact`): a record such as ``IssuedToken`` or
``AccessTokenClaims`` is written by its ``repr`` (not as an array of every field, the token or
the raw claims among them), a credential-named field as ``***``, at any depth.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

from auth_core.redaction import redact
from auth_core.settings import LOG_LEVELS

__all__ = ["DecisionLog", "quote", "quote_value"]

#: The timestamp's milliseconds and zone, preformatted (a ``:03d`` format per line costs more
#: than the rest of the timestamp).
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1000))

#: One encoder for every line: ``json.dumps(..., separators=...)`` builds a new encoder per call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode


class DecisionLog:
    """Writes decision lines to ``stream`` (stdout in Lambda, which CloudWatch Logs collects).

    :param service: the ``service`` field and metric dimension.
    :param namespace: EMF namespace; default ``POWERTOOLS_METRICS_NAMESPACE`` or ``ServerlessJwtAuth``.
    """

    def __init__(
        self,
        service: str = "authorizer",
        *,
        namespace: str | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
        level: str = "INFO",
    ) -> None:
        self.service = service
        #: lines of a lower level are not written (``Settings.log_level``; their metric neither)
        self._threshold = LOG_LEVELS[level]
        self.namespace = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessJwtAuth"
        self._stream = stream
        self._clock = clock
        #: written on every line; the authorizer engine clears it when its first invocation ends
        self.cold_start = True
        self._stamp_second = -1
        self._stamp = ""
        self._emf: dict[str, str] = {}
        self._lines: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._service = _ENCODE(service)

    def emit(self, level: str, message: str, metric: str, request_id: str | None, **fields: Any) -> None:
        """Write one line: the standard fields, ``fields`` (redacted as the functions' logs are:
        records by their ``repr``, credential-named values as ``***``), and a count of 1 for
        ``metric``."""
        if LOG_LEVELS[level] < self._threshold:
            return
        fields.pop("_aws", None)
        fields.pop(metric, None)
        self.emit_members(level, message, metric, request_id, _ENCODE(redact(fields))[1:-1] if fields else "")

    def emit_members(
        self, level: str, message: str, metric: str, request_id: str | None, members: str
    ) -> None:
        """Like :meth:`emit` with the extra fields already encoded as JSON members (``"k":v,...``):
        no redaction here, the caller encodes only what may be logged.

        The hot path: an authorizer writes one line per request, and encoding a dict costs more
        than verifying a cached token, so callers pre-encode what does not change per request.
        """
        self.emit_prepared(self.prepare(level, message, metric), request_id, members)

    def prepare(self, level: str, message: str, metric: str) -> tuple[str, str] | None:
        """Everything constant for this kind of line, serialised once: the head up to the
        timestamp and the EMF tail (memoised; hand the result to :meth:`emit_prepared`).
        ``None`` when ``level`` is below the log level: such lines are not written."""
        if LOG_LEVELS[level] < self._threshold:
            return None
        key = (level, message, metric)
        parts = self._lines.get(key)
        if parts is None:
            head = _ENCODE({"level": level, "message": message})[:-1] + ',"timestamp":"'
            parts = (head, self._metric_tail(metric))
            if len(self._lines) < 64:
                self._lines[key] = parts
        return parts

    def emit_prepared(self, prepared: tuple[str, str] | None, request_id: str | None, members: str) -> None:
        """Write one line of a kind :meth:`prepare` returned: only the timestamp, the request
        id and ``members`` are formatted here (the authorizer keeps ``prepared`` per decision).
        Nothing for ``None`` (a level below the log level)."""
        if prepared is None:
            return
        now = self._clock()
        millis = int(now * 1000)
        second = millis // 1000
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        rid = f',"function_request_id":{quote_value(str(request_id))}' if request_id else ""
        cold = "true" if self.cold_start else "false"
        (self._stream or sys.stdout).write(
            f'{prepared[0]}{self._stamp}{_MILLIS[millis - second * 1000]}","service":{self._service},'
            f'"cold_start":{cold}{rid}{"," if members else ""}{members},'
            f'"_aws":{{"Timestamp":{millis},{prepared[1]}\n'
        )

    def _metric_tail(self, metric: str) -> str:
        """``"CloudWatchMetrics":[...]},"<metric>":1}`` -- constant per metric, serialised once."""
        tail = self._emf.get(metric)
        if tail is None:
            directive = [
                {
                    "Namespace": self.namespace,
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": metric, "Unit": "Count"}],
                }
            ]
            tail = f'"CloudWatchMetrics":{_ENCODE(directive)}}},{_ENCODE(metric)}:1}}'
            self._emf[metric] = tail
        return tail


_QUOTED: dict[str, str] = {}

#: ``value`` as a JSON string literal, not memoised: for per-request values (sub, jti, request id).
quote_value: Callable[[str], str] = encode_basestring_ascii


def quote(value: str) -> str:
    """``value`` as a JSON string literal; the few constant strings of a line are memoised.

    ``encode_basestring_ascii`` is exactly what ``JSONEncoder.encode`` does for a ``str`` (with
    ``ensure_ascii``), minus a Python-level call: control characters, quotes and non-ASCII are
    escaped, so a value can never break out of its string (CWE-117).
    """
    found = _QUOTED.get(value)
    if found is None:
        found = encode_basestring_ascii(value)
        if len(_QUOTED) < 256:
            _QUOTED[value] = found
    return found
