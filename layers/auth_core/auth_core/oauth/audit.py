"""Security events reported by the core: one protocol, one no-op, one Powertools adapter.

The core never imports Powertools (cold start, testability); it calls ``audit.record(...)``
and the handler passes an adapter that writes a structured log line and an EMF metric.
Fields passed here are identifiers only (family id, client id, reason); never a token, a hash or
a password -- and the logger's redaction filter is a second line of defence.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Audit", "NullAudit", "PowertoolsAudit", "RecordingAudit"]


class Audit(Protocol):
    def record(self, event: str, **fields: Any) -> None:
        """Report ``event`` (a metric name, e.g. ``RefreshTokenReuse``) with identifying fields."""


class NullAudit:
    def record(self, event: str, **fields: Any) -> None:
        return None


class RecordingAudit:
    """Keeps events in memory (tests, the benchmark)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def record(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


#: events that are security incidents, logged at WARNING.
SECURITY_EVENTS = frozenset({"RefreshTokenReuse", "RefreshClientMismatch", "LoginThrottled"})


class PowertoolsAudit:
    """Log line (INFO, or WARNING for security incidents) plus a ``Count`` metric per event."""

    def __init__(self, logger: Any, metrics: Any | None = None) -> None:
        self._logger = logger
        self._metrics = metrics

    def record(self, event: str, **fields: Any) -> None:
        log = self._logger.warning if event in SECURITY_EVENTS else self._logger.info
        log(event, extra={"event": event, **fields})
        if self._metrics is not None:
            from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415 - lazy

            self._metrics.add_metric(name=event, unit=MetricUnit.Count, value=1)
