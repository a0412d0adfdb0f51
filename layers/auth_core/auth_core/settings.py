"""Settings: the one place the environment is read.

Every function builds one :class:`Settings` per execution environment (``Settings.from_env()``
inside a cached factory, never at import time) and passes it down. Explicit constructor
arguments beat the environment, so tests build ``Settings(...)`` directly.

Values that a given function does not need may stay empty; the component that needs one calls
:meth:`Settings.require` and fails fast with :class:`ConfigurationError` naming the variable.
"""

# No ``from __future__ import annotations`` here, unlike elsewhere: NamedTuple turns each string
# annotation into a ForwardRef, compiling it (58 fields: ~1 ms of every cold start).
import json
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from auth_core.errors import ConfigurationError
from auth_core.jwa import ALGORITHMS
from auth_core.regions import secret_id_in_region

__all__ = ["ENV_VARS", "LOG_LEVELS", "Settings"]

#: The largest MAX_ACCESS_TOKEN_LIFETIME a deployment may set, seconds. Revocation entries written
#: by tools that cannot know the deployment's value (authctl) live at least this long.
LONGEST_ACCESS_TOKEN_LIFETIME = 86400

#: Supported signing algorithms (a key carries exactly one of these): the registry's names.
SIGNING_ALGORITHMS = ALGORITHMS


# Each reader takes a field name; the variable's name comes from ENV_VARS, the one table of them.
def _region(env: Mapping[str, str]) -> str:
    """The function's region (Lambda sets AWS_REGION): where the key secrets are read."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""


def _str(env: Mapping[str, str], field: str) -> str:
    return env.get(ENV_VARS[field], "").strip()


def _int(env: Mapping[str, str], field: str, default: int, lo: int, hi: int) -> int:
    name = ENV_VARS[field]
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer") from exc
    if not lo <= value <= hi:
        raise ConfigurationError(f"{name} must be between {lo} and {hi}")
    return value


def _bool(env: Mapping[str, str], field: str, default: bool) -> bool:
    name = ENV_VARS[field]
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false")


def _choice(env: Mapping[str, str], field: str, default: str, allowed: tuple[str, ...]) -> str:
    name = ENV_VARS[field]
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}")
    return raw


#: AWS_LAMBDA_LOG_LEVEL's values (Lambda sets them, exactly so) -> ours; Powertools ignores others.
_LAMBDA_LOG_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "CRITICAL",
}
#: POWERTOOLS_LOG_LEVEL's (and the legacy LOG_LEVEL's) values: Python's level names, any case.
_PYTHON_LOG_LEVELS = {
    "NOTSET": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "CRITICAL",
    "CRITICAL": "CRITICAL",
}
#: What ``log_level`` may be, with Python's number for each (the authorizer's line writer compares them).
LOG_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def _log_level(env: Mapping[str, str]) -> str:
    """``log_level`` as Powertools Logger finds its level: AWS_LAMBDA_LOG_LEVEL when it holds one
    of Lambda's values, else POWERTOOLS_LOG_LEVEL or the legacy LOG_LEVEL (a Python level name,
    which Powertools would refuse otherwise too), else INFO."""
    lambda_level = _LAMBDA_LOG_LEVELS.get(env.get("AWS_LAMBDA_LOG_LEVEL", ""))
    if lambda_level is not None:
        return lambda_level
    for name in (ENV_VARS["log_level"], "LOG_LEVEL"):
        raw = env.get(name, "").strip()
        if raw:
            if raw.upper() not in _PYTHON_LOG_LEVELS:
                raise ConfigurationError(f"{name} must be one of {', '.join(_PYTHON_LOG_LEVELS)}")
            return _PYTHON_LOG_LEVELS[raw.upper()]
    return Settings._field_defaults["log_level"]


def _words(env: Mapping[str, str], field: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = env.get(ENV_VARS[field], "").replace(",", " ").split()
    return tuple(raw) if raw else default


def _dpop_algs(env: Mapping[str, str]) -> tuple[str, ...]:
    """DPOP_SIGNING_ALGS: known asymmetric algorithms only (the registry has no other kind)."""
    from auth_core.jwa import ALGORITHMS  # noqa: PLC0415 - a table, no primitives

    algs = _words(env, "dpop_signing_algs", Settings._field_defaults["dpop_signing_algs"])
    unknown = [alg for alg in algs if alg not in ALGORITHMS]
    if unknown:
        raise ConfigurationError(
            f"DPOP_SIGNING_ALGS: unsupported {', '.join(unknown)} (use {', '.join(ALGORITHMS)})"
        )
    return algs


#: a custom attribute's name (CUSTOM_ATTRIBUTES)
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

# CLAIMS_HOOK's form (template.yaml's ClaimsHook pattern is the same, ASCII only)
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
_HOOK_REFERENCE = re.compile(f"{_DOTTED}:{_DOTTED}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\"'<>\\;,`]")


def _color(env: Mapping[str, str], field: str, default: str) -> str:
    """A ``#rrggbb`` colour, or ``default`` for anything else: the value goes into the pages'
    CSS, so nothing but the one strict form may reach it (a typo costs the colour, not the page)."""
    raw = env.get(ENV_VARS[field], "").strip()
    return raw.lower() if _COLOR.fullmatch(raw) else default


def _https_url(env: Mapping[str, str], field: str) -> str:
    """An ``https://`` URL without quotes, spaces or separators (it goes into an HTML attribute
    and the Content-Security-Policy header), or empty.

    :raises ConfigurationError: set but not such a URL (an ``http:`` logo is mixed content).
    """
    name = ENV_VARS[field]
    raw = env.get(name, "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname or _URL_UNSAFE.search(raw):
        raise ConfigurationError(f"{name} must be an https:// URL")
    return raw


def _route_list(env: Mapping[str, str], field: str) -> tuple[str, ...]:
    name = ENV_VARS[field]
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a JSON list of 'METHOD /path'") from exc
    if not isinstance(doc, list) or not all(isinstance(r, str) for r in doc):
        raise ConfigurationError(f"{name} must be a JSON list of 'METHOD /path'")
    return tuple(doc)


def _route_scopes(env: Mapping[str, str], field: str) -> Mapping[str, tuple[str, ...]]:
    name = ENV_VARS[field]
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a JSON object") from exc
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{name} must be a JSON object of 'METHOD /path' -> scopes")
    out: dict[str, tuple[str, ...]] = {}
    for route, scopes in doc.items():
        if isinstance(scopes, str):
            scopes = scopes.split()
        if (
            not isinstance(route, str)
            or not isinstance(scopes, list)
            or not all(isinstance(s, str) for s in scopes)
        ):
            raise ConfigurationError(f"{name}: {route!r} must map to a list of scope strings")
        out[route] = tuple(scopes)
    return out


# Not a dataclass: on the authorizer's cold path, see docs/architecture.md.
class Settings(NamedTuple):
    """Typed configuration. Field docs double as the README's configuration table.

    Immutable; ``settings._replace(name=value)`` derives a changed copy. A default is read as
    ``Settings._field_defaults["name"]`` (``Settings.name`` is the field's getter).
    """

    # --- identity of the issuer -------------------------------------------------------------
    #: ISSUER: exact ``iss`` of issued tokens and the discovery base URL. Empty: derived per
    #: request from the API's domain name (``https://{domainName}``), see ``auth_core.issuer``.
    issuer: str = ""
    #: AUDIENCE: ``aud`` of access tokens (the protected API's identifier).
    audience: str = "api"
    #: SIGNING_ALG: algorithm of newly created keys: RS256 (default; the only one API Gateway's
    #: HTTP API JWT authorizer accepts), PS256, ES256 or EdDSA.
    signing_alg: str = "RS256"

    # --- token lifetimes --------------------------------------------------------------------
    #: ACCESS_TOKEN_TTL: lifetime of issued access tokens, seconds.
    access_token_ttl: int = 900
    #: MAX_ACCESS_TOKEN_LIFETIME: verifiers reject tokens whose ``exp - iat`` exceeds this.
    max_access_token_lifetime: int = 3600
    #: CLOCK_LEEWAY: clock-skew tolerance for ``exp``/``nbf``/``iat``, seconds.
    leeway: int = 60
    #: REFRESH_SESSION_MAX_AGE: absolute lifetime of a refresh-token family, seconds.
    refresh_max_age: int = 30 * 24 * 3600
    #: REFRESH_IDLE_TIMEOUT: a refresh token unused this long is dead, seconds.
    refresh_idle_timeout: int = 7 * 24 * 3600
    #: REFRESH_GRACE_SECONDS: retry window (0-60) returning the byte-identical rotated pair.
    refresh_grace_seconds: int = 10

    # --- browser sign-in --------------------------------------------------------------------
    #: SSO_SESSION_MAX_AGE: absolute lifetime of a single sign-on session (the login-session
    #: cookie of the hosted pages), seconds.
    sso_session_max_age: int = 43200
    #: SSO_SESSION_IDLE_TIMEOUT: a single sign-on session unused this long is over, seconds.
    sso_session_idle_timeout: int = 3600
    #: AUTHORIZATION_CODE_TTL: lifetime of an authorization code, seconds (at most 60).
    authorization_code_ttl: int = 60
    #: PAR_REQUEST_TTL: lifetime of a pushed authorization request's ``request_uri``, seconds.
    par_request_ttl: int = 60

    # --- keys -------------------------------------------------------------------------------
    #: SIGNING_KEYS_SECRET_ID: Secrets Manager id of the private key set (signers, rotation only).
    signing_keys_secret_id: str = ""
    #: PUBLIC_JWKS_SECRET_ID: Secrets Manager id of the public JWKS (verifiers).
    public_jwks_secret_id: str = ""
    #: KEY_CACHE_TTL: how long a fetched key set is used without refetching, seconds.
    key_cache_ttl: int = 300
    #: KEY_REFRESH_MIN_INTERVAL: at most one refetch per this window on an unknown kid, seconds.
    key_refresh_min_interval: int = 10
    #: KEY_STALE_MAX: serve the last good key set this long while the key store fails, seconds.
    key_stale_max: int = 3600

    # --- tables -----------------------------------------------------------------------------
    #: USERS_TABLE: DynamoDB table of users.
    users_table: str = ""
    #: CLIENTS_TABLE: DynamoDB table of OAuth clients.
    clients_table: str = ""
    #: SESSIONS_TABLE: DynamoDB table of refresh-token families and tokens.
    sessions_table: str = ""
    #: REVOCATIONS_TABLE: DynamoDB table of revocations, polled as a feed by verifiers and
    #: signers: ``jti#`` (one access token), ``sid#`` (a session), ``sub#`` / ``cli#`` (a user's
    #: or client's cut-off), ``kid#`` (a signing key), ``all#`` (everything issued before).
    revocations_table: str = ""

    # --- scopes and the authorizer ----------------------------------------------------------
    #: SCOPES_SUPPORTED: scopes advertised by discovery and grantable at all.
    scopes_supported: tuple[str, ...] = ("openid", "profile", "read", "write")
    #: ROUTE_SCOPES: JSON ``{"GET /orders": ["read"]}``: scopes a route requires (all of them).
    route_scopes: Mapping[str, tuple[str, ...]] = MappingProxyType({})
    #: ROUTE_MFA: JSON ``["POST /payments"]``: routes that refuse (403) a token whose ``amr``
    #: lacks ``otp`` (a sign-in without a second factor, or no sign-in at all).
    route_mfa: tuple[str, ...] = ()
    #: CONTEXT_CLAIMS: extra claims copied into the authorizer context.
    context_claims: tuple[str, ...] = ("roles",)
    #: REVOCATION_CHECK: the authorizer refuses revoked tokens (the revocation feed).
    revocation_check: bool = True
    #: REVOCATION_FEED_INTERVAL: how often a warm verifier or signer asks the revocation feed
    #: what changed, seconds: the bound on revocation, plus API Gateway's result TTL.
    revocation_feed_interval: int = 5
    #: REVOCATION_FEED_MAX_STALENESS: when the feed cannot be read for this long, verifiers
    #: refuse every token and signers answer 503 (fail closed), seconds.
    revocation_feed_max_staleness: int = 30
    #: REVOCATION_FEED_OVERLAP: how far back, seconds, each read of the revocation feed re-reads
    #: before the previous one began: a revocation that becomes readable later than this after
    #: its writer's clock (another region's, replicated) waits for the hourly full reload. The
    #: template sets 300 in more than one region.
    revocation_feed_overlap: int = 30
    #: IDENTITY_HEADER: header carrying the bearer token.
    identity_header: str = "authorization"
    #: VERIFIED_TOKEN_CACHE_SIZE: entries in the authorizer's verified-token cache (0 = off).
    verified_token_cache_size: int = 10_000
    #: AUTHORIZER_RESPONSE_FORMAT: HTTP API payload 2.0 answers: ``simple`` (``isAuthorized``;
    #: every refusal is a 403) or ``iam`` (a policy document; a bad token is a 401: the template's
    #: choice). REST and payload 1.0 always get a policy.
    authorizer_response_format: str = "simple"

    # --- custom claims hook -----------------------------------------------------------------
    #: CLAIMS_HOOK: ``package.module:function`` called as each access and ID token is issued;
    #: returns claims to add (``auth_core.oauth.claims_hook``). Empty: no hook.
    claims_hook: str = ""
    #: CLAIMS_HOOK_BUDGET_MS: the time the hook may take, milliseconds (1-5000), checked after
    #: it returns: a slower hook's result is thrown away and the request answered 503.
    claims_hook_budget_ms: int = 200

    # --- login protection -------------------------------------------------------------------
    #: LOGIN_MAX_FAILURES: login attempts per username *and* source address per window (counted
    #: before hashing); then 429 from that address only (``stores/throttle.py``).
    login_max_failures: int = 5
    #: LOGIN_LOCKOUT_SECONDS: the per-address attempt window, seconds (each username also has a
    #: bucket of 20 attempts refilled at 100 an hour across all addresses: slowed, never locked).
    login_lockout_seconds: int = 300
    #: PASSWORD_MIN_LENGTH: fewest characters (Unicode code points) of a newly chosen password,
    #: 8-64 (NIST SP 800-63B; rev. 4 asks for 15 when the password is the only factor). See
    #: ``auth_core.password_policy``, which also refuses common and repetitive passwords.
    password_min_length: int = 8
    #: PASSWORD_MAX_LENGTH: most characters of a newly chosen password, 64-1024 (NIST SP 800-63B:
    #: permit at least 64).
    password_max_length: int = 64

    # --- key fetching -----------------------------------------------------------------------
    #: KEY_FETCH_STRATEGY: how key sets are read from Secrets Manager: ``lean`` (our SigV4-signed
    #: ``GetSecretValue`` over ``http.client``, no boto3 import), ``extension`` (the Parameters and
    #: Secrets Lambda Extension over localhost), ``sdk`` (boto3) or ``auto`` (extension when its
    #: port is set, else lean inside Lambda or with ``AWS_ENDPOINT_URL``, else sdk).
    key_fetch_strategy: str = "auto"
    #: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port of the Parameters and Secrets Lambda
    #: Extension; the template sets it (2773) on functions that carry the extension layer.
    #: 0 (unset) means "no extension here".
    secrets_extension_port: int = 0

    # --- hosted sign-in pages (branding) ----------------------------------------------------
    #: BRAND_NAME: the product name the hosted pages show (title and heading).
    brand_name: str = "Sign in"
    #: BRAND_LOGO_URL: an ``https://`` image shown above the forms (empty: none). The pages'
    #: Content-Security-Policy allows images from its origin only.
    brand_logo_url: str = ""
    #: BRAND_PRIMARY_COLOR: buttons and links, ``#rrggbb`` (anything else: the default).
    brand_primary_color: str = "#1f5fbf"
    #: BRAND_BACKGROUND_COLOR: the page background, ``#rrggbb`` (anything else: the default).
    brand_background_color: str = "#f5f6f8"

    # --- email (Amazon SES) ------------------------------------------------------------------
    #: MAIL_FROM: sender identity of the service's email (``no-reply@example.com`` or
    #: ``Name <no-reply@example.com>``), verified in SES. Empty: no email is sent.
    mail_from: str = ""
    #: MAIL_CONFIGURATION_SET: SES configuration set named on every message (event publishing,
    #: dedicated IPs); empty: none.
    mail_configuration_set: str = ""

    # --- operations -------------------------------------------------------------------------
    #: TRACING: AWS X-Ray tracing through the Powertools Tracer (template parameter
    #: TracingEnabled). Off: the tracer is never imported, and handlers run unwrapped.
    tracing: bool = False
    #: POWERTOOLS_LOG_LEVEL: the least level of a line the authorizer writes, found as Powertools
    #: Logger finds its own: AWS_LAMBDA_LOG_LEVEL first (Lambda sets it from the function's
    #: ApplicationLogLevel, the template's LogLevel parameter), then this variable or the legacy
    #: LOG_LEVEL (Python's level names). So the authorizer, which is not Powertools, drops what
    #: the functions' loggers drop. Its decisions are INFO lines, each with its metric: at WARN,
    #: only the key store's and the revocation feed's warnings and outages are written.
    log_level: str = "INFO"
    # --- DPoP (RFC 9449) --------------------------------------------------------------------
    #: DPOP_SIGNING_ALGS: the proof algorithms accepted (``dpop_signing_alg_values_supported``),
    #: among ES256, EdDSA, RS256 and PS256.
    dpop_signing_algs: tuple[str, ...] = ("ES256", "EdDSA", "RS256", "PS256")
    #: DPOP_PROOF_MAX_AGE: how old a proof's ``iat`` may be (plus 5 s of clock skew either way),
    #: seconds, 5-300; also how long its ``jti`` is remembered.
    dpop_proof_max_age: int = 60
    #: DPOP_NONCE_REQUIRED: the token endpoint requires a server nonce in every proof (RFC 9449
    #: §8): a proof without a fresh one gets ``use_dpop_nonce`` and a ``DPoP-Nonce`` header.
    dpop_nonce_required: bool = False
    #: AUTHORIZER_DPOP: DPoP at the API (RFC 9449 §7): ``off`` (the ``DPoP`` scheme is refused,
    #: and so are key-bound tokens: they cannot be checked), ``optional`` (``Bearer`` tokens and
    #: ``DPoP`` tokens with their proofs; a bound token sent as ``Bearer`` is refused) or
    #: ``required`` (``DPoP`` only). Not ``off``: proofs' ``jti`` are recorded in SESSIONS_TABLE.
    authorizer_dpop: str = "off"
    #: AUTHORIZER_PUBLIC_URL: the URL clients call the protected API at, up to its routes (e.g.
    #: ``https://api.example.com/v1`` on a custom domain with the API mapping ``v1``). DPoP proofs'
    #: ``htu`` are compared with it plus the route's path (through its own domain a raw path
    #: that already starts with its base path is not given it twice; through execute-api the raw
    #: path is kept whole). Empty: ``https://`` + the request's domain + its raw path.
    authorizer_public_url: str = ""
    # --- self-service accounts (functions/account) ---------------------------------------------
    #: ACCOUNT_CODE_TTL: lifetime of an email verification or password-reset code, seconds
    #: (60-3600).
    account_code_ttl: int = 900
    #: ACCOUNT_CODE_ATTEMPTS: wrong tries a code survives before it is void (1-10).
    account_code_attempts: int = 5
    #: CUSTOM_ATTRIBUTES: the custom user attributes people and operators may set (names of
    #: letters, digits and ``_``, at most 20; values at most 256 characters). Anything else is
    #: refused.
    custom_attributes: tuple[str, ...] = ()
    #: SIGNUP_SCOPES: the scopes a self-registered user may be granted (those among
    #: SCOPES_SUPPORTED); operators change them per user with ``authctl users update``.
    signup_scopes: tuple[str, ...] = ("openid", "profile", "email")
    #: ACCESS_TOKEN_PROFILE_CLAIMS: the profile claims access tokens carry too (``email``,
    #: ``email_verified``, ``name``, ``given_name``, ``family_name``, custom attributes), released
    #: by the granted scope as for the ID token (``email``; ``profile``). Empty: none. The
    #: authorizer passes them on when CONTEXT_CLAIMS names them.
    access_token_profile_claims: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read settings from ``env`` (default ``os.environ``); ``overrides`` win.

        :raises ConfigurationError: a variable is present but invalid.
        """
        e = os.environ if env is None else env
        d = cls._field_defaults
        values: dict[str, Any] = {
            "issuer": _str(e, "issuer").rstrip("/"),
            "audience": _str(e, "audience") or d["audience"],
            "signing_alg": _str(e, "signing_alg") or d["signing_alg"],
            "access_token_ttl": _int(e, "access_token_ttl", d["access_token_ttl"], 60, 86400),
            "max_access_token_lifetime": _int(
                e,
                "max_access_token_lifetime",
                d["max_access_token_lifetime"],
                60,
                LONGEST_ACCESS_TOKEN_LIFETIME,
            ),
            "leeway": _int(e, "leeway", d["leeway"], 0, 300),
            "refresh_max_age": _int(e, "refresh_max_age", d["refresh_max_age"], 300, 400 * 86400),
            "refresh_idle_timeout": _int(
                e, "refresh_idle_timeout", d["refresh_idle_timeout"], 300, 400 * 86400
            ),
            "refresh_grace_seconds": _int(e, "refresh_grace_seconds", d["refresh_grace_seconds"], 0, 60),
            "sso_session_max_age": _int(e, "sso_session_max_age", d["sso_session_max_age"], 300, 30 * 86400),
            "sso_session_idle_timeout": _int(
                e, "sso_session_idle_timeout", d["sso_session_idle_timeout"], 60, 30 * 86400
            ),
            "authorization_code_ttl": _int(e, "authorization_code_ttl", d["authorization_code_ttl"], 10, 60),
            "par_request_ttl": _int(e, "par_request_ttl", d["par_request_ttl"], 10, 600),
            # In a replica region the secrets are read there (auth_core/regions.py).
            "signing_keys_secret_id": secret_id_in_region(_str(e, "signing_keys_secret_id"), _region(e)),
            "public_jwks_secret_id": secret_id_in_region(_str(e, "public_jwks_secret_id"), _region(e)),
            "key_cache_ttl": _int(e, "key_cache_ttl", d["key_cache_ttl"], 1, 3600),
            "key_refresh_min_interval": _int(
                e, "key_refresh_min_interval", d["key_refresh_min_interval"], 1, 3600
            ),
            "key_stale_max": _int(e, "key_stale_max", d["key_stale_max"], 0, 7 * 86400),
            "users_table": _str(e, "users_table"),
            "clients_table": _str(e, "clients_table"),
            "sessions_table": _str(e, "sessions_table"),
            "revocations_table": _str(e, "revocations_table"),
            "scopes_supported": _words(e, "scopes_supported", d["scopes_supported"]),
            "route_scopes": _route_scopes(e, "route_scopes"),
            "route_mfa": _route_list(e, "route_mfa"),
            "context_claims": _words(e, "context_claims", d["context_claims"]),
            "revocation_check": _bool(e, "revocation_check", d["revocation_check"]),
            "revocation_feed_interval": _int(
                e, "revocation_feed_interval", d["revocation_feed_interval"], 1, 60
            ),
            "revocation_feed_max_staleness": _int(
                e, "revocation_feed_max_staleness", d["revocation_feed_max_staleness"], 2, 3600
            ),
            "revocation_feed_overlap": _int(
                e, "revocation_feed_overlap", d["revocation_feed_overlap"], 5, 3600
            ),
            "identity_header": (_str(e, "identity_header") or d["identity_header"]).lower(),
            "verified_token_cache_size": _int(
                e, "verified_token_cache_size", d["verified_token_cache_size"], 0, 1_000_000
            ),
            "authorizer_response_format": _choice(
                e, "authorizer_response_format", d["authorizer_response_format"], ("simple", "iam")
            ),
            "claims_hook": _str(e, "claims_hook"),
            "claims_hook_budget_ms": _int(e, "claims_hook_budget_ms", d["claims_hook_budget_ms"], 1, 5000),
            "login_max_failures": _int(e, "login_max_failures", d["login_max_failures"], 1, 1000),
            "login_lockout_seconds": _int(e, "login_lockout_seconds", d["login_lockout_seconds"], 1, 86400),
            "password_min_length": _int(e, "password_min_length", d["password_min_length"], 8, 64),
            "password_max_length": _int(e, "password_max_length", d["password_max_length"], 64, 1024),
            "key_fetch_strategy": _choice(
                e, "key_fetch_strategy", d["key_fetch_strategy"], ("auto", "sdk", "extension", "lean")
            ),
            "secrets_extension_port": _int(
                e, "secrets_extension_port", d["secrets_extension_port"], 0, 65535
            ),
            "brand_name": _str(e, "brand_name") or d["brand_name"],
            "brand_logo_url": _https_url(e, "brand_logo_url"),
            "brand_primary_color": _color(e, "brand_primary_color", d["brand_primary_color"]),
            "brand_background_color": _color(e, "brand_background_color", d["brand_background_color"]),
            "mail_from": _str(e, "mail_from"),
            "mail_configuration_set": _str(e, "mail_configuration_set"),
            "tracing": _bool(e, "tracing", d["tracing"]),
            "log_level": _log_level(e),
            "dpop_signing_algs": _dpop_algs(e),
            "dpop_proof_max_age": _int(e, "dpop_proof_max_age", d["dpop_proof_max_age"], 5, 300),
            "dpop_nonce_required": _bool(e, "dpop_nonce_required", d["dpop_nonce_required"]),
            "authorizer_dpop": _choice(
                e, "authorizer_dpop", d["authorizer_dpop"], ("off", "optional", "required")
            ),
            "authorizer_public_url": _str(e, "authorizer_public_url").rstrip("/"),
            "account_code_ttl": _int(e, "account_code_ttl", d["account_code_ttl"], 60, 3600),
            "account_code_attempts": _int(e, "account_code_attempts", d["account_code_attempts"], 1, 10),
            "custom_attributes": _words(e, "custom_attributes"),
            "signup_scopes": _words(e, "signup_scopes", d["signup_scopes"]),
            "access_token_profile_claims": _words(e, "access_token_profile_claims"),
        }
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Cross-field checks.

        :raises ConfigurationError: on an inconsistent combination.
        """
        if self.signing_alg not in SIGNING_ALGORITHMS:
            raise ConfigurationError(f"SIGNING_ALG must be one of {', '.join(SIGNING_ALGORITHMS)}")
        if self.access_token_ttl > self.max_access_token_lifetime:
            raise ConfigurationError("ACCESS_TOKEN_TTL must not exceed MAX_ACCESS_TOKEN_LIFETIME")
        if self.authorizer_response_format not in {"simple", "iam"}:
            raise ConfigurationError("AUTHORIZER_RESPONSE_FORMAT must be simple or iam")
        if self.log_level not in LOG_LEVELS:
            raise ConfigurationError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if self.revocation_feed_max_staleness <= self.revocation_feed_interval:
            raise ConfigurationError("REVOCATION_FEED_MAX_STALENESS must exceed REVOCATION_FEED_INTERVAL")
        if self.claims_hook and _HOOK_REFERENCE.fullmatch(self.claims_hook) is None:
            raise ConfigurationError("CLAIMS_HOOK must be 'package.module:function'")
        if len(self.custom_attributes) > 20 or any(
            _ATTRIBUTE_NAME.fullmatch(name) is None for name in self.custom_attributes
        ):
            raise ConfigurationError("CUSTOM_ATTRIBUTES: at most 20 names of letters, digits and _")
        if any(_ATTRIBUTE_NAME.fullmatch(name) is None for name in self.access_token_profile_claims):
            raise ConfigurationError("ACCESS_TOKEN_PROFILE_CLAIMS: names of letters, digits and _")
        if self.custom_attributes or self.access_token_profile_claims:
            from auth_core.accounts.profile import check_settings  # noqa: PLC0415

            check_settings(self.custom_attributes, self.access_token_profile_claims)
        if self.issuer and not self.issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigurationError("ISSUER must be an https:// URL")
        public = self.authorizer_public_url
        if public and (
            not public.startswith(("https://", "http://127.0.0.1", "http://localhost"))
            or any(c in public for c in "?#")
        ):
            raise ConfigurationError(
                "AUTHORIZER_PUBLIC_URL must be an https:// URL without query or fragment"
            )

    def __reduce__(self) -> tuple[type["Settings"], tuple[Any, ...]]:
        # copy, deepcopy and pickle: the immutable default ROUTE_SCOPES (a mappingproxy) cannot
        # be pickled; it travels as the dict it holds.
        return (self.__class__, tuple(dict(v) if type(v) is MappingProxyType else v for v in self))

    def require(self, name: str) -> str:
        """Return the non-empty string setting ``name``.

        :raises ConfigurationError: naming the environment variable when it is empty.
        """
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"{ENV_VARS.get(name, name.upper())} is not set")
        return str(value)


#: field name -> environment variable: the one table of the variables' names (read by from_env,
#: error messages, authctl and the README table).
ENV_VARS: dict[str, str] = {
    "issuer": "ISSUER",
    "audience": "AUDIENCE",
    "signing_alg": "SIGNING_ALG",
    "access_token_ttl": "ACCESS_TOKEN_TTL",
    "max_access_token_lifetime": "MAX_ACCESS_TOKEN_LIFETIME",
    "leeway": "CLOCK_LEEWAY",
    "refresh_max_age": "REFRESH_SESSION_MAX_AGE",
    "refresh_idle_timeout": "REFRESH_IDLE_TIMEOUT",
    "refresh_grace_seconds": "REFRESH_GRACE_SECONDS",
    "sso_session_max_age": "SSO_SESSION_MAX_AGE",
    "sso_session_idle_timeout": "SSO_SESSION_IDLE_TIMEOUT",
    "authorization_code_ttl": "AUTHORIZATION_CODE_TTL",
    "par_request_ttl": "PAR_REQUEST_TTL",
    "signing_keys_secret_id": "SIGNING_KEYS_SECRET_ID",
    "public_jwks_secret_id": "PUBLIC_JWKS_SECRET_ID",
    "key_cache_ttl": "KEY_CACHE_TTL",
    "key_refresh_min_interval": "KEY_REFRESH_MIN_INTERVAL",
    "key_stale_max": "KEY_STALE_MAX",
    "users_table": "USERS_TABLE",
    "clients_table": "CLIENTS_TABLE",
    "sessions_table": "SESSIONS_TABLE",
    "revocations_table": "REVOCATIONS_TABLE",
    "scopes_supported": "SCOPES_SUPPORTED",
    "route_scopes": "ROUTE_SCOPES",
    "route_mfa": "ROUTE_MFA",
    "context_claims": "CONTEXT_CLAIMS",
    "revocation_check": "REVOCATION_CHECK",
    "revocation_feed_interval": "REVOCATION_FEED_INTERVAL",
    "revocation_feed_max_staleness": "REVOCATION_FEED_MAX_STALENESS",
    "revocation_feed_overlap": "REVOCATION_FEED_OVERLAP",
    "identity_header": "IDENTITY_HEADER",
    "verified_token_cache_size": "VERIFIED_TOKEN_CACHE_SIZE",
    "authorizer_response_format": "AUTHORIZER_RESPONSE_FORMAT",
    "claims_hook": "CLAIMS_HOOK",
    "claims_hook_budget_ms": "CLAIMS_HOOK_BUDGET_MS",
    "login_max_failures": "LOGIN_MAX_FAILURES",
    "login_lockout_seconds": "LOGIN_LOCKOUT_SECONDS",
    "password_min_length": "PASSWORD_MIN_LENGTH",
    "password_max_length": "PASSWORD_MAX_LENGTH",
    "key_fetch_strategy": "KEY_FETCH_STRATEGY",
    "secrets_extension_port": "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
    "brand_name": "BRAND_NAME",
    "brand_logo_url": "BRAND_LOGO_URL",
    "brand_primary_color": "BRAND_PRIMARY_COLOR",
    "brand_background_color": "BRAND_BACKGROUND_COLOR",
    "mail_from": "MAIL_FROM",
    "mail_configuration_set": "MAIL_CONFIGURATION_SET",
    "tracing": "TRACING",
    "log_level": "POWERTOOLS_LOG_LEVEL",
    "dpop_signing_algs": "DPOP_SIGNING_ALGS",
    "dpop_proof_max_age": "DPOP_PROOF_MAX_AGE",
    "dpop_nonce_required": "DPOP_NONCE_REQUIRED",
    "authorizer_dpop": "AUTHORIZER_DPOP",
    "authorizer_public_url": "AUTHORIZER_PUBLIC_URL",
    "account_code_ttl": "ACCOUNT_CODE_TTL",
    "account_code_attempts": "ACCOUNT_CODE_ATTEMPTS",
    "custom_attributes": "CUSTOM_ATTRIBUTES",
    "signup_scopes": "SIGNUP_SCOPES",
    "access_token_profile_claims": "ACCESS_TOKEN_PROFILE_CLAIMS",
}
assert set(ENV_VARS) == set(Settings._fields)  # noqa: S101 - keep the table complete
