"""Where a request is going, and which scopes each route needs.

Two inputs, one semantics. API Gateway tells the authorizer the request's route as an
execute-api ARN (``methodArn`` / ``routeArn``) and, for HTTP APIs, as a route key
(``"GET /orders/{id}"``). ``ROUTE_SCOPES`` names scoped routes with HTTP API route keys.

A route's template becomes an IAM resource suffix (``GET/orders/*``): ``{param}`` and
``{proxy+}`` become ``*`` and ``ANY`` becomes ``*``. The authorizer decides a request by
matching it against exactly those patterns with IAM's wildcard rule (``*`` spans ``/``), and
the scopes a request needs are the *union* over every matching route. That is what an IAM
policy with one explicit ``Deny`` per forbidden route enforces (an explicit Deny beats any
Allow), so the live decision and a cached policy reused for another route can never disagree
(docs/threat-model.md T-AWS-3). The price is fail-closed over-matching: a scoped ``/orders/{id}``
also covers ``/orders/1/items`` -- execute-api ARNs cannot express "one path segment".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from auth_core.errors import ConfigurationError, TokenError

__all__ = ["MFA", "ExecuteApiArn", "Route", "RouteTable"]

#: The requirement of a ``ROUTE_MFA`` route, written as one more scope the route needs. It has a
#: space, so no token's ``scope`` can hold it (RFC 6749 §3.3): only the authorizer adds it to
#: what a token was granted, when the token's ``amr`` says a second factor was used. The policy,
#: the cache and the memoised answers then treat it like any scope, at no cost per request.
MFA = " amr:otp"

#: API Gateway rejects method ARNs longer than this (414), so longer input is not genuine.
MAX_ARN_LENGTH = 1600

#: The stage is a stage name, or exactly ``*``: the API Gateway console's "Test authorizer" and
#: the REST TOKEN sample events of AWS and Powertools send ``{api}/*/GET/``. Such an ARN is
#: answered like any other; its policy then covers ``{api}/*/...`` (every stage of that one API,
#: for a token that is valid for the API anyway), never another API or account.
_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):execute-api:(?P<region>[a-z0-9-]{1,32}):(?P<account>\d{12}):"
    r"(?P<api>[A-Za-z0-9]{1,64})/(?P<stage>[A-Za-z0-9_$-]{1,128}|\*)/(?P<method>[A-Za-z$]{1,16})"
    r"(?:/(?P<path>[\x21-\x7e]*))?",
    re.ASCII,
)
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
_PARAM = re.compile(r"\{[^/{}]+\}")
_TEMPLATE = re.compile(r"/[A-Za-z0-9\-._~%!$&'()+,;=:@/{}]*", re.ASCII)


class ExecuteApiArn:
    """A parsed ``arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}``.

    The partition is kept (``aws``, ``aws-cn``, ``aws-us-gov``...): policies built for ``aws``
    do not match resources in China or GovCloud, a classic authorizer bug. (A plain class, not a
    dataclass: ``dataclasses`` pulls in ``inspect``, ~15 ms of cold start.)
    """

    __slots__ = ("account", "api_id", "base", "method", "partition", "path", "region", "request", "stage")

    def __init__(
        self, partition: str, region: str, account: str, api_id: str, stage: str, method: str, path: str
    ) -> None:
        self.partition = partition
        self.region = region
        self.account = account
        self.api_id = api_id
        self.stage = stage
        self.method = method
        self.path = path  # without the leading "/"
        #: ``arn:{partition}:execute-api:{region}:{account}:{api}/{stage}``, every policy's prefix.
        self.base = f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}"
        #: ``METHOD/path`` of this request: the string route patterns are matched against.
        self.request = f"{method.upper()}/{path}"

    def __repr__(self) -> str:
        return f"ExecuteApiArn({self.base}/{self.request})"

    @classmethod
    def parse(cls, value: object) -> ExecuteApiArn:
        """Parse an ARN from an event (recently seen ARNs come from a small cache).

        :raises TokenError: ``malformed_event`` when it is not a well-formed execute-api ARN.
        """
        if not isinstance(value, str) or len(value) > MAX_ARN_LENGTH:
            raise TokenError("no method ARN", reason="malformed_event")
        found = _PARSED.get(value)
        if found is None:
            found = cls._parse(value)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[value] = found
        return found

    @classmethod
    def _parse(cls, value: str) -> ExecuteApiArn:
        match = _ARN.fullmatch(value)
        if match is None:
            raise TokenError("not an execute-api ARN", reason="malformed_event")
        g = match.groupdict()
        return cls(
            g["partition"], g["region"], g["account"], g["api"], g["stage"], g["method"], g["path"] or ""
        )


#: ARN string -> parsed ARN. A busy API sends the same few hundred route ARNs over and over.
_PARSED: dict[str, ExecuteApiArn] = {}
_PARSED_MAX = 512


def _glob(pattern: str) -> re.Pattern[str]:
    """IAM resource wildcard semantics: ``*`` is any run of characters, including ``/``."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.ASCII | re.DOTALL)


class Route:
    """One configured route: ``"GET /orders/{id}"`` -> all of ``scopes``."""

    __slots__ = ("_pattern", "_shape", "key", "method", "resource", "scopes", "template")

    def __init__(self, key: str, method: str, template: str, scopes: frozenset[str], resource: str) -> None:
        self.key = key
        self.method = method  # upper-case, "*" for ANY
        self.template = template
        self.scopes = scopes
        self.resource = resource  # IAM suffix after the stage, e.g. "GET/orders/*"
        self._pattern = _glob(resource)
        self._shape = _PARAM.sub("{}", template)

    def __repr__(self) -> str:
        return f"Route({self.key!r}, {sorted(self.scopes)!r})"

    @classmethod
    def parse(cls, key: str, scopes: Iterable[str]) -> Route:
        """Parse a route key as HTTP APIs write them.

        :raises ConfigurationError: not ``"METHOD /path"``, unknown method, or a path with
            characters that would be IAM wildcards.
        """
        if key == "$default":
            method, template = "ANY", "/{proxy+}"
        else:
            method, _, template = key.partition(" ")
        method = method.upper()
        if method not in _METHODS or not _TEMPLATE.fullmatch(template):
            raise ConfigurationError(f"ROUTE_SCOPES: {key!r} is not 'METHOD /path'")
        wild_method = "*" if method == "ANY" else method
        resource = f"{wild_method}/{_PARAM.sub('*', template)[1:]}"
        return cls(key, wild_method, template, frozenset(scopes), resource)

    def matches(self, request: str) -> bool:
        """Does ``METHOD/path`` fall under this route's IAM resource pattern?"""
        return self._pattern.fullmatch(request) is not None

    def matches_route_key(self, route_key: str) -> bool:
        """Is ``route_key`` (from a payload 2.0 event) this route, parameter names aside?"""
        method, _, template = route_key.partition(" ")
        if not template:
            return False
        method = method.upper()
        same_method = self.method == "*" or method in {self.method, "ANY"}
        return same_method and _PARAM.sub("{}", template) == self._shape


class RouteTable:
    """The scoped routes of the API (``ROUTE_SCOPES``). Unlisted routes need no scope."""

    __slots__ = ("_memo", "routes", "scoped")

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self.scoped: tuple[Route, ...] = tuple(r for r in self.routes if r.scopes)
        self._memo: dict[tuple[str, str | None], frozenset[str]] = {}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]], mfa: Iterable[str] = ()) -> RouteTable:
        """Build from ``Settings.route_scopes`` and ``Settings.route_mfa`` (each of those routes
        needs :data:`MFA` as well).

        :raises ConfigurationError: on an invalid route key.
        """
        needs = {key: set(scopes) for key, scopes in mapping.items()}
        for key in mfa:
            needs.setdefault(key, set()).add(MFA)
        return cls(Route.parse(key, sorted(scopes)) for key, scopes in needs.items())

    def required_scopes(self, request: str, route_key: str | None = None) -> frozenset[str]:
        """Scopes ``request`` (``METHOD/path``) needs: the union over every matching route.

        ``route_key`` (payload 2.0) adds the scopes of the configured route with the same key,
        so a request is never judged by its path alone when API Gateway told us the route.
        Answers are memoised (bounded): the table is immutable and routes repeat.
        """
        key = (request, route_key)
        found = self._memo.get(key)
        if found is None:
            found = self._required(request, route_key)
            if len(self._memo) >= 4096:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _required(self, request: str, route_key: str | None) -> frozenset[str]:
        needed: set[str] = set()
        for route in self.scoped:
            if route.matches(request) or (route_key is not None and route.matches_route_key(route_key)):
                needed |= route.scopes
        return frozenset(needed)

    def forbidden(self, granted: frozenset[str]) -> tuple[Route, ...]:
        """Scoped routes a token with ``granted`` scopes may not call."""
        return tuple(r for r in self.scoped if not r.scopes <= granted)

    def permitted(self, granted: frozenset[str]) -> tuple[Route, ...]:
        """Scoped routes a token with ``granted`` scopes may call."""
        return tuple(r for r in self.scoped if r.scopes <= granted)
