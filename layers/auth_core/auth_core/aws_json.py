"""A lean client for AWS JSON-protocol APIs: ``http.client`` + our SigV4, no botocore.

Why: the authorizer fronts every request of the customer's API, and boto3 costs ~150 ms to
import and build one client on this machine (~250 ms measured in the cold-start benchmark, more
than the rest of the authorizer's cold start put together). The calls the authorizer makes
-- Secrets Manager ``GetSecretValue``, DynamoDB ``BatchGetItem`` / ``GetItem`` / ``Query`` -- are
plain JSON ``POST /`` requests with an ``X-Amz-Target`` header; this module makes them with the
standard library:
~20 ms to import (``http.client`` and its ``email`` parser) on top of the authorizer, plus
~18 ms for ``ssl.create_default_context()`` (the CA bundle) on the first HTTPS call, which
botocore pays too. End to end, a cold authorizer with revocation on is ~70 ms against ~240 ms
for the boto3 reference (``bench/bench_authorizer.py``; the README has the table).

What it does, deliberately small:

* credentials from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``,
  which Lambda always sets; :func:`env_credentials` returns ``None`` when they are absent, and
  callers then fall back to boto3 (profiles, SSO, IMDS are botocore's business);
* region from ``AWS_REGION`` / ``AWS_DEFAULT_REGION``; the endpoint botocore would pick
  (:mod:`auth_core._endpoints`: every partition, ``AWS_USE_FIPS_ENDPOINT``,
  ``AWS_USE_DUALSTACK_ENDPOINT``, ``AWS_ENDPOINT_URL_<SERVICE ID>`` / ``AWS_ENDPOINT_URL``,
  DynamoDB's account endpoints; compared with botocore's resolver by a test), or
  :class:`EndpointError` where botocore refuses the settings too. Plain ``http://`` only to a
  loopback host (127.0.0.0/8, ``::1``, ``localhost``: the local stack and moto); anywhere else the
  signed request and its session token would travel in clear, so the client refuses to be built
  (:class:`EndpointError`). The one exception is a developer opt-in for ``sam local`` in Docker
  (:data:`INSECURE_HOSTS_VARIABLE`), refused inside a real Lambda;
* one persistent keep-alive connection per client (a warm Lambda reuses it), connect timeout
  2 s, read timeout 5 s -- both capped by the invocation's remaining budget
  (:mod:`auth_core.deadline`), so a hung service fails with :class:`AwsDeadlineError` before
  Lambda would kill the function;
* at most 2 retries with full-jitter backoff, on throttling error types, HTTP 5xx and a dropped
  connection (a stale keep-alive socket), and only while the budget affords one more attempt;
  never on a timeout (the budget is spent) nor on 4xx errors such as ``ResourceNotFoundException``;
* fail closed: only HTTP 200 with a JSON object of the operation's shape is an answer. A 204, a
  redirect, an empty body or an object without ``Responses`` / ``Items`` / ``SecretString`` is
  :class:`MalformedResponseError` -- never read as "nothing there" (for the revocation lookup,
  "not revoked");
* errors become :class:`AwsServiceError` (``code`` from the JSON ``__type``, ``status``) or
  :class:`AwsTransportError` (and its subclasses). These are low-level exceptions like botocore's
  ``ClientError``: callers map them to ``KeyStoreUnavailableError`` / ``RevocationStoreError``
  with ``from exc``. None carries a response body, a credential or a secret value.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from auth_core import _endpoints, deadline
from auth_core._sigv4 import Credentials, SigV4Signer, amz_date

__all__ = [
    "AwsDeadlineError",
    "AwsJsonClient",
    "AwsJsonError",
    "AwsServiceError",
    "AwsTransportError",
    "DynamoDB",
    "EndpointError",
    "MalformedResponseError",
    "client",
    "env_credentials",
    "reset_clients",
]

#: ``__type`` values (after ``#``) that mean "slow down" on JSON-protocol services.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "TransactionInProgressException",
    }
)

#: service -> (``X-Amz-Target`` prefix, JSON protocol version). Only what we call.
SERVICES: dict[str, tuple[str, str]] = {
    "secretsmanager": ("secretsmanager", "1.1"),
    "dynamodb": ("DynamoDB_20120810", "1.0"),
}

#: REST-JSON services (a path per operation, a plain JSON body, no ``X-Amz-Target``): service ->
#: SigV4 signing name. Only what we call: SES v2 ``SendEmail`` (``POST /v2/email/outbound-emails``).
REST_SERVICES: dict[str, str] = {"sesv2": "ses"}

#: Seconds of budget below which an attempt is not started (nor a socket timeout set: a zero
#: timeout would make the socket non-blocking).
MIN_ATTEMPT = 0.05


class AwsJsonError(Exception):
    """Base of this client's low-level errors (always mapped by the caller)."""

    retryable = False


class AwsServiceError(AwsJsonError):
    """AWS answered an error. ``code`` is the ``__type`` short name, ``status`` the HTTP status."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"{code} (HTTP {status})")
        self.code = code
        self.status = status
        self.retryable = status >= 500 or code in THROTTLING_CODES


class AwsTransportError(AwsJsonError):
    """No usable answer: connection refused/reset, timeout, or a body that is not JSON."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AwsDeadlineError(AwsTransportError, deadline.Exceeded):
    """The invocation's budget (:mod:`auth_core.deadline`) is spent: no attempt was started, or
    the one in flight timed out at the deadline. Never retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class MalformedResponseError(AwsTransportError):
    """An answer that is not a well-formed success for the operation: a status other than 200
    below 400 (204, a redirect), a body that is not a JSON object, or one without the fields the
    operation must return. Never retried, never read as an empty success (fail closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class EndpointError(AwsJsonError, ValueError):
    """No endpoint, or a refused one: settings botocore refuses too (an invalid region, FIPS with
    DynamoDB local...), a URL that is not ``http(s)``, or plain ``http`` to a non-loopback host.
    Raised when the client is built, before any connection (a ``ValueError`` too: bad config)."""


def env_credentials(env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from the standard environment variables, or ``None`` when incomplete."""
    e = os.environ if env is None else env
    access, secret = e.get("AWS_ACCESS_KEY_ID"), e.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        return None
    return Credentials(access, secret, e.get("AWS_SESSION_TOKEN") or None)


def _region(env: Mapping[str, str]) -> str:
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise AwsTransportError("no AWS_REGION or AWS_DEFAULT_REGION", retryable=False)
    return region


def _octet(part: str) -> bool:
    """A canonical decimal octet: ``0``..``255``, no sign, no leading zero (``010`` is octal to
    some resolvers and a DNS name to others)."""
    return (
        0 < len(part) <= 3
        and part.isascii()
        and part.isdigit()
        and part == str(int(part))
        and int(part) <= 255
    )


#: Developer opt-in: comma-separated host names (exact, e.g. ``host.docker.internal``) that may
#: be reached over plain ``http://`` -- ``sam local invoke`` runs the functions in Docker, where
#: the moto server on the developer's machine is ``host.docker.internal``, not loopback. Refused
#: in a real Lambda (:func:`insecure_hosts`); ``events/env.json`` sets it, the template declares
#: it empty.
INSECURE_HOSTS_VARIABLE = "AUTH_ALLOW_INSECURE_ENDPOINT_HOSTS"


def in_real_lambda(env: Mapping[str, str]) -> bool:
    """Running in a Lambda that ``sam local`` did not start (it sets ``AWS_SAM_LOCAL=true``)?"""
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME")) and env.get("AWS_SAM_LOCAL") != "true"


def insecure_hosts(env: Mapping[str, str]) -> frozenset[str]:
    """The hosts :data:`INSECURE_HOSTS_VARIABLE` allows over plain ``http://`` (lower-cased);
    none in a real Lambda, whatever the variable says."""
    if in_real_lambda(env):
        return frozenset()
    names = (name.strip().lower() for name in env.get(INSECURE_HOSTS_VARIABLE, "").split(","))
    return frozenset(name for name in names if name)


def _refusal(host: str, env: Mapping[str, str]) -> str:
    """Why plain ``http://`` to ``host`` is refused (the opt-in named when it would apply)."""
    message = (
        f"plain http:// endpoints are allowed only to loopback (127.0.0.0/8, ::1, localhost), "
        f"not {host!r}: use https://"
    )
    if env.get(INSECURE_HOSTS_VARIABLE) and in_real_lambda(env):
        message += f" ({INSECURE_HOSTS_VARIABLE} is for sam local only and is refused in Lambda)"
    elif not env.get(INSECURE_HOSTS_VARIABLE):
        message += f", or for local development list the host in {INSECURE_HOSTS_VARIABLE}"
    return message


def is_loopback(host: str) -> bool:
    """Is ``host`` (a URL's hostname: lower-case, no brackets) a loopback name or address?

    Literal checks only, no DNS and no ``ipaddress`` import (cold start): ``localhost``, ``::1``
    and canonical dotted-quad ``127.x.y.z``. Anything else is not: ``127.0.0.1.example.com``,
    ``127.0.0.099`` (not an address, so a DNS name), ``2130706433``, ``::ffff:127.0.0.1``.
    """
    if host in {"localhost", "::1"}:
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(_octet(p) for p in parts)


def resolve_endpoint(
    service: str,
    region: str,
    env: Mapping[str, str] | None = None,
    arns: tuple[str, ...] = (),
) -> _endpoints.Endpoint:
    """The endpoint botocore would use for ``service`` in ``region`` under ``env`` (default
    ``os.environ``), and the region to sign for: see :mod:`auth_core._endpoints`.

    :param arns: DynamoDB: the request's table names (a table ARN may pick its account endpoint).
    :raises EndpointError: settings botocore refuses too.
    """
    e = os.environ if env is None else env
    try:
        found = _endpoints.resolve(service, _endpoints.settings(service, region, e), arns)
    except _endpoints.EndpointConfigError as exc:
        raise EndpointError(f"{service}: {exc}") from None
    return _endpoints.Endpoint(found.url.rstrip("/"), found.signing_region)


class AwsJsonClient:
    """Calls one JSON-protocol service over a persistent connection. Thread-safe (one lock).

    :param service: a key of :data:`SERVICES` (also the SigV4 signing name), called with
        :meth:`call`; or of :data:`REST_SERVICES`, called with :meth:`rest`.
    :param region: default from the environment.
    :param endpoint: default :func:`resolve_endpoint` (which may also pick the signing region:
        ``fips-`` pseudo regions, DynamoDB local); an explicit one is signed for ``region``.
    :param credentials: a provider; default :func:`env_credentials` read at each call (cheap,
        and correct if the runtime ever replaces them).
    :param max_retries: retries after the first attempt (bounded: 2 by default).
    :param sleep: injectable for tests; ``backoff_base`` seconds scale the jittered delay.
    """

    def __init__(
        self,
        service: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        credentials: Callable[[], Credentials | None] = env_credentials,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        max_retries: int = 2,
        backoff_base: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if service in SERVICES:
            self._target, version = SERVICES[service]
            self._content_type = f"application/x-amz-json-{version}"
            signing_name = service
        elif service in REST_SERVICES:
            self._target, self._content_type = "", "application/json"
            signing_name = REST_SERVICES[service]
        else:
            raise ValueError(f"unsupported service {service!r}")
        self.service = service
        self.region = region or _region(os.environ)
        signing_region = self.region
        if endpoint is None:
            endpoint, signing_region = resolve_endpoint(service, self.region)
        try:
            url = urlsplit(endpoint)
            port = url.port
        except ValueError:
            raise EndpointError("endpoint must be an http(s) URL") from None
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise EndpointError("endpoint must be an http(s) URL")
        if url.scheme == "http" and not (
            is_loopback(url.hostname) or url.hostname in insecure_hosts(os.environ)
        ):
            # The signed request carries the session token: in clear only to this machine
            # (or, by a developer's explicit choice outside Lambda, to the Docker host).
            raise EndpointError(_refusal(url.hostname, os.environ))
        self._https = url.scheme == "https"
        self._hostname = url.hostname
        self._port = port or (443 if self._https else 80)
        default_port = 443 if self._https else 80
        self._host_header = self._hostname if self._port == default_port else f"{self._hostname}:{self._port}"
        self._path = url.path or "/"
        self._signer = SigV4Signer(signing_name, signing_region)
        self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self.max_retries = max_retries
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        #: attempts made by the last :meth:`call` (tests and metrics).
        self.last_attempts = 0

    # ------------------------------------------------------------------ public
    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Invoke ``operation`` (``GetSecretValue``, ``BatchGetItem``...) and return the JSON answer.

        :raises AwsServiceError: AWS answered an error (after retries for throttling/5xx).
        :raises AwsTransportError: no usable answer (after retries for dropped connections);
            :class:`MalformedResponseError` for an answer of the wrong shape,
            :class:`AwsDeadlineError` when the invocation's budget ran out.
        """
        if not self._target:
            raise ValueError(f"{self.service} is a REST-JSON service: use rest()")
        headers = {"X-Amz-Target": f"{self._target}.{operation}"}
        return self._call(operation, self._path, headers, payload)

    def rest(self, operation: str, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Invoke a REST-JSON ``operation`` (SES v2 ``SendEmail``): ``POST`` ``payload`` as JSON to
        ``path`` (below the endpoint's own path). Same signing, deadlines, retries and errors as
        :meth:`call`; ``operation`` names the answer's required shape.

        :raises AwsJsonError: as :meth:`call`.
        """
        if self._target or not path.startswith("/"):
            raise ValueError(f"{self.service}: rest() takes a REST-JSON service and an absolute path")
        return self._call(operation, self._path.rstrip("/") + path, {}, payload)

    def _call(
        self, operation: str, path: str, headers: dict[str, str], payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        attempt = 0
        with self._lock:
            while True:
                attempt += 1
                self.last_attempts = attempt
                try:
                    return _checked(self.service, operation, self._once(path, headers, body))
                except AwsJsonError as exc:
                    if not exc.retryable or attempt > self.max_retries:
                        raise
                    # full jitter: uniform in [0, base * 2^attempt)
                    delay = random.uniform(0, self._backoff_base * (2**attempt))  # noqa: S311 - not crypto
                    left = deadline.remaining()
                    if left is not None and left < delay + MIN_ATTEMPT:
                        raise  # no time for another attempt: the last error is the answer
                self._sleep(delay)

    def close(self) -> None:
        """Drop the connection (the next call opens a new one)."""
        with self._lock:
            self._drop()

    # ------------------------------------------------------------------ internals (lock held)
    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                import ssl  # noqa: PLC0415 - already loaded by http.client; the CA bundle (~18 ms) is not

                self._conn = http.client.HTTPSConnection(
                    self._hostname,
                    self._port,
                    timeout=self._connect_timeout,
                    context=ssl.create_default_context(),
                )
            else:
                self._conn = http.client.HTTPConnection(
                    self._hostname, self._port, timeout=self._connect_timeout
                )
        return self._conn

    def _budget(self, limit: float) -> float:
        """``limit`` capped by the invocation's remaining budget.

        :raises AwsDeadlineError: less than :data:`MIN_ATTEMPT` is left.
        """
        left = deadline.remaining()
        if left is None:
            return limit
        if left < MIN_ATTEMPT:
            raise AwsDeadlineError(f"{self.service}: the invocation's time budget is spent")
        return min(limit, left)

    def _once(self, path: str, extra: dict[str, str], body: bytes) -> dict[str, Any]:
        connect_timeout = self._budget(self._connect_timeout)
        credentials = self._credentials()
        if credentials is None:
            raise AwsTransportError("no credentials in the environment", retryable=False)
        headers = self._signer.sign(
            "POST",
            path,
            {"Host": self._host_header, "Content-Type": self._content_type, **extra},
            body,
            credentials,
            amz_date(self._clock()),
        )
        headers["Content-Length"] = str(len(body))
        conn = self._connection()
        reused = conn.sock is not None
        try:
            if conn.sock is None:
                conn.timeout = connect_timeout  # applies to connect() (and the TLS handshake)
                conn.connect()
            conn.sock.settimeout(self._budget(self._read_timeout))
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
            error_header = response.getheader("x-amzn-ErrorType") or ""
            if response.will_close:
                self._drop()
        except AwsDeadlineError:
            raise  # from _budget: nothing was sent on this connection, it stays usable
        except TimeoutError as exc:
            self._drop()
            left = deadline.remaining()
            if left is not None and left < MIN_ATTEMPT:
                raise AwsDeadlineError(f"{self.service} timed out at the invocation's deadline") from exc
            # Not retried: with a 5 s read timeout, one more attempt would outlive the caller.
            raise AwsTransportError(f"{self.service} timed out", retryable=False) from exc
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            self._drop()
            # A reset on a reused keep-alive socket is the classic stale-connection case.
            retryable = reused or isinstance(
                exc, ConnectionError | http.client.RemoteDisconnected | socket.gaierror
            )
            raise AwsTransportError(
                f"{self.service} connection failed: {type(exc).__name__}", retryable=retryable
            ) from exc
        try:
            doc = json.loads(data) if data else None
        except ValueError as exc:
            if status >= 400:
                raise AwsServiceError(_short(error_header) or "UnknownError", status) from exc
            raise MalformedResponseError(f"{self.service} answered non-JSON") from exc
        if status >= 400:
            code = doc.get("__type") if isinstance(doc, dict) else None
            raise AwsServiceError(_short(str(code or error_header)) or "UnknownError", status)
        if status != 200:
            # 204, 3xx (we never follow redirects: the signature is for this host), 1xx...
            raise MalformedResponseError(f"{self.service} answered HTTP {status}, not 200")
        if not isinstance(doc, dict):
            raise MalformedResponseError(f"{self.service} answered 200 without a JSON object")
        return doc


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_map_of_lists(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, list) for v in value.values())


def _optional_map(doc: Mapping[str, Any], name: str) -> bool:
    return name not in doc or isinstance(doc[name], dict)


#: What a success must carry, per operation we know (others: any JSON object).
_SHAPES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "GetSecretValue": lambda d: _is_str(d.get("SecretString")) or _is_str(d.get("SecretBinary")),
    "BatchGetItem": lambda d: _is_map_of_lists(d.get("Responses")) and _optional_map(d, "UnprocessedKeys"),
    "Query": lambda d: isinstance(d.get("Items"), list) and _optional_map(d, "LastEvaluatedKey"),
    "GetItem": lambda d: _optional_map(d, "Item"),
    "SendEmail": lambda d: _is_str(d.get("MessageId")),
}


def _checked(service: str, operation: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` if it has the shape a success of ``operation`` must have.

    :raises MalformedResponseError: it has not (the message names fields, never values).
    """
    shape = _SHAPES.get(operation)
    if shape is not None and not shape(doc):
        raise MalformedResponseError(f"{service} {operation} answer lacks its required fields")
    return doc


def _short(code: str) -> str:
    """``com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`` -> the name after ``#``;
    ``x-amzn-ErrorType`` values carry a ``:url`` suffix."""
    return code.rpartition("#")[2].partition(":")[0].strip()


# --------------------------------------------------------------------------- shared clients
_lock = threading.Lock()
_clients: dict[tuple[str, str, _endpoints.Endpoint], AwsJsonClient] = {}


def client(service: str, arns: tuple[str, ...] = ()) -> AwsJsonClient:
    """A cached client for ``service`` in the environment's region, at the endpoint botocore
    would pick (:func:`resolve_endpoint`; ``arns``: a DynamoDB request's table names).

    :raises AwsTransportError: no region configured.
    :raises EndpointError: no endpoint for these settings, or a refused one.
    """
    region = _region(os.environ)
    endpoint = resolve_endpoint(service, region, arns=arns)
    key = (service, region, endpoint)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                found = AwsJsonClient(service, region=endpoint.signing_region, endpoint=endpoint.url)
                _clients[key] = found
    return found


def reset_clients() -> None:
    """Close and forget every cached client (tests; after a SnapStart restore)."""
    with _lock:
        for found in _clients.values():
            found.close()
        _clients.clear()


class DynamoDB:
    """DynamoDB reads without botocore, with boto3's low-level call shapes.

    Parameters and answers are the wire JSON, which is exactly what boto3's *client* (not the
    resource) takes and returns, so callers written against ``client.batch_get_item`` work as
    they are. Errors are :class:`AwsJsonError`, not botocore's.

    Without a ``json_client``, each call goes where botocore would send it: a table named by ARN
    may route to its account's endpoint, so the endpoint is resolved per request (a few
    environment reads) and each endpoint keeps its own cached client.
    """

    #: What callers catch around these calls (the botocore path catches its own pair).
    errors: tuple[type[Exception], ...] = (AwsJsonError,)

    def __init__(self, json_client: AwsJsonClient | None = None) -> None:
        self._client = json_client

    @property
    def json_client(self) -> AwsJsonClient:
        """The given client, else the shared one for requests that name tables (not ARNs)."""
        return self._client or client("dynamodb")

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        found = self._client or client("dynamodb", _endpoints.resource_arns(params))
        return found.call(operation, params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        """``BatchGetItem``. :raises AwsJsonError: on failure."""
        return self._call("BatchGetItem", params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        """``GetItem``. :raises AwsJsonError: on failure."""
        return self._call("GetItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        """``PutItem`` (the authorizer's one write: a DPoP proof's replay record). A failed
        ``ConditionExpression`` is an :class:`AwsServiceError` whose ``code`` is
        ``ConditionalCheckFailedException``. :raises AwsJsonError: on failure."""
        return self._call("PutItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        """``Query`` (``TableName``, ``IndexName``, ``KeyConditionExpression``,
        ``ExpressionAttributeValues``, ``ExclusiveStartKey``...): one page, with ``Items`` (a list,
        checked) and ``LastEvaluatedKey`` when there is more; the caller pages.

        :raises AwsJsonError: on failure, or an answer without an ``Items`` list.
        """
        return self._call("Query", params)
