"""What the service costs on AWS, from figures measured here and AWS's published prices.

Measured (in this process, the real handlers over in-process moto ``mock_aws``, as
``bench/bench_oauth.py`` runs them): for each operation -- an authorized API request (the
authorizer invoked on a token it has not seen, and on one it has), a browser login through the
hosted pages (``GET /authorize``, ``POST /authorize``, ``POST /token`` with the code), a
password-grant login, a refresh, a client_credentials (M2M) token -- the median handler time,
every AWS call it makes (``botocore``'s ``_make_api_call`` wrapped: operation, parameters,
answer, time spent in it), the DynamoDB request units those calls consume (item sizes read
from the items themselves, secondary-index writes included), and the bytes it logs (stdout:
Powertools JSON lines and EMF metrics, as Lambda ships them to CloudWatch Logs). Each
function's memory is read from ``template.yaml`` (``MemorySize``, else ``Globals``).

Mapped to Lambda (this machine is x86 and not Lambda; nothing here was measured on AWS):

* CPU time = handler time minus time inside AWS calls (moto's in-process emulation), scaled by
  ``1769 / MemorySize`` for functions below 1,769 MB (Lambda gives one vCPU at 1,769 MB and a
  proportional share below; a single-threaded handler runs that much slower) and by
  ``--core-ratio`` (a Graviton core's speed relative to one core here: 1.0, not measured);
* plus ``--aws-call-ms`` (default 5 ms, an assumption: DynamoDB's "single-digit milliseconds")
  for every AWS call, unscaled (network wait);
* billed duration = that, rounded up to the next millisecond (Lambda's 1 ms granularity);
* cold starts: the handler's import time in a fresh interpreter here, scaled the same way,
  billed on ``--cold-share`` of invocations (INIT is billed since 1 August 2025; AWS puts cold
  starts under 1 % of invocations).

Prices: :data:`PRICES` (us-east-1, on-demand, no free tier), each with the page it comes from, the
page it was read on and the date. Cognito's plans price the same workloads for comparison.

    .venv/bin/python bench/cost_model.py [--runs 15] [--hit-rate R] [--core-ratio R] [--aws-call-ms MS]
        [--cold-share S] [--markdown]

``--markdown`` prints the README's tables. Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
READ_ON = "2026-12-07"
#: Lambda gives a function one full vCPU at this much memory, a proportional share below.
FULL_VCPU_MB = 1769
GIB = 1024**3
MONTH_SECONDS = 30 * 24 * 3600


# ----------------------------------------------------------------------------- prices
@dataclass(frozen=True)
class Price:
    """One published price: ``value`` dollars per ``unit``."""

    value: float
    unit: str
    page: str  #: AWS's pricing page
    read: str  #: where the figure was read (the page itself, or who transcribed it)
    #: "AWS page, transcribed <date>" (a verbatim copy of the page's figures), "third-party page"
    #: (the figure as another site states it, not seen on AWS's page) or "unverified" (not found)
    status: str


_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_DDB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
_SM = "https://aws.amazon.com/secrets-manager/pricing/"
_APIGW = "https://aws.amazon.com/api-gateway/pricing/"
_CW = "https://aws.amazon.com/cloudwatch/pricing/"
_COGNITO = "https://aws.amazon.com/cognito/pricing/"
#: a verbatim transcription of the AWS page's figures (its worked examples), read there 2026-09-20
_COGNITO_COPY = (
    "https://raw.githubusercontent.com/api-evangelist/amazon-cognito/refs/heads/main/plans/"
    "amazon-cognito-plans-pricing.yml"
)

#: us-east-1, read on READ_ON through the search tool (docs and pages corpora).
PRICES: dict[str, Price] = {
    "lambda_gb_second": Price(
        0.0000133334,
        "GB-second, arm64 (first 7.5 billion GB-s a month)",
        _LAMBDA,
        "https://cloudchipr.com/blog/aws-lambda-pricing",
        "third-party page",
    ),
    "lambda_request": Price(
        0.20 / 1e6, "request", _LAMBDA, "https://cloudchipr.com/blog/aws-lambda-pricing", "third-party page"
    ),
    "dynamodb_write_unit": Price(
        0.625 / 1e6,
        "write request unit, on-demand",
        _DDB,
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
        "third-party page",
    ),
    "dynamodb_read_unit": Price(
        0.125 / 1e6,
        "read request unit, on-demand",
        _DDB,
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
        "third-party page",
    ),
    "secret_month": Price(
        0.40,
        "secret per month",
        _SM,
        "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        "third-party page",
    ),
    "secrets_api_call": Price(
        0.05 / 10_000,
        "API call",
        _SM,
        "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        "third-party page",
    ),
    "http_api_request": Price(
        1.00 / 1e6,
        "HTTP API request (first 300 million a month; metered per 512 KB)",
        _APIGW,
        "https://amnic.com/blogs/aws-api-gateway-pricing",
        "third-party page",
    ),
    "log_ingestion_gb": Price(
        0.50,
        "GB ingested, CloudWatch Logs Standard (Lambda logs: first 10 TB tier)",
        _CW,
        "https://www.duckbillgroup.com/?p=9080",
        "third-party page",
    ),
    "custom_metric_month": Price(
        0.30,
        "custom metric per month (first 10,000; each name and dimension values is one)",
        _CW,
        "https://c3x.dev/blog/aws-cloudwatch-metrics-cost/",
        "third-party page",
    ),
    "cognito_essentials_mau": Price(
        0.015,
        "MAU above 10,000 free, Essentials",
        _COGNITO,
        _COGNITO_COPY,
        "AWS page, transcribed 2026-09-20",
    ),
    "cognito_plus_mau": Price(
        0.020, "MAU (no free tier), Plus", _COGNITO, _COGNITO_COPY, "AWS page, transcribed 2026-09-20"
    ),
    "cognito_lite_mau_100k": Price(
        0.0055, "MAU 10,001-100,000, Lite", _COGNITO, _COGNITO_COPY, "AWS page, transcribed 2026-09-20"
    ),
    "cognito_lite_mau_1m": Price(
        0.0046, "MAU 100,001-1,000,000, Lite", _COGNITO, _COGNITO_COPY, "AWS page, transcribed 2026-09-20"
    ),
    "cognito_lite_mau_10m": Price(
        0.00325, "MAU 1,000,001-10,000,000, Lite", _COGNITO, "not found", "unverified"
    ),
    "cognito_m2m_client_month": Price(
        6.00,
        "M2M app client per month",
        _COGNITO,
        "https://www.rhythmictech.com/blog/the-aws-cognito-m2m-bill-has-come-due-what-you-need-to-know/",
        "third-party page",
    ),
    "cognito_m2m_token": Price(
        2.25 / 1000,
        "M2M token request (first tier)",
        _COGNITO,
        "https://cur.vantage-api.com/aws/amazoncognito/user-pools-m2m/cupm2mtokenrequestsfull",
        "third-party page",
    ),
}
COGNITO_FREE_MAU = 10_000  # Lite and Essentials; Plus has none


def price(name: str, prices: Mapping[str, Price] | None = None) -> float:
    return (prices or PRICES)[name].value


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation as measured here."""

    function: str  #: logical id in template.yaml
    memory_mb: int
    handler_ms: float  #: median wall time of the handler here
    aws_ms: float  #: of which inside AWS calls (moto, in-process)
    aws_calls: int
    init_ms: float = 0.0  #: the handler's import in a fresh interpreter here


@dataclass(frozen=True)
class LambdaMapping:
    """How a duration measured here becomes Lambda's billed milliseconds."""

    core_ratio: float = 1.0  #: a Graviton core's speed over one core here (not measured)
    aws_call_ms: float = 5.0  #: assumed wall time of one AWS call from Lambda
    cold_share: float = 0.01  #: share of invocations that start an environment


def cpu_scale(memory_mb: int, mapping: LambdaMapping) -> float:
    """How much slower single-threaded CPU work runs at ``memory_mb`` than on one core here."""
    return max(1.0, FULL_VCPU_MB / memory_mb) / mapping.core_ratio


def lambda_ms(inv: Invocation, mapping: LambdaMapping) -> float:
    """Estimated Lambda duration of ``inv`` (not yet rounded)."""
    cpu = max(0.0, inv.handler_ms - inv.aws_ms)
    return cpu * cpu_scale(inv.memory_mb, mapping) + inv.aws_calls * mapping.aws_call_ms


def billed_ms(duration_ms: float) -> int:
    """Lambda bills every invocation in whole milliseconds, rounded up, at least 1."""
    return max(1, math.ceil(duration_ms - 1e-9))


def invocation_dollars(
    inv: Invocation, mapping: LambdaMapping, prices: Mapping[str, Price] | None = None
) -> float:
    """Lambda's charge for one invocation: the request, its billed GB-s, its share of INIT."""
    gb = inv.memory_mb / 1024
    run = billed_ms(lambda_ms(inv, mapping)) / 1000 * gb
    init = mapping.cold_share * billed_ms(inv.init_ms * cpu_scale(inv.memory_mb, mapping)) / 1000 * gb
    return price("lambda_request", prices) + (run + init) * price("lambda_gb_second", prices)


@dataclass(frozen=True)
class Operation:
    """What one operation consumes: invocations, HTTP API requests, request units, log bytes."""

    name: str
    invocations: tuple[Invocation, ...]
    http_requests: int
    read_units: float
    write_units: float
    secrets_calls: float
    log_bytes: float
    calls: tuple[str, ...] = ()  #: the AWS calls, for the reader

    def dollars(self, mapping: LambdaMapping, prices: Mapping[str, Price] | None = None) -> dict[str, float]:
        """Dollars per operation, per service."""
        return {
            "Lambda": sum(invocation_dollars(i, mapping, prices) for i in self.invocations),
            "DynamoDB": self.read_units * price("dynamodb_read_unit", prices)
            + self.write_units * price("dynamodb_write_unit", prices),
            "Secrets Manager": self.secrets_calls * price("secrets_api_call", prices),
            "CloudWatch": self.log_bytes / GIB * price("log_ingestion_gb", prices),
            "API Gateway": self.http_requests * price("http_api_request", prices),
        }


SERVICES = ("Lambda", "DynamoDB", "Secrets Manager", "CloudWatch", "API Gateway")


def scaled(costs: Mapping[str, float], factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in costs.items()}


def authorized_request(
    invoked: Mapping[str, float], request: Mapping[str, float], hit_rate: float, access_log: float
) -> dict[str, float]:
    """Dollars per authorized request when API Gateway's result cache answers ``hit_rate`` of
    them: ``invoked`` is an authorizer invocation's cost (the cache missed), ``request`` what
    every request costs anyway (its HTTP API request), ``access_log`` its access-log line."""
    out = {k: (1 - hit_rate) * v for k, v in invoked.items()}
    for k, v in request.items():
        out[k] = out.get(k, 0.0) + v
    out["CloudWatch"] = out.get("CloudWatch", 0.0) + access_log
    return out


@dataclass(frozen=True)
class Usage:
    """A month of one monthly active user (the stated assumptions)."""

    logins: float = 4  #: browser sign-ins (hosted pages)
    active_hours: float = 10  #: hours with the app open: a refresh every access-token lifetime
    api_requests: float = 500  #: authorized API requests
    access_token_ttl: int = 900  #: read from template.yaml (AccessTokenTtl)

    @property
    def refreshes(self) -> float:
        return self.active_hours * 3600 / self.access_token_ttl


def cognito_user_pool(maus: int, plan: str, prices: Mapping[str, Price] | None = None) -> float:
    """Cognito's monthly charge for ``maus`` monthly active users on ``plan``."""
    if plan == "Plus":
        return maus * price("cognito_plus_mau", prices)
    if plan == "Essentials":
        return max(0, maus - COGNITO_FREE_MAU) * price("cognito_essentials_mau", prices)
    if plan != "Lite":
        raise ValueError(f"unknown Cognito plan {plan!r}")
    bands = (
        (COGNITO_FREE_MAU, 0.0),
        (100_000, price("cognito_lite_mau_100k", prices)),
        (1_000_000, price("cognito_lite_mau_1m", prices)),
        (10_000_000, price("cognito_lite_mau_10m", prices)),
    )
    total, floor = 0.0, 0
    for ceiling, rate in bands:
        total += max(0, min(maus, ceiling) - floor) * rate
        floor = ceiling
    if maus > floor:
        raise ValueError("beyond 10 million MAUs: not modelled")
    return total


def cognito_m2m(clients: int, tokens: float, prices: Mapping[str, Price] | None = None) -> float:
    """Cognito's monthly M2M charge: app clients and token requests (first tier)."""
    return clients * price("cognito_m2m_client_month", prices) + tokens * price("cognito_m2m_token", prices)


def fixed_monthly(
    secrets: int,
    feed_queries: float,
    feed_read_units: float,
    jwks_reads: float,
    metrics: int = 0,
    prices: Mapping[str, Price] | None = None,
) -> dict[str, float]:
    """What the stack costs a month whatever the traffic does (secrets, the custom metrics its
    EMF lines create) plus its background reads: revocation-feed queries and public-key reloads
    of warm environments."""
    return {
        "Secrets Manager": secrets * price("secret_month", prices)
        + jwks_reads * price("secrets_api_call", prices),
        "DynamoDB": feed_queries * feed_read_units * price("dynamodb_read_unit", prices),
        "CloudWatch": metrics * price("custom_metric_month", prices),
    }


def emf_metrics(logged: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The custom metrics the EMF lines in ``logged`` create: one per namespace, metric name
    and dimension values (what CloudWatch bills a month for)."""
    found: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    for line in logged.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        doc = json.loads(line)
        for directive in doc["_aws"].get("CloudWatchMetrics", []):
            for dims in directive.get("Dimensions") or [[]]:
                values = tuple((d, str(doc.get(d))) for d in dims)
                for metric in directive.get("Metrics", []):
                    found.add((directive["Namespace"], metric["Name"], values))
    return found


def background_reads(invocations: float, environments: float, interval_s: float) -> float:
    """A warm environment reads at most once per ``interval_s`` (and only when invoked): the
    reads a month, at most one per invocation."""
    return min(invocations, environments * MONTH_SECONDS / interval_s)


def environments(invocations: float, duration_ms: float, peak_factor: float = 3.0) -> int:
    """Warm environments a function keeps: its peak concurrency (``peak_factor`` times the
    average rate, times the duration), at least one."""
    rate = invocations / MONTH_SECONDS
    return max(1, math.ceil(rate * peak_factor * duration_ms / 1000))


# ----------------------------------------------------------------------------- template
def template_figures(path: Path = TEMPLATE) -> dict[str, Any]:
    """Each function's MemorySize and the parameters the model reads, from ``template.yaml``."""
    from auth_core.settings import Settings
    from local_stack.cfn import load_template

    template = load_template(path)
    default = int(template.globals.get("Function", {}).get("MemorySize", 128))
    memory = {
        name: int((res.get("Properties") or {}).get("MemorySize", default))
        for name, res in template.of_type("AWS::Serverless::Function").items()
    }
    params = template.parameters
    return {
        "memory": memory,
        "access_token_ttl": int(params["AccessTokenTtl"]["Default"]),
        "authorizer_ttl": int(params["AuthorizerResultTtl"]["Default"]),
        "feed_interval": int(params["RevocationFeedInterval"]["Default"]),
        "key_cache_ttl": Settings._field_defaults["key_cache_ttl"],  # KEY_CACHE_TTL: not a template parameter
        "secrets": len(template.of_type("AWS::SecretsManager::Secret")),
        "log_level": str(params["LogLevel"]["Default"]),
        "access_log_format": template.resources["HttpApi"]["Properties"]["AccessLogSettings"]["Format"],
    }


def access_log_bytes(fmt: str) -> int:
    """One access-log line of the template's format with typical values (an estimate)."""
    sample = {
        "requestId": "JKJaXmPLvHcESHA=",
        "identity.sourceIp": "203.0.113.7",
        "requestTime": "07/Dec/2026:16:29:51 +0000",
        "routeKey": "POST /token",
        "status": "200",
        "responseLength": "1187",
        "integrationLatency": "25",
        "authorizer.latency": "3",
        "authorizer.error": "-",
    }
    line = fmt
    for key in sorted(sample, key=len, reverse=True):
        line = line.replace(f"$context.{key}", sample[key])
    return len(line.encode()) + 1


# ----------------------------------------------------------------------------- measuring
def _item_size(item: Mapping[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values (numbers approximated)."""

    def value(v: Mapping[str, Any]) -> int:
        ((kind, raw),) = v.items()
        if kind == "S":
            return len(raw.encode())
        if kind == "N":
            return (len(raw.lstrip("-").replace(".", "")) + 1) // 2 + 1
        if kind == "B":
            return len(raw)
        if kind in ("BOOL", "NULL"):
            return 1
        if kind in ("SS", "NS", "BS"):
            return sum(value({kind[0]: x}) for x in raw)
        if kind == "L":
            return 3 + sum(1 + value(x) for x in raw)
        if kind == "M":
            return 3 + sum(len(k.encode()) + 1 + value(x) for k, x in raw.items())
        return len(json.dumps(raw))

    return sum(len(name.encode()) + value(v) for name, v in item.items())


def _read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def _write_units(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 1024))
    return 2.0 * units if transactional else float(units)


@dataclass
class Recorder:
    """Wraps ``botocore``'s ``BaseClient._make_api_call``: every AWS call, its time, and the
    DynamoDB request units it consumes (pre- and post-images read around each write, unrecorded,
    for item sizes and secondary-index writes)."""

    calls: list[str] = field(default_factory=list)
    background: list[str] = field(default_factory=list)
    seconds: float = 0.0
    read_units: float = 0.0
    write_units: float = 0.0
    secrets_calls: int = 0
    _tables: dict[str, Any] = field(default_factory=dict)
    _busy: bool = False

    def reset(self) -> None:
        self.calls.clear()
        self.seconds = self.read_units = self.write_units = 0.0
        self.secrets_calls = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        recorder = self

        def wrapped(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if recorder._busy:
                return original(client, operation, params)
            recorder._busy = True
            try:
                return recorder._record(client, operation, params, original)
            finally:
                recorder._busy = False

        BaseClient._make_api_call = wrapped
        try:
            yield
        finally:
            BaseClient._make_api_call = original

    def _record(self, client: Any, operation: str, params: dict[str, Any], call: Callable[..., Any]) -> Any:
        # All of it is time in AWS calls (moto), the unrecorded image reads included: none of it
        # is the handler's CPU.
        t0 = time.perf_counter()
        try:
            return self._call(client, operation, params, call)
        finally:
            self.seconds += time.perf_counter() - t0

    def _call(self, client: Any, operation: str, params: dict[str, Any], call: Callable[..., Any]) -> Any:
        service = client.meta.service_model.endpoint_prefix
        writes = self._write_targets(operation, params) if service == "dynamodb" else []
        before = [self._image(client, call, table, key) for table, key, _ in writes]
        answer = call(client, operation, params)
        if self._background(service, operation, params):
            self.background.append(f"{service}:{operation}")
            return answer
        self.calls.append(f"{service}:{operation}")
        if service == "secretsmanager":
            self.secrets_calls += 1
        if service == "dynamodb":
            self._reads(operation, params, answer)
            for (table, key, transactional), old in zip(writes, before, strict=True):
                new = self._image(client, call, table, key)
                self.write_units += self._written(client, call, table, old, new, transactional)
        return answer

    @staticmethod
    def _background(service: str, operation: str, params: Mapping[str, Any]) -> bool:
        """A warm environment's periodic read, not the operation's: the revocation feed (a
        Query of the ``Feed`` index every REVOCATION_FEED_INTERVAL) and the key sets (every
        KEY_CACHE_TTL). Priced per month by :func:`monthly`, whatever the operations."""
        if service == "secretsmanager":
            return operation == "GetSecretValue"
        return operation == "Query" and params.get("IndexName") == "Feed"

    def _reads(self, operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            self.read_units += _read_units(_item_size(answer.get("Item") or {}), consistent)
        elif operation in ("Query", "Scan"):
            total = sum(_item_size(i) for i in answer.get("Items", []))
            self.read_units += _read_units(total, consistent)
        elif operation == "BatchGetItem":
            for table, keys in params["RequestItems"].items():
                found = answer.get("Responses", {}).get(table, [])
                sizes = [_item_size(i) for i in found] + [0] * (len(keys["Keys"]) - len(found))
                self.read_units += sum(_read_units(s, keys.get("ConsistentRead", False)) for s in sizes)
        elif operation == "TransactGetItems":
            for got in answer.get("Responses", []):
                self.read_units += _read_units(_item_size(got.get("Item") or {}), True, transactional=True)

    @staticmethod
    def _write_targets(operation: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(params["TableName"], params.get("Key") or params["Item"], False)]
        if operation == "TransactWriteItems":
            out = []
            for item in params["TransactItems"]:
                ((_kind, body),) = item.items()
                out.append((body["TableName"], body.get("Key") or body["Item"], True))
            return out
        if operation == "BatchWriteItem":
            out = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    ((_kind, body),) = request.items()
                    out.append((table, body.get("Key") or body["Item"], False))
            return out
        return []

    def _schema(self, client: Any, call: Callable[..., Any], table: str) -> Any:
        if table not in self._tables:
            self._tables[table] = call(client, "DescribeTable", {"TableName": table})["Table"]
        return self._tables[table]

    def _image(self, client: Any, call: Callable[..., Any], table: str, item: Mapping[str, Any]) -> Any:
        names = [k["AttributeName"] for k in self._schema(client, call, table)["KeySchema"]]
        key = {n: item[n] for n in names}
        got = call(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True})
        return got.get("Item")

    def _written(
        self, client: Any, call: Callable[..., Any], table: str, old: Any, new: Any, transactional: bool
    ) -> float:
        """Units of one written item: the larger image, plus each secondary index it changes.
        A transaction's ConditionCheck is priced as a transactional write (conservative)."""
        size = max(_item_size(old or {}), _item_size(new or {}))
        units = _write_units(size, transactional)
        for index in self._schema(client, call, table).get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in index["KeySchema"]]
            in_old = old is not None and all(k in old for k in keys)
            in_new = new is not None and all(k in new for k in keys)
            if not (in_old or in_new) or old == new:
                continue
            key_changed = in_old and in_new and any(old[k] != new[k] for k in keys)
            if index["Projection"]["ProjectionType"] == "ALL" or key_changed or in_old != in_new:
                units += (2 if key_changed else 1) * _write_units(size)
        return units


class _Fields:
    """The named inputs of an HTML page's form."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        found: dict[str, str] = {}

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                named = dict(attrs)
                if tag == "input" and named.get("name"):
                    found[str(named["name"])] = named.get("value") or ""

        Parser().feed(html)
        self.fields = found


def _environment(log_level: str) -> None:
    """What the handlers read: the functional tests' stack (issuer, audience, table names), the
    sample events' route scopes, and the template's log level (Lambda hands its
    ``ApplicationLogLevel`` to Powertools as ``AWS_LAMBDA_LOG_LEVEL``)."""
    from tests.functional.oauth.conftest import AUD, ISS, TABLES

    os.environ.update(
        {
            **dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "testing"),
            **dict.fromkeys(("AWS_REGION", "AWS_DEFAULT_REGION"), "us-east-1"),
            **{setting.upper(): table for setting, (table, _key) in TABLES.items()},
            "ISSUER": ISS,
            "AUDIENCE": AUD,
            "SIGNING_KEYS_SECRET_ID": "jwt/signing-keys",
            "PUBLIC_JWKS_SECRET_ID": "jwt/public-jwks",
            "KEY_FETCH_STRATEGY": "sdk",
            "ROUTE_SCOPES": json.dumps({"GET /me": ["read"]}),
            "AUTHORIZER_RESPONSE_FORMAT": "iam",  # the template's (EnableSimpleResponses: false)
            "AWS_LAMBDA_LOG_LEVEL": log_level,
        }
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POWERTOOLS_LOG_LEVEL"):
        os.environ.pop(name, None)


HANDLERS = {
    "AuthorizerFunction": "functions.authorizer.app",
    "AuthorizeFunction": "functions.authorize.app",
    "IssueTokenFunction": "functions.issue_token.app",
    "RefreshTokenFunction": "functions.refresh_token.app",
}


def import_ms(module: str, samples: int = 3) -> float:
    """Median time to import ``module`` in a fresh interpreter here (a cold start's INIT)."""
    code = (
        "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; t = time.perf_counter(); "
        f"import {module}; print((time.perf_counter() - t) * 1000)"
    )
    times = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT / "layers" / "auth_core"), str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ.copy(),
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


@dataclass
class _Sample:
    handler_s: list[float] = field(default_factory=list)
    aws_s: list[float] = field(default_factory=list)


def measure(runs: int) -> tuple[dict[str, Operation], dict[str, Any]]:
    """Run each operation ``runs`` times through the real handlers over moto; the operations
    and the template figures they were priced with."""
    import warnings

    warnings.filterwarnings("ignore")
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "auth_core")]
    figures = template_figures()
    _environment(figures["log_level"])
    memory = figures["memory"]
    init = {name: import_ms(module) for name, module in HANDLERS.items()}

    from moto import mock_aws

    sink = io.StringIO()  # Lambda ships stdout to CloudWatch Logs: what lands here is billed
    recorder = Recorder()
    with mock_aws(), contextlib.redirect_stdout(sink), recorder.installed():
        from auth_core.passwords import PasswordHasher
        from tests.conftest import FakeLambdaContext, load_event
        from tests.functional.oauth.conftest import BACKEND_SECRET, CODE_FLOW_CB, PASSWORD, make_stack
        from tests.functional.oauth.helpers import sample_event
        from tests.hosted_fake import http_event

        stack = make_stack()
        hasher = PasswordHasher()  # production Argon2id
        users = [f"cost-user-{i}" for i in range(runs + 1)]
        for username in users:
            stack.add_user(username, hasher=hasher)
        stack.add_client()  # demo-spa: password + refresh (confidential)
        stack.add_client(
            "web",
            grants=("authorization_code", "refresh_token"),
            scopes=("openid", "read"),
            redirect_uris=(CODE_FLOW_CB,),
            first_party=True,
        )
        stack.add_client(
            "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",)
        )

        import functions.authorize.app as authorize
        import functions.authorizer.app as authorizer
        import functions.issue_token.app as issue
        import functions.refresh_token.app as refresh

        ctx = FakeLambdaContext()
        samples: dict[str, dict[str, _Sample]] = {}
        usage: dict[str, dict[str, Any]] = {}

        def invoke(op: str, function: str, module: Any, event: dict[str, Any]) -> dict[str, Any]:
            """One invocation of ``module``'s handler, recorded under ``op``."""
            calls0, aws0 = len(recorder.calls), recorder.seconds
            t0 = time.perf_counter()
            response = module.lambda_handler(event, ctx)
            elapsed = time.perf_counter() - t0
            sample = samples.setdefault(op, {}).setdefault(function, _Sample())
            sample.handler_s.append(elapsed)
            sample.aws_s.append(recorder.seconds - aws0)
            calls = usage.setdefault(op, {}).setdefault("calls", {})
            calls.setdefault(function, []).append(len(recorder.calls) - calls0)
            return dict(response)

        @contextlib.contextmanager
        def operation(op: str) -> Iterator[None]:
            """Count one run of ``op``: units, secrets calls, log bytes, the call list."""
            recorder.reset()
            start = sink.tell()
            yield
            seen = usage.setdefault(op, {})
            seen.setdefault("read", []).append(recorder.read_units)
            seen.setdefault("write", []).append(recorder.write_units)
            seen.setdefault("secrets", []).append(recorder.secrets_calls)
            seen.setdefault("log", []).append(sink.tell() - start)
            seen["call_list"] = tuple(recorder.calls)

        def ok(response: Mapping[str, Any], *expected: int) -> Mapping[str, Any]:
            if response.get("statusCode", 200) not in (expected or (200,)):
                raise RuntimeError(
                    f"unexpected response {response.get('statusCode')}: {response.get('body')}"
                )
            return response

        def hosted_login(username: str) -> dict[str, Any]:
            verifier = "v" * 64
            from auth_core.oauth import pkce

            query = (
                f"response_type=code&client_id=web&redirect_uri={CODE_FLOW_CB}&scope=openid+read"
                f"&state=st&nonce=n-1&code_challenge={pkce.challenge_of(verifier)}&code_challenge_method=S256"
            )
            from urllib.parse import parse_qs, urlencode, urlsplit

            page = ok(
                invoke("login", "AuthorizeFunction", authorize, http_event("GET", "/authorize", query=query))
            )
            jar = [c.split(";", 1)[0] for c in page.get("cookies") or []]
            fields = {**_Fields(page["body"]).fields, "username": username, "password": PASSWORD}
            done = ok(
                invoke(
                    "login",
                    "AuthorizeFunction",
                    authorize,
                    http_event("POST", "/authorize", body=urlencode(fields), cookies=jar),
                ),
                302,
            )
            code = parse_qs(urlsplit(done["headers"]["Location"]).query)["code"][0]
            body = urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": CODE_FLOW_CB,
                    "code_verifier": verifier,
                    "client_id": "web",
                }
            )
            token = ok(invoke("login", "IssueTokenFunction", issue, http_event("POST", "/token", body=body)))
            return dict(json.loads(token["body"]))

        authorizer_event = json.dumps(load_event("authorizer_http_v2_allow.json"))

        def authorize_event(token: str) -> dict[str, Any]:
            return dict(json.loads(authorizer_event.replace("{{access_token}}", token)))

        cc_event = sample_event(
            "issue_token_client_credentials.json", client_id="backend-svc", client_secret=BACKEND_SECRET
        )
        # warm every handler (imports, key fetch, client cache): a warm environment is measured
        hosted_login(users[-1])
        ok(invoke("warm", "IssueTokenFunction", issue, copy.deepcopy(cc_event)))
        samples.clear()
        usage.clear()
        repeated = ""
        for run in range(runs):
            with operation("login"):
                doc = hosted_login(users[run])
            with operation("password login"):
                event = sample_event("issue_token_password.json", username=users[run])
                pw = json.loads(ok(invoke("password login", "IssueTokenFunction", issue, event))["body"])
            with operation("refresh"):
                event = sample_event("refresh_token_rotate.json", refresh_token=pw["refresh_token"])
                ok(invoke("refresh", "RefreshTokenFunction", refresh, event))
            with operation("m2m token"):
                cc = json.loads(
                    ok(invoke("m2m token", "IssueTokenFunction", issue, copy.deepcopy(cc_event)))["body"]
                )
            token = doc["access_token"] if "read" in doc.get("scope", "read") else cc["access_token"]
            with operation("authorizer, first sight"):
                answer = invoke(
                    "authorizer, first sight", "AuthorizerFunction", authorizer, authorize_event(token)
                )
            repeated = repeated or token
            with operation("authorizer, repeated"):
                again = invoke(
                    "authorizer, repeated", "AuthorizerFunction", authorizer, authorize_event(repeated)
                )
            for got in (answer, again):
                if got.get("policyDocument", {}).get("Statement", [{}])[0].get("Effect") != "Allow":
                    raise RuntimeError(f"the authorizer refused a good token: {got}")

    def median(values: Sequence[float]) -> float:
        return float(statistics.median(values))

    http = {"login": 3, "password login": 1, "refresh": 1, "m2m token": 1}
    access_line = access_log_bytes(figures["access_log_format"])
    ops: dict[str, Operation] = {}
    for op, by_function in samples.items():
        seen = usage[op]
        invocations = []
        for function, sample in by_function.items():
            per_op = len(sample.handler_s) // runs  # invocations of this function per operation
            calls = seen["calls"][function]
            for i in range(per_op):
                handler = [sample.handler_s[j] for j in range(i, len(sample.handler_s), per_op)]
                aws = [sample.aws_s[j] for j in range(i, len(sample.aws_s), per_op)]
                n_calls = [calls[j] for j in range(i, len(calls), per_op)]
                invocations.append(
                    Invocation(
                        function,
                        memory[function],
                        handler_ms=median(handler) * 1000,
                        aws_ms=median(aws) * 1000,
                        aws_calls=round(median(n_calls)),
                        init_ms=init[function],
                    )
                )
        requests = http.get(op, 0)
        ops[op] = Operation(
            op,
            tuple(invocations),
            http_requests=requests,
            read_units=median(seen["read"]),
            write_units=median(seen["write"]),
            secrets_calls=median(seen["secrets"]),
            log_bytes=median(seen["log"]) + requests * access_line,
            calls=seen["call_list"],
        )
    figures["access_log_bytes"] = access_line
    figures["custom_metrics"] = sorted(emf_metrics(sink.getvalue()))
    figures["init_ms"] = init
    return ops, figures


# ----------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Assumptions:
    hit_rate: float = 0.76
    usage: Usage = Usage()
    m2m_clients: int = 10
    tiers: tuple[int, ...] = (10_000, 100_000, 1_000_000)


def derived_hit_rate(usage: Usage, authorizer_ttl: int) -> float:
    """The result cache's hit rate for :class:`Usage`'s requests spread evenly over the active
    hours: the cache (keyed on the Authorization header, ``AuthorizerResultTtl`` seconds) misses
    once per window in which a user makes a request; a refreshed token starts new windows, which
    changes nothing while the token lifetime is a multiple of the TTL (900 and 300 by default)."""
    if authorizer_ttl <= 0 or usage.api_requests <= 0:
        return 0.0
    per_hour = usage.api_requests / usage.active_hours
    misses = min(per_hour, 3600 / authorizer_ttl)
    return 1 - misses / per_hour


def per_unit_rows(
    ops: Mapping[str, Operation], mapping: LambdaMapping, a: Assumptions, access_line: int
) -> list[tuple[str, float, dict[str, float]]]:
    """(label, how many, dollars per service for that many) for the per-unit table."""
    first = ops["authorizer, first sight"].dollars(mapping)
    repeat = ops["authorizer, repeated"].dollars(mapping)
    invoked = {k: (first[k] + repeat[k]) / 2 for k in first}  # half first sight, half repeated
    invoked["API Gateway"] = 0.0  # the request is counted once, below
    request = dict.fromkeys(SERVICES, 0.0)
    request["API Gateway"] = price("http_api_request")
    log = access_line / GIB * price("log_ingestion_gb")
    million = 1_000_000
    return [
        (
            "authorized requests, no result cache",
            million,
            scaled(authorized_request(invoked, request, 0.0, log), million),
        ),
        (
            f"authorized requests, result cache hit rate {a.hit_rate:.0%}",
            million,
            scaled(authorized_request(invoked, request, a.hit_rate, log), million),
        ),
        ("browser logins (hosted pages + code exchange)", 1000, scaled(ops["login"].dollars(mapping), 1000)),
        ("password-grant logins", 1000, scaled(ops["password login"].dollars(mapping), 1000)),
        ("refreshes", 1000, scaled(ops["refresh"].dollars(mapping), 1000)),
        ("client_credentials tokens (M2M)", 1000, scaled(ops["m2m token"].dollars(mapping), 1000)),
    ]


def monthly(
    ops: Mapping[str, Operation],
    mapping: LambdaMapping,
    a: Assumptions,
    figures: Mapping[str, Any],
    maus: int,
) -> dict[str, float]:
    """One month at ``maus`` monthly active users: this service's dollars per service, the API
    Gateway requests of the protected API (paid with Cognito too), and Cognito's plans."""
    u = a.usage
    cached = per_unit_rows(ops, mapping, a, figures["access_log_bytes"])[1][2]
    api_requests = maus * u.api_requests
    total = dict.fromkeys(SERVICES, 0.0)
    for service, dollars in cached.items():
        total[service] += dollars / 1_000_000 * api_requests
    for op, count in (("login", u.logins), ("refresh", u.refreshes)):
        for service, dollars in ops[op].dollars(mapping).items():
            total[service] += dollars * count * maus
    # Background reads of warm environments: the revocation feed (every REVOCATION_FEED_INTERVAL,
    # a Query of the Feed index: 0.5 RRU when nothing changed) and the public keys (KEY_CACHE_TTL).
    feed = jwks = 0.0
    for calls, inv in (
        (api_requests * (1 - a.hit_rate), ops["authorizer, first sight"].invocations[0]),
        (maus * (u.logins + u.refreshes), ops["refresh"].invocations[0]),
    ):
        envs = environments(calls, lambda_ms(inv, mapping))
        feed += background_reads(calls, envs, figures["feed_interval"])
        jwks += background_reads(calls, envs, figures["key_cache_ttl"])
    fixed = fixed_monthly(figures["secrets"], feed, 0.5, jwks, len(figures["custom_metrics"]))
    for service, dollars in fixed.items():
        total[service] += dollars
    shared = price("http_api_request") * api_requests
    total["API Gateway"] -= shared
    out = {f"ours: {s}": v for s, v in total.items()}
    out["ours"] = sum(total.values())
    out["shared"] = shared
    for plan in ("Lite", "Essentials", "Plus"):
        out[f"Cognito {plan}"] = cognito_user_pool(maus, plan)
    return out


def m2m_month(
    ops: Mapping[str, Operation], mapping: LambdaMapping, a: Assumptions, ttl: int
) -> tuple[float, float, float]:
    """(tokens, ours, Cognito) for ``a.m2m_clients`` services each fetching a token per lifetime."""
    tokens = a.m2m_clients * MONTH_SECONDS / ttl
    ours = sum(ops["m2m token"].dollars(mapping).values()) * tokens
    return tokens, ours, cognito_m2m(a.m2m_clients, tokens)


def money(value: float) -> str:
    """Dollars with the precision the amount needs."""
    if value == 0:
        return "0"
    if abs(value) < 0.1:
        return f"{value:.2g}"
    if abs(value) < 100:
        return f"{value:.2f}"
    return f"{value:,.0f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool, left: int = 1) -> str:
    """Rows under headers: a Markdown table, or aligned text (the first ``left`` columns left)."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join("---" if i < left else "---:" for i in range(len(headers))) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def prices_table(*, markdown: bool) -> str:
    """Every price the model uses, with its AWS page, where it was read and how sure it is."""
    rows = [
        [name, f"{p.value:.10f}".rstrip("0").rstrip("."), p.unit, p.page, p.read, p.status]
        for name, p in PRICES.items()
    ]
    return table(("price", "USD", "per", "AWS page", "read at", "status"), rows, markdown=markdown, left=6)


def report(
    ops: Mapping[str, Operation],
    figures: Mapping[str, Any],
    mapping: LambdaMapping,
    a: Assumptions,
    *,
    markdown: bool,
    runs: int,
) -> str:
    out: list[str] = []
    bold = "**" if markdown else ""
    out.append(
        f"{bold}Measured here{bold} (medians of {runs} runs, real handlers over in-process moto; "
        f"'Lambda ms': CPU x 1769/MemorySize below 1,769 MB x 1/{mapping.core_ratio:g} core ratio, plus "
        f"{mapping.aws_call_ms:g} ms per AWS call; billed: rounded up to 1 ms; INIT on "
        f"{mapping.cold_share:.0%} of invocations)\n"
    )
    rows = []
    for op in ops.values():
        for inv in op.invocations:
            est = lambda_ms(inv, mapping)
            rows.append(
                [
                    op.name,
                    inv.function,
                    str(inv.memory_mb),
                    f"{inv.handler_ms:.1f}",
                    f"{inv.aws_ms:.1f}",
                    str(inv.aws_calls),
                    f"{est:.1f}",
                    str(billed_ms(est)),
                    f"{inv.init_ms:.0f}",
                ]
            )
    out.append(
        table(
            (
                "operation",
                "function",
                "MemorySize",
                "ms here",
                "of which AWS calls (moto)",
                "AWS calls",
                "Lambda ms",
                "billed ms",
                "INIT ms here",
            ),
            rows,
            markdown=markdown,
            left=2,
        )
    )
    out.append("")
    rows = []
    for op in ops.values():
        counts: dict[str, int] = {}
        for c in op.calls:
            counts[c] = counts.get(c, 0) + 1
        listed = ", ".join(f"{n}x {c}" for c, n in counts.items()) or "none"
        rows.append(
            [
                op.name,
                str(op.http_requests),
                f"{op.read_units:g}",
                f"{op.write_units:g}",
                f"{op.secrets_calls:g}",
                f"{op.log_bytes:.0f}",
                listed,
            ]
        )
    out.append(
        table(
            (
                "operation",
                "HTTP API requests",
                "DynamoDB RRU",
                "WRU",
                "Secrets Manager calls",
                "log bytes",
                "AWS calls (warm)",
            ),
            rows,
            markdown=markdown,
        )
    )
    out.append("")
    out.append(f"{bold}Dollars{bold} (us-east-1, on-demand, no free tier)\n")
    rows = [
        [f"{count:,} {label}", *(money(dollars[s]) for s in SERVICES), money(sum(dollars.values()))]
        for label, count, dollars in per_unit_rows(ops, mapping, a, figures["access_log_bytes"])
    ]
    out.append(table(("per", *SERVICES, "total"), rows, markdown=markdown))
    out.append("")
    u = a.usage
    out.append(
        f"{bold}A month{bold}, per MAU: {u.logins:g} browser logins, {u.refreshes:g} refreshes "
        f"({u.active_hours:g} active hours, one per {u.access_token_ttl} s access token), "
        f"{u.api_requests:g} API requests "
        f"({a.hit_rate:.0%} answered by the authorizer result cache); {a.m2m_clients} M2M services. "
        "'HTTP API (both)': the protected API's own requests, paid with Cognito too, not in either total.\n"
    )
    plans = ("Cognito Lite", "Cognito Essentials", "Cognito Plus")
    rows = []
    for maus in a.tiers:
        m = monthly(ops, mapping, a, figures, maus)
        rows.append(
            [
                f"{maus:,}",
                money(m["ours"]),
                *(money(m[f"ours: {s}"]) for s in SERVICES),
                *(money(m[p]) for p in plans),
                money(m["shared"]),
            ]
        )
    out.append(
        table(
            ("MAU", "this service", *(f"of which {s}" for s in SERVICES), *plans, "HTTP API (both)"),
            rows,
            markdown=markdown,
        )
    )
    metrics = len(figures["custom_metrics"])
    out.append("")
    out.append(
        f"Every month whatever the traffic: {figures['secrets']} secrets "
        f"(${money(figures['secrets'] * price('secret_month'))}), {metrics} custom metrics from the EMF "
        f"lines these flows emitted (${money(metrics * price('custom_metric_month'))}; refusals, throttling "
        "and errors add their own when they happen), and the warm environments' background reads (the "
        f"revocation feed every {figures['feed_interval']} s, the key sets every "
        f"{figures['key_cache_ttl']} s) "
        "in the DynamoDB and Secrets Manager columns."
    )
    tokens, ours, cognito = m2m_month(ops, mapping, a, figures["access_token_ttl"])
    out.append("")
    out.append(
        f"M2M: {a.m2m_clients} services, each a client_credentials token per {figures['access_token_ttl']} s "
        f"({tokens:,.0f} tokens a month): this service ${money(ours)}, Cognito ${money(cognito)} "
        f"({a.m2m_clients} app clients + tokens)."
    )
    out.append("")
    out.append(f"{bold}Prices{bold} (us-east-1, read {READ_ON})\n")
    out.append(prices_table(markdown=markdown))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--hit-rate", type=float, help="authorizer result cache hit rate (default: derived from the usage)"
    )
    parser.add_argument("--core-ratio", type=float, default=1.0, help="Graviton core speed / one core here")
    parser.add_argument("--aws-call-ms", type=float, default=5.0, help="assumed ms per AWS call from Lambda")
    parser.add_argument("--cold-share", type=float, default=0.01, help="share of invocations that cold-start")
    parser.add_argument("--markdown", action="store_true", help="print the README's tables")
    args = parser.parse_args()
    if args.hit_rate is not None and not 0 <= args.hit_rate < 1:
        parser.error("--hit-rate must be in [0, 1)")
    if args.runs < 1 or args.core_ratio <= 0 or args.aws_call_ms < 0 or not 0 <= args.cold_share <= 1:
        parser.error("--runs >= 1, --core-ratio > 0, --aws-call-ms >= 0, --cold-share in [0, 1]")
    ops, figures = measure(args.runs)
    mapping = LambdaMapping(
        core_ratio=args.core_ratio, aws_call_ms=args.aws_call_ms, cold_share=args.cold_share
    )
    usage = replace(Usage(), access_token_ttl=figures["access_token_ttl"])
    hit_rate = (
        args.hit_rate if args.hit_rate is not None else derived_hit_rate(usage, figures["authorizer_ttl"])
    )
    a = Assumptions(hit_rate=hit_rate, usage=usage)
    print(report(ops, figures, mapping, a, markdown=args.markdown, runs=args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
