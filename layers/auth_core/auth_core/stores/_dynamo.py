"""DynamoDB plumbing shared by the stores: attribute codecs and one place that maps failures.

The stores use the low-level client (``auth_core.aws.client("dynamodb")``) rather than the
resource API: it is cheaper to import and every call spells out its wire format, which is what
a reviewer needs to see on a security-relevant table. Conditional failures are *expected*
outcomes (a lost race, a revoked family), so they come back as return values; anything else
(throttling, network) becomes :class:`~auth_core.errors.StoreUnavailableError` (503) chained to the cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from auth_core import aws
from auth_core.errors import StoreUnavailableError

__all__ = [
    "Item",
    "as_bool",
    "as_int",
    "as_opt_int",
    "as_str",
    "as_strs",
    "dynamodb",
    "put_or_conflict",
    "run",
    "transact_or_reasons",
    "v_bool",
    "v_int",
    "v_str",
    "v_strs",
]

Item = dict[str, Any]


def dynamodb(injected: Any | None) -> Any:
    """The injected client, else the shared lazy one (resolved per call so tests can swap it)."""
    return injected if injected is not None else aws.client("dynamodb")


class TableStore:
    """A store over one DynamoDB table: its name, an optional injected client, a wall clock."""

    def __init__(
        self, table: str, *, client: Any | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    @property
    def ddb(self) -> Any:
        """The injected client, else the shared lazy one (see :func:`dynamodb`)."""
        return dynamodb(self._client)


# --------------------------------------------------------------------------- encoders
def v_str(value: str) -> dict[str, str]:
    return {"S": value}


def v_int(value: int) -> dict[str, str]:
    return {"N": str(int(value))}


def v_bool(value: bool) -> dict[str, bool]:
    return {"BOOL": bool(value)}


def v_strs(values: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """A list of strings as ``L`` (unlike ``SS`` it may be empty and keeps order)."""
    return {"L": [{"S": v} for v in values]}


# --------------------------------------------------------------------------- decoders
def as_str(item: Mapping[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    return value["S"] if isinstance(value, Mapping) and "S" in value else default


def as_int(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    found = as_opt_int(item, name)
    return default if found is None else found


def as_opt_int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if isinstance(value, Mapping) and "N" in value:
        return int(value["N"])
    return None


def as_bool(item: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value["BOOL"]) if isinstance(value, Mapping) and "BOOL" in value else default


def as_strs(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    if isinstance(value, Mapping):
        if "L" in value:
            return tuple(v["S"] for v in value["L"] if isinstance(v, Mapping) and "S" in v)
        if "SS" in value:
            return tuple(sorted(value["SS"]))
    return ()


# --------------------------------------------------------------------------- calls
def _failures(ddb: Any) -> tuple[type[BaseException], ...]:
    """The exceptions that mean "this call failed" for ``ddb``.

    The boto3-free client (``auth_core.aws_json.DynamoDB``, the authorizer's) names its own in
    ``errors``; for boto3 they are botocore's, imported only then (boto is lazy).
    """
    own = getattr(type(ddb), "errors", None)
    if isinstance(own, tuple):
        return own
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto is lazy

    return (ClientError, BotoCoreError)


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)  # aws_json.AwsServiceError
    if isinstance(code, str) and code:
        return code
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
        return str(code) if code else None
    return None


def run(ddb: Any, operation: str, **kwargs: Any) -> Any:
    """Call ``ddb.<operation>(**kwargs)``; infrastructure failures become a 503.

    :raises StoreUnavailableError: throttling, network or service errors (chained).
    """
    try:
        return getattr(ddb, operation)(**kwargs)
    except _failures(ddb) as exc:
        raise StoreUnavailableError(reason="store_unavailable") from exc


def put_or_conflict(ddb: Any, operation: str, **kwargs: Any) -> Any | None:
    """Like :func:`run` for a conditional write; ``None`` when the condition failed.

    :raises StoreUnavailableError: on any other failure.
    """
    try:
        return getattr(ddb, operation)(**kwargs)
    except _failures(ddb) as exc:
        if _error_code(exc) == "ConditionalCheckFailedException":
            return None
        raise StoreUnavailableError(reason="store_unavailable") from exc


#: The cancellation codes that are answers about the items; any other code is a failure.
_VERDICTS = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict"})


def transact_or_reasons(ddb: Any, items: list[Item]) -> list[str] | None:
    """Run ``TransactWriteItems``; ``None`` on success, else one cancellation code per item.

    A ``TransactionConflict`` (another transaction touched the same item) is reported like a
    failed condition: the caller re-reads and decides, exactly as after losing a race.

    :raises StoreUnavailableError: on failures other than a cancelled transaction, and on a
        cancellation any of whose codes is not one of :data:`_VERDICTS` (e.g. throttling).
    """
    try:
        ddb.transact_write_items(TransactItems=items)
    except _failures(ddb) as exc:
        if _error_code(exc) != "TransactionCanceledException":
            raise StoreUnavailableError(reason="store_unavailable") from exc
        reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
        codes = [str((r or {}).get("Code") or "None") for r in reasons]
        if not _VERDICTS.issuperset(codes):
            # Throttling, capacity, validation: DynamoDB said nothing about the items' state, so
            # no caller may read a verdict into it ("redeemed first", "family ended"...).
            raise StoreUnavailableError(reason="store_unavailable") from exc
        return codes + ["None"] * (len(items) - len(codes))
    return None
