"""Browser sign-in over the memory stores: AuthorizationService (/authorize, /logout, /par) and
the authorization_code grant of TokenService, every rule and refusal (RFC 6749 §4.1, RFC 7636,
RFC 9126, RFC 9207, RFC 9700, OpenID Connect Core §3.1)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet as JoseKeySet

from auth_core.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from auth_core.jwk import JWKSet, generate_signing_key
from auth_core.keyset import KeyRecord, KeySet
from auth_core.oauth import pkce
from auth_core.oauth.audit import RecordingAudit
from auth_core.oauth.authorization import NoRedirectError, RedirectError, SignInFailedError
from auth_core.oauth.authorize import AuthorizationService
from auth_core.oauth.grants import TokenPolicy, TokenService
from auth_core.oauth.id_token import at_hash
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from auth_core.passwords import PasswordHasher
from auth_core.stores.clients import Client, hash_client_secret
from auth_core.stores.memory import MemoryBackend
from auth_core.stores.sessions import ACTIVE, REVOKED
from auth_core.stores.users import User
from auth_core.tokens import AccessTokenIssuer

NOW = 1_800_000_000
ISS = "https://auth.example.com"
PASSWORD = "correct horse battery staple"
HASHER = PasswordHasher(memory_cost=256, iterations=1)
VERIFIER = "v" * 43 + "-._~" + "x" * 10
CHALLENGE = pkce.challenge_of(VERIFIER)
CB = "https://app.example.com/cb"
SECRET = "s" * 43


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys() -> KeySet:
    key = generate_signing_key("RS256")
    return KeySet(
        [KeyRecord(key=key, status="active", created_at=NOW - 100, activated_at=NOW - 100)],
        grace_secret=os.urandom(32),
    )


@pytest.fixture
def backend(clock: Clock) -> MemoryBackend:
    backend = MemoryBackend(clock=clock)
    backend.users.create(
        User("alice", HASHER.hash(PASSWORD), roles=("user",), scopes=("openid", "read", "write"))
    )
    code_grants = ("authorization_code", "refresh_token")
    backend.clients.create(
        Client(
            "spa",
            grant_types=code_grants,
            scopes=("openid", "read"),
            redirect_uris=(CB, "http://127.0.0.1/cb"),
            post_logout_redirect_uris=("https://app.example.com/bye", "http://127.0.0.1/bye"),
            first_party=True,
        )
    )
    backend.clients.create(
        Client("third", grant_types=code_grants, scopes=("openid", "read"), redirect_uris=(CB,))
    )
    backend.clients.create(
        Client("noref", grant_types=("authorization_code",), scopes=("openid", "read"), redirect_uris=(CB,))
    )
    backend.clients.create(
        Client(
            "par-only",
            grant_types=code_grants,
            scopes=("openid",),
            redirect_uris=(CB,),
            require_par=True,
            secret_hash=hash_client_secret(SECRET),
        )
    )
    backend.clients.create(
        Client("m2m", grant_types=("refresh_token",), scopes=("read",), redirect_uris=(CB,))
    )
    backend.clients.create(Client("legacy-public", grant_types=("password",), scopes=("read",)))
    backend.clients.create(
        Client("legacy", secret_hash=hash_client_secret(SECRET), grant_types=("password",), scopes=("read",))
    )
    return backend


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def authz(backend: MemoryBackend, clock: Clock, audit: RecordingAudit, keys: KeySet) -> AuthorizationService:
    return AuthorizationService(
        **backend.stores(),
        **backend.signin_stores(),
        issuer=ISS,
        public_keys=JWKSet.from_dict(keys.public_jwks()),
        hasher=HASHER,
        audit=audit,
        clock=clock,
    )


@pytest.fixture
def tokens(backend: MemoryBackend, clock: Clock, audit: RecordingAudit, keys: KeySet) -> TokenService:
    return TokenService(
        **backend.stores(),
        sso=backend.sso,
        keys=keys,
        policy=TokenPolicy(),
        hasher=HASHER,
        audit=audit,
        clock=clock,
        sleep=lambda _s: None,
    )


def issuers(clock: Clock) -> Any:
    return lambda ttl: AccessTokenIssuer(ISS, "https://api.example.com", ttl, clock=clock)


def params(**extra: Any) -> dict[str, Any]:
    base = {
        "response_type": "code",
        "client_id": "spa",
        "redirect_uri": CB,
        "scope": "openid read",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def token_request(code: str, client: str = "spa", secret: str | None = None, **extra: str) -> OAuthRequest:
    p = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
        "client_id": client,
        **extra,
    }
    return OAuthRequest(
        params=p,
        client=ClientCredentials(client, secret, "post" if secret else "none"),
        source_ip="203.0.113.5",
    )


def sign_in_and_code(authz: AuthorizationService, **extra: Any) -> tuple[str, str]:
    request = authz.parse(params(**extra))
    signed = authz.sign_in(request, "alice", PASSWORD, "203.0.113.5")
    response = authz.issue_code(request, signed.session)
    assert response.params["state"] == request.state and response.params["iss"] == ISS
    return response.params["code"], signed.cookie_value


# ---------------------------------------------------------------- PKCE
def test_pkce_s256_only_and_shapes():
    assert pkce.verify(VERIFIER, CHALLENGE)
    assert not pkce.verify(VERIFIER + "a", CHALLENGE)
    assert not pkce.verify("short", pkce.challenge_of("short"))
    assert not pkce.verify("v" * 129, pkce.challenge_of("v" * 129))
    # RFC 7636 Appendix B
    assert (
        pkce.challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


# ---------------------------------------------------------------- the full flow
def test_code_flow_issues_tokens_and_a_valid_id_token(authz, tokens, clock, keys):
    code, _cookie = sign_in_and_code(authz)
    doc = json.loads(tokens.token(token_request(code), issuers(clock)).body)
    assert doc["refresh_token"] and doc["scope"] == "openid read"
    # an independent library validates the ID token, at_hash included
    jwks = JoseKeySet.import_key_set(keys.public_jwks())
    decoded = jwt.decode(doc["id_token"], jwks, algorithms=["RS256"])
    claims = decoded.claims
    assert decoded.header["typ"] == "JWT"
    assert claims["iss"] == ISS and claims["aud"] == "spa" and claims["nonce"] == "n-1"
    assert claims["auth_time"] == NOW and claims["amr"] == ["pwd"] and claims["sid"]
    assert claims["at_hash"] == at_hash(doc["access_token"], "RS256")
    jwt.JWTClaimsRegistry(
        now=NOW + 1,
        iss={"essential": True, "value": ISS},
        aud={"essential": True, "value": "spa"},
        nonce={"essential": True, "value": "n-1"},
    ).validate(claims)
    # refresh with openid: a new ID token with the original auth_time and no nonce (OIDC §12.2)
    clock.now += 100
    refreshed = json.loads(
        tokens.token(
            OAuthRequest(
                params={
                    "grant_type": "refresh_token",
                    "refresh_token": doc["refresh_token"],
                    "client_id": "spa",
                },
                client=ClientCredentials("spa", None, "none"),
            ),
            issuers(clock),
        ).body
    )
    again = jwt.decode(refreshed["id_token"], jwks).claims
    assert again["auth_time"] == NOW and "nonce" not in again and again["sid"] == claims["sid"]


def test_code_reuse_fails_and_revokes_what_the_first_issued(authz, tokens, clock, backend):
    code, _ = sign_in_and_code(authz)
    doc = json.loads(tokens.token(token_request(code), issuers(clock)).body)
    family = backend.sessions.get_token(hash_refresh_token(doc["refresh_token"])).family_id
    with pytest.raises(InvalidGrantError) as info:
        tokens.token(token_request(code), issuers(clock))
    assert info.value.reason == "code_reuse"
    assert backend.sessions.get_family(family).status == REVOKED


def test_code_reuse_without_a_family_deny_lists_the_access_token(authz, tokens, clock, backend):
    code, _ = sign_in_and_code(authz, client_id="noref")
    doc = json.loads(tokens.token(token_request(code, client="noref"), issuers(clock)).body)
    assert "refresh_token" not in doc
    with pytest.raises(InvalidGrantError):
        tokens.token(token_request(code, client="noref"), issuers(clock))
    stored = backend.sessions.get_code(hash_refresh_token(code))
    assert backend.revocations.facts(subject="x", jti=stored.issued_jti).reason(NOW) is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"code_verifier": "w" * 43}, "pkce_mismatch"),
        ({"redirect_uri": "http://127.0.0.1/cb"}, "redirect_uri_mismatch"),
        ({"redirect_uri": CB + "/"}, "redirect_uri_mismatch"),
    ],
)
def test_code_refusals_at_the_token_endpoint(authz, tokens, clock, backend, change, reason):
    code, _ = sign_in_and_code(authz)
    with pytest.raises(InvalidGrantError) as info:
        tokens.token(token_request(code, **change), issuers(clock))
    assert info.value.reason == reason
    assert backend.sessions.get_code(hash_refresh_token(code)).status == ACTIVE  # not consumed


def test_expired_code_and_wrong_client(authz, tokens, clock):
    code, _ = sign_in_and_code(authz)
    with pytest.raises(InvalidGrantError) as info:
        tokens.token(token_request(code, client="third"), issuers(clock))
    assert info.value.reason == "code_client_mismatch"
    clock.now += 60
    with pytest.raises(InvalidGrantError) as info:
        tokens.token(token_request(code), issuers(clock))
    assert info.value.reason == "code_expired"


def test_public_client_is_refused_the_password_grant(tokens, clock):
    request = OAuthRequest(
        params={
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "client_id": "legacy-public",
        },
        client=ClientCredentials("legacy-public", None, "none"),
    )
    with pytest.raises(UnauthorizedClientError):
        tokens.token(request, issuers(clock))


def test_a_logout_all_between_code_and_redemption_fails_it(authz, tokens, clock):
    code, cookie = sign_in_and_code(authz)
    tokens.revoker.logout_all("alice")
    with pytest.raises(InvalidGrantError):
        tokens.token(token_request(code), issuers(clock))
    assert authz.current_session(cookie) is None


# ---------------------------------------------------------------- /authorize refusals
@pytest.mark.parametrize(
    "extra",
    [
        {"client_id": "nobody"},
        {"client_id": None},
        {"redirect_uri": None},
        {"redirect_uri": "https://app.example.com/cb/"},
        {"redirect_uri": "https://app.example.com.evil.com/cb"},
        {"redirect_uri": "https://app.example.com/cb?x=1"},
        {"redirect_uri": "HTTPS://app.example.com/cb"},
    ],
)
def test_no_redirect_for_unknown_clients_and_unregistered_uris(authz, extra):
    with pytest.raises(NoRedirectError):
        authz.parse(params(**extra))


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"state": ["a", "b"]}, "invalid_request"),
        ({"scope": ["openid", "read"]}, "invalid_request"),
        ({"client_id": "m2m"}, "unauthorized_client"),
    ],
)
def test_redirected_refusals_carry_state_and_iss(authz, extra, error):
    with pytest.raises(RedirectError) as info:
        authz.parse(params(**extra))
    response = info.value.response
    assert response.params["error"] == error and response.params["iss"] == ISS
    assert response.redirect_uri == CB
    assert response.params.get("state") in ("st-1", "a")


def test_loopback_redirect_any_port(authz):
    request = authz.parse(params(redirect_uri="http://127.0.0.1:51234/cb"))
    assert request.redirect_uri == "http://127.0.0.1:51234/cb"


def test_prompt_none_without_session_answers_login_required(authz):
    request = authz.parse(params(prompt="none"))
    session = authz.current_session(None)
    assert authz.needs_login(request, session)
    response = authz.refuse(request, "login_required")
    assert response.params == {"error": "login_required", "state": "st-1", "iss": ISS}


def test_sso_session_reused_and_max_age(authz, clock):
    _code, cookie = sign_in_and_code(authz)
    session = authz.current_session(cookie)
    assert session is not None
    request = authz.parse(params(max_age="100"))
    assert not authz.needs_login(request, session)
    clock.now += 101
    assert authz.needs_login(request, authz.current_session(cookie))
    assert authz.needs_login(authz.parse(params(prompt="login")), session)


def test_a_sign_in_ends_the_session_it_replaces(authz, clock):
    """One browser, one SSO session: signing in (as anyone) ends the cookie's previous session;
    a failed attempt ends nothing."""
    _code, cookie = sign_in_and_code(authz)
    request = authz.parse(params(prompt="login"))
    with pytest.raises(SignInFailedError):
        authz.sign_in(request, "alice", "wrong", None, replacing=cookie)
    assert authz.current_session(cookie) is not None
    signed = authz.sign_in(request, "alice", PASSWORD, None, replacing=cookie)
    assert authz.current_session(cookie) is None
    assert authz.current_session(signed.cookie_value) is not None


def test_prompt_login_is_met_by_this_requests_sign_in_and_max_age_by_auth_time(authz, clock):
    """Re-checked after the sign-in it asked for (the consent POST re-checks too): prompt=login
    and max_age=0 are met by that sign-in, whatever the clock says since; max_age is not."""
    _code, cookie = sign_in_and_code(authz)
    old = authz.current_session(cookie)
    clock.now += 1800
    for extra in ({"prompt": "login"}, {"max_age": "0"}, {"max_age": "60", "prompt": "login"}):
        request = authz.parse(params(**extra))
        assert authz.needs_login(request, old)  # a session from before the request never meets it
        signed = authz.sign_in(request, "alice", PASSWORD, None)
        assert not authz.needs_login(request, signed.session, reauthenticated=True)
    request = authz.parse(params(max_age="60"))
    assert authz.needs_login(request, old, reauthenticated=True)  # auth_time is 1800 s old
    clock.now += 61
    assert authz.needs_login(request, signed.session, reauthenticated=True)


def test_sso_session_idle_and_absolute_limits(authz, clock):
    _code, cookie = sign_in_and_code(authz)
    clock.now += 3599
    assert authz.current_session(cookie) is not None  # touched: idle timer restarts
    clock.now += 3599
    assert authz.current_session(cookie) is not None
    clock.now += 3601
    assert authz.current_session(cookie) is None


def test_sign_in_failures_are_generic_and_throttled(authz):
    request = authz.parse(params())
    for name in ("alice", "nobody"):
        with pytest.raises(SignInFailedError):
            authz.sign_in(request, name, "wrong password", "198.51.100.1")


def test_consent_for_third_party_clients(authz):
    request = authz.parse(params(client_id="third"))
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    assert authz.needs_consent(request, signed.session)
    authz.grant_consent(request, signed.session)
    assert not authz.needs_consent(request, signed.session)
    first_party = authz.parse(params())
    assert not authz.needs_consent(first_party, signed.session)


def test_nonce_is_passed_through_to_the_id_token(authz, tokens, clock):
    code, _ = sign_in_and_code(authz, nonce="unique-nonce-42")
    doc = json.loads(tokens.token(token_request(code), issuers(clock)).body)
    payload = doc["id_token"].split(".")[1]
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["nonce"] == "unique-nonce-42"


# ---------------------------------------------------------------- PAR
def par_request(**extra: str) -> OAuthRequest:
    p = dict(params(client_id="par-only", scope="openid", **extra).items())
    return OAuthRequest(
        params={**p, "client_secret": SECRET}, client=ClientCredentials("par-only", SECRET, "post")
    )


def test_require_par_and_the_pushed_request_is_single_use(authz, tokens, clock):
    with pytest.raises(RedirectError) as info:
        authz.parse(params(client_id="par-only", scope="openid"))
    assert info.value.response.params["error"] == "invalid_request"
    pushed = authz.push(par_request())
    assert (
        pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and pushed["expires_in"] == 60
    )
    request = authz.parse({"client_id": "par-only", "request_uri": pushed["request_uri"], "state": "ignored"})
    assert request.state == "st-1" and request.form_fields == {
        "client_id": "par-only",
        "request_uri": pushed["request_uri"],
    }
    with pytest.raises(NoRedirectError):
        authz.parse({"client_id": "spa", "request_uri": pushed["request_uri"]})
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    assert authz.issue_code(request, signed.session).params["code"]
    with pytest.raises(NoRedirectError):
        authz.parse({"client_id": "par-only", "request_uri": pushed["request_uri"]})


def test_par_needs_client_authentication(authz):
    with pytest.raises(InvalidClientError):
        authz.push(
            OAuthRequest(
                params=params(client_id="par-only"), client=ClientCredentials("par-only", "wrong", "post")
            )
        )


# ---------------------------------------------------------------- logout
def test_logout_ends_the_session_and_its_families_and_redirects_only_when_registered(
    authz, tokens, clock, backend
):
    code, cookie = sign_in_and_code(authz)
    doc = json.loads(tokens.token(token_request(code), issuers(clock)).body)
    family = backend.sessions.get_token(hash_refresh_token(doc["refresh_token"])).family_id
    with pytest.raises(NoRedirectError):
        authz.end_session(
            cookie,
            id_token_hint=doc["id_token"],
            client_id=None,
            post_logout_redirect_uri="https://evil.example/bye",
            state="s",
        )
    clock.now += 7200  # an expired hint is fine
    result = authz.end_session(
        cookie,
        id_token_hint=doc["id_token"],
        client_id=None,
        post_logout_redirect_uri="https://app.example.com/bye",
        state="s",
    )
    assert result.redirect_to == "https://app.example.com/bye?state=s"
    assert backend.sessions.get_family(family).status == REVOKED
    assert authz.current_session(cookie) is None
    assert (
        authz.end_session(
            None, id_token_hint=None, client_id=None, post_logout_redirect_uri=None, state=None
        ).redirect_to
        is None
    )


def test_a_loopback_post_logout_redirect_may_name_any_port_as_at_authorize(authz, tokens, clock):
    """The demo app registers ``http://127.0.0.1/demo/`` and runs on whatever port the stack
    has: sign-in accepted its redirect (RFC 8252 §7.3), so sign-out must accept the same URI."""
    code, cookie = sign_in_and_code(authz)
    hint = json.loads(tokens.token(token_request(code), issuers(clock)).body)["id_token"]
    for look_alike in (
        "http://127.0.0.1:8080/bye/",
        "http://127.0.0.1.evil.example/bye",
        "http://[::1]:8080/bye",
    ):
        with pytest.raises(NoRedirectError):
            authz.end_session(
                cookie, id_token_hint=hint, client_id=None, post_logout_redirect_uri=look_alike, state="s"
            )
    result = authz.end_session(
        cookie,
        id_token_hint=hint,
        client_id=None,
        post_logout_redirect_uri="http://127.0.0.1:8080/bye",
        state="s",
    )
    assert result.redirect_to == "http://127.0.0.1:8080/bye?state=s"
    assert authz.current_session(cookie) is None


def test_a_code_issued_before_a_logout_starts_no_session_after_it(authz, tokens, clock, backend):
    code, cookie = sign_in_and_code(authz)
    authz.end_session(cookie, id_token_hint=None, client_id=None, post_logout_redirect_uri=None, state=None)
    with pytest.raises(InvalidGrantError) as info:
        tokens.token(token_request(code), issuers(clock))
    assert info.value.reason == "sso_session_ended"
    assert backend.db.families == {}


def test_a_logout_all_between_the_session_check_and_the_code_refuses_the_code(authz, tokens):
    request = authz.parse(params())
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    tokens.revoker.logout_all("alice")
    with pytest.raises(RedirectError) as info:
        authz.issue_code(request, signed.session)
    assert info.value.response.params["error"] == "access_denied"


def test_the_sign_in_page_and_the_password_grant_share_one_throttle(authz, tokens, clock):
    from auth_core.errors import SlowDownError

    request = authz.parse(params())
    for _ in range(5):  # the throttle's default: 5 attempts per username and address
        with pytest.raises(SignInFailedError):
            authz.sign_in(request, "alice", "wrong password", "198.51.100.7")
    grant = OAuthRequest(
        params={"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "legacy"},
        client=ClientCredentials("legacy", SECRET, "post"),
        source_ip="198.51.100.7",
    )
    with pytest.raises(SlowDownError):  # the right password, refused before any hashing
        tokens.token(grant, issuers(clock))
    with pytest.raises(SlowDownError):
        authz.sign_in(request, "alice", PASSWORD, "198.51.100.7")


def test_form_post_response_mode_and_max_age_zero(authz):
    request = authz.parse(params(response_mode="form_post", max_age="0"))
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    assert authz.needs_login(request, signed.session)  # max_age=0 is prompt=login (OIDC §3.1.2.1)
    response = authz.issue_code(request, signed.session)
    assert response.response_mode == "form_post" and set(response.params) == {"code", "state", "iss"}


def test_for_issuer_answers_as_the_derived_issuer(authz):
    other = authz.for_issuer("https://derived.example.com")
    with pytest.raises(RedirectError) as info:
        other.parse(params(response_type="token"))
    assert info.value.response.params["iss"] == "https://derived.example.com"
    assert authz.issuer == ISS and other.sso is authz.sso


def test_a_pushed_request_names_its_own_client_only(authz):
    with pytest.raises(InvalidRequestError) as info:
        authz.push(
            OAuthRequest(
                params={**params(client_id="spa"), "client_secret": SECRET},
                client=ClientCredentials("par-only", SECRET, "post"),
            )
        )
    assert info.value.reason == "par_client_mismatch"
