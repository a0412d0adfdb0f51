"""An HTTP API (API Gateway v2) front door: routing, Lambda authorizers with result caching, events.

:class:`Gateway` turns one HTTP request into what API Gateway would send to Lambda, payload format
2.0, and turns the Lambda proxy response back into HTTP. It is transport-free (a request in, a
response out): the HTTP server, ``invoke`` and the tests all drive the same object.

Behaviour copied from API Gateway because the service's correctness depends on it:

* an identity source missing or empty → 401 without invoking the authorizer;
* simple responses: ``isAuthorized`` false → 403 ``{"message":"Forbidden"}``; the authorizer raising
  ``Unauthorized`` → 401 ``{"message":"Unauthorized"}``; anything else → 500;
* results cached per authorizer and identity-source values for ``ReauthorizeEvery`` seconds, for
  *every* route of the API (a token that passed once stays accepted for the TTL even if revoked);
* request bodies are base64-encoded unless the content type is text, JSON, XML or JavaScript
  (so ``application/x-www-form-urlencoded`` arrives base64-encoded, as on AWS);
* the ``cookie`` header becomes ``cookies``, duplicate query parameters and headers are comma-joined.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local_stack.sam import AppModel, AuthorizerSpec, RouteSpec, group_to_param, route_regex

__all__ = ["Gateway", "HttpRequest", "HttpResponse", "InvocationError", "Invoker", "lambda_response_to_http"]


class InvocationError(Exception):
    """A function invocation failed: the handler raised (Lambda's ``errorType``/``errorMessage``),
    timed out, or its environment could not start."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


#: ``(function logical id, event) -> handler result``; raises :class:`InvocationError`.
Invoker = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query exactly as received
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES


def _gateway_error(status: int, message: str, request_id: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, [("content-type", "application/json"), ("apigw-requestid", request_id)], body)


def lambda_response_to_http(result: Any, request_id: str = "") -> HttpResponse:
    """Convert a payload-2.0 Lambda result into the HTTP response API Gateway would send.

    A dict with ``statusCode`` is a structured response; anything else (a dict without it, a
    string, a list...) is the 2.0 shortcut: 200, ``application/json``, the JSON of the result.

    :raises ValueError: a structured response API Gateway would reject (it answers 500).
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        shortcut = [("content-type", "application/json")]
        if request_id:
            shortcut.append(("apigw-requestid", request_id))
        return HttpResponse(200, shortcut, json.dumps(result).encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        raise ValueError("statusCode must be an integer")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or ())
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(str(raw))
    else:
        body = str(raw).encode()
    if request_id:
        headers.append(("apigw-requestid", request_id))
    return HttpResponse(int(status), headers, body)


@dataclass
class _Decision:
    expires_at: float
    response: Mapping[str, Any]


@dataclass
class Gateway:
    """Routes requests of every HTTP API in ``model`` to their functions through ``invoke``.

    :param domain_name: what API Gateway puts in ``requestContext.domainName`` (``127.0.0.1:3000``).
    :param clock: monotonic seconds, for the authorizer cache (tests inject a fake one).
    """

    model: AppModel
    invoke: Invoker
    domain_name: str
    clock: Callable[[], float] = time.monotonic
    log: Callable[[str], None] | None = None
    #: most authorizer results kept (API Gateway's cache is bounded too)
    cache_limit: int = 1000
    _cache: dict[tuple[str, str, tuple[str, ...]], _Decision] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._routes = [(route, route_regex(route.path)) for route in self.model.routes]
        for route in self.model.routes:
            if route.payload_version != "2.0":
                raise ValueError(f"{route.route_key}: only payload format 2.0 is emulated")

    # ------------------------------------------------------------------ request handling
    def handle(self, request: HttpRequest) -> HttpResponse:
        """Serve one request end to end (authorizer, then the integration)."""
        started = time.perf_counter()
        request_id = _request_id()
        response, route = self._handle(request, request_id)
        if self.log is not None:
            path = request.target.split("?", 1)[0]
            target = route.function if route else "-"
            elapsed = (time.perf_counter() - started) * 1000
            self.log(f"{request.method} {path} -> {response.status} ({target}, {elapsed:.1f} ms)")
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> tuple[HttpResponse, RouteSpec | None]:
        response, route = self._route(request, request_id)
        return self._cors(request, response), route

    def _cors(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """API Gateway's CORS: with a CORS configuration it answers preflights itself, ignores the
        CORS headers of integrations, and sets its own on responses to allowed origins."""
        config = next((api.cors for api in self.model.apis.values() if api.cors), None)
        if config is None:
            return response
        response.headers = [
            (k, v) for k, v in response.headers if not k.lower().startswith("access-control-")
        ]
        origin = next((v for k, v in request.headers if k.lower() == "origin"), None)
        allowed = [str(o) for o in config.get("AllowOrigins") or ()]
        if origin is None or ("*" not in allowed and origin not in allowed):
            return response
        response.headers.append(("access-control-allow-origin", "*" if "*" in allowed else origin))
        if config.get("AllowCredentials") is True:
            response.headers.append(("access-control-allow-credentials", "true"))
        if config.get("ExposeHeaders"):
            response.headers.append(("access-control-expose-headers", ",".join(config["ExposeHeaders"])))
        if _is_preflight(request):
            for key, header in (
                ("AllowMethods", "access-control-allow-methods"),
                ("AllowHeaders", "access-control-allow-headers"),
            ):
                if config.get(key):
                    response.headers.append((header, ",".join(str(v) for v in config[key])))
            if "MaxAge" in config:
                response.headers.append(("access-control-max-age", str(config["MaxAge"])))
        return response

    def _route(self, request: HttpRequest, request_id: str) -> tuple[HttpResponse, RouteSpec | None]:
        if _is_preflight(request) and any(api.cors for api in self.model.apis.values()):
            return HttpResponse(204, [("apigw-requestid", request_id)]), None
        path = request.target.partition("?")[0]
        found = self.match(request.method, path)
        if found is None:
            return _gateway_error(404, "Not Found", request_id), None
        route, path_params = found
        event = self.build_event(request, route, path_params, request_id)
        authorizer = self.model.authorizer(route)
        if authorizer is not None:
            denied, context = self._authorize(authorizer, route, event, request_id)
            if denied is not None:
                return denied, route
            event["requestContext"]["authorizer"] = {"lambda": context}
        try:
            result = self.invoke(route.function, event)
            return lambda_response_to_http(result, request_id), route
        except (InvocationError, ValueError, TypeError):
            return _gateway_error(500, "Internal Server Error", request_id), route

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        """The route API Gateway would pick: most specific path first, exact method before ANY."""
        method = method.upper()
        fallback: tuple[RouteSpec, dict[str, str]] | None = None
        for route, regex in self._routes:
            if route.path == "$default":
                fallback = fallback or (route, {})
                continue
            m = regex.fullmatch(path)
            if m and route.method in (method, "ANY"):
                params = {group_to_param(k): unquote(v) for k, v in m.groupdict().items()}
                return route, params
        return fallback

    # ------------------------------------------------------------------ events
    def build_event(
        self, request: HttpRequest, route: RouteSpec, path_params: Mapping[str, str], request_id: str
    ) -> dict[str, Any]:
        """The payload-2.0 event API Gateway sends to the route's integration."""
        raw_path, _, raw_query = request.target.partition("?")
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in request.headers:
            key = name.lower()
            if key == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        headers.setdefault("x-forwarded-for", request.source_ip)
        headers.setdefault("x-forwarded-proto", "http")
        headers.setdefault("x-forwarded-port", self.domain_name.rpartition(":")[2] or "80")
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}")
        api = self.model.apis[route.api]
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "accountId": self.model.resolver.identity.account_id,
            "apiId": api.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.domain_name.split(".", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": api.stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        params: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        if params:
            event["queryStringParameters"] = params
        if path_params:
            event["pathParameters"] = dict(path_params)
        if request.body:
            if _is_text(headers.get("content-type")):
                event["body"] = request.body.decode("utf-8", errors="replace")
            else:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        return event

    def authorizer_event(
        self, authorizer: AuthorizerSpec, route: RouteSpec, event: Mapping[str, Any], identity: list[str]
    ) -> dict[str, Any]:
        """The payload-2.0 ``REQUEST`` authorizer event for ``event``."""
        ctx = event["requestContext"]
        ident = self.model.resolver.identity
        resource = route.path if route.path != "$default" else "$default"
        method = ctx["http"]["method"] if route.path != "$default" else ""
        arn_path = f"{method}{resource}" if method else resource
        out: dict[str, Any] = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": (
                f"arn:aws:execute-api:{ident.region}:{ident.account_id}:{ctx['apiId']}/{ctx['stage']}/{arn_path}"
            ),
            "identitySource": identity,
            "routeKey": event["routeKey"],
            "rawPath": event["rawPath"],
            "rawQueryString": event["rawQueryString"],
            "headers": event["headers"],
            "requestContext": {k: v for k, v in ctx.items() if k != "authorizer"},
        }
        for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables"):
            if key in event:
                out[key] = event[key]
        return out

    # ------------------------------------------------------------------ authorizers
    def identity_values(self, authorizer: AuthorizerSpec, event: Mapping[str, Any]) -> list[str] | None:
        """Values of the authorizer's identity sources, or ``None`` if one is missing or empty."""
        values = []
        headers = event.get("headers") or {}
        query = event.get("queryStringParameters") or {}
        ctx = event.get("requestContext") or {}
        for source in authorizer.identity_sources:
            kind, _, name = source.removeprefix("$").partition(".")
            value: Any
            if kind == "request" and name.startswith("header."):
                value = headers.get(name.removeprefix("header.").lower())
            elif kind == "request" and name.startswith("querystring."):
                value = query.get(name.removeprefix("querystring."))
            elif kind == "context":
                value = ctx
                for part in name.split("."):
                    value = value.get(part) if isinstance(value, Mapping) else None
            elif kind == "stageVariables":
                value = (event.get("stageVariables") or {}).get(name)
            else:
                value = None
            if value is None or value == "":
                return None
            values.append(str(value))
        return values

    def _authorize(
        self, authorizer: AuthorizerSpec, route: RouteSpec, event: Mapping[str, Any], request_id: str
    ) -> tuple[HttpResponse | None, Any]:
        """``(None, context)`` when allowed, else ``(error response, None)``."""
        if authorizer.kind != "lambda":
            return _gateway_error(500, "Internal Server Error", request_id), None
        identity = self.identity_values(authorizer, event)
        if identity is None:
            return _gateway_error(401, "Unauthorized", request_id), None
        auth_event = self.authorizer_event(authorizer, route, event, identity)
        key = (route.api, authorizer.name, tuple(identity))
        response = self._cached(key) if authorizer.ttl > 0 and identity else None
        if response is None:
            try:
                response = self.invoke(authorizer.function, auth_event)
            except InvocationError as exc:
                if exc.message == "Unauthorized":
                    return _gateway_error(401, "Unauthorized", request_id), None
                return _gateway_error(500, "Internal Server Error", request_id), None
            if not isinstance(response, Mapping):
                return _gateway_error(500, "Internal Server Error", request_id), None
            if authorizer.ttl > 0 and identity:
                self._remember(key, _Decision(self.clock() + authorizer.ttl, response))
        allowed = self._evaluate(authorizer, response, auth_event["routeArn"])
        if allowed is None:
            return _gateway_error(500, "Internal Server Error", request_id), None
        if not allowed:
            return _gateway_error(403, "Forbidden", request_id), None
        context = response.get("context") or {}
        if not authorizer.simple_responses and "principalId" in response:
            context = {**context, "principalId": response["principalId"]}
        return None, context

    def _remember(self, key: tuple[str, str, tuple[str, ...]], decision: _Decision) -> None:
        """Cache ``decision``; at ``cache_limit`` entries, expired ones are dropped first, then the
        oldest (so the cache never outgrows the limit, and never keeps what has expired for long)."""
        with self._lock:
            self._cache.pop(key, None)  # re-inserted last: insertion order is expiry order per TTL
            if len(self._cache) >= self.cache_limit:
                now = self.clock()
                for stale in [k for k, d in self._cache.items() if d.expires_at <= now]:
                    del self._cache[stale]
                while len(self._cache) >= self.cache_limit:
                    del self._cache[next(iter(self._cache))]
            self._cache[key] = decision

    def _cached(self, key: tuple[str, str, tuple[str, ...]]) -> Mapping[str, Any] | None:
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                return None
            if found.expires_at <= self.clock():
                del self._cache[key]
                return None
            return found.response

    @staticmethod
    def _evaluate(authorizer: AuthorizerSpec, response: Mapping[str, Any], route_arn: str) -> bool | None:
        """Allow/deny from a simple or IAM-policy response; ``None`` when the response is malformed."""
        if authorizer.simple_responses:
            allowed = response.get("isAuthorized")
            return allowed if isinstance(allowed, bool) else None
        policy = response.get("policyDocument")
        if not isinstance(policy, Mapping) or "principalId" not in response:
            return None
        statements = policy.get("Statement") or []
        if isinstance(statements, Mapping):
            statements = [statements]
        verdict = False
        for st in statements:
            resources = st.get("Resource") or []
            actions = st.get("Action") or []
            resources = [resources] if isinstance(resources, str) else resources
            actions = [actions] if isinstance(actions, str) else actions
            if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
                continue
            if not any(fnmatch.fnmatchcase(route_arn, r) for r in resources):
                continue
            if st.get("Effect") == "Deny":
                return False
            if st.get("Effect") == "Allow":
                verdict = True
        return verdict


def _is_preflight(request: HttpRequest) -> bool:
    names = {k.lower() for k, _ in request.headers}
    return request.method.upper() == "OPTIONS" and {"origin", "access-control-request-method"} <= names


def _request_id() -> str:
    # API Gateway's request ids look like "JKJaXmPLvHcESHA="; any unique opaque string will do.
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()
