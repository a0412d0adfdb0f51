"""Browser sign-in on the DynamoDB stores (moto): AuthorizationService.from_settings, the SSO,
code, pushed-request and consent items, the authorization_code grant, and the code-redemption
race (RFC 6749 §4.1.2: a second redemption fails and revokes what the first issued)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import KeySet as JoseKeySet

from auth_core.errors import InvalidGrantError, KeyStoreError, StoreUnavailableError
from auth_core.oauth import pkce
from auth_core.oauth.authorize import AuthorizationService
from auth_core.oauth.grants import TokenService
from auth_core.oauth.id_token import at_hash
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from auth_core.stores.sessions import ACTIVE, REVOKED, USED
from tests.functional.oauth.conftest import CODE_FLOW_CB, FAST_HASHER, ISS, NOW, PASSWORD, rotated_keyset

CB = CODE_FLOW_CB
VERIFIER = "k" * 64
CHALLENGE = pkce.challenge_of(VERIFIER)


@pytest.fixture
def authz(browser: Any, clock: Any, audit: Any) -> AuthorizationService:
    settings = browser.settings(key_fetch_strategy="sdk")
    return AuthorizationService.from_settings(settings, audit=audit, clock=clock, hasher=FAST_HASHER)


def code_for(authz: AuthorizationService, client_id: str = "web", **extra: str) -> tuple[str, str]:
    request = authz.parse(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CB,
            "scope": "openid read",
            "state": "xyz",
            "nonce": "n-0S6",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            **extra,
        }
    )
    signed = authz.sign_in(request, "alice", PASSWORD, "203.0.113.9")
    return authz.issue_code(request, signed.session).params["code"], signed.cookie_value


def redeem(code: str, client_id: str = "web") -> OAuthRequest:
    return OAuthRequest(
        params={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CB,
            "code_verifier": VERIFIER,
            "client_id": client_id,
        },
        client=ClientCredentials(client_id, None, "none"),
    )


def test_items_are_stored_hashed_with_ttl(authz, browser):
    code, cookie = code_for(authz)
    items = {i["pk"]["S"].split("#")[0]: i for i in browser.scan("sessions")}
    assert items["code"]["pk"]["S"] == f"code#{hash_refresh_token(code)}"
    assert items["sso"]["pk"]["S"] == f"sso#{hash_refresh_token(cookie)}"
    assert int(items["code"]["expires_at"]["N"]) == NOW + 60
    dump = json.dumps(browser.scan("sessions"))
    assert code not in dump and cookie not in dump and PASSWORD not in dump


def test_code_flow_on_dynamodb_with_an_id_token(authz, service, issuers, browser):
    code, _cookie = code_for(authz)
    doc = json.loads(service.token(redeem(code), issuers).body)
    jwks = JoseKeySet.import_key_set(browser.jwks)
    claims = jwt.decode(doc["id_token"], jwks).claims
    assert claims["aud"] == "web" and claims["nonce"] == "n-0S6" and claims["iss"] == ISS
    assert claims["at_hash"] == at_hash(doc["access_token"], browser.keyset.get_signing_key().alg)
    stored = service.sessions.get_code(hash_refresh_token(code))
    assert stored is not None and stored.status == USED and stored.issued_family


def test_no_id_token_key_is_a_retryable_503_and_leaves_the_code_unspent(
    authz, browser, clock, audit, issuers
):
    """The ID-token key is fetched before the code is redeemed: without one (an ES256 set whose
    RS256 ID-token key is not active yet) the client gets a 503 and may retry the same code; the
    retry is not mistaken for reuse (which would revoke the family)."""
    code, _ = code_for(authz)
    unready = TokenService.from_settings(
        browser.settings(),
        keys=rotated_keyset(id_token_key=False),
        audit=audit,
        hasher=FAST_HASHER,
        clock=clock,
    )
    for _attempt in range(2):
        with pytest.raises(KeyStoreError):
            unready.token(redeem(code), issuers)
    stored = unready.sessions.get_code(hash_refresh_token(code))
    assert stored is not None and stored.status == ACTIVE and not stored.issued_family
    assert "AuthorizationCodeReuse" not in audit.names()


def test_second_redemption_revokes_the_first_ones_family(authz, service, issuers):
    code, _ = code_for(authz)
    doc = json.loads(service.token(redeem(code), issuers).body)
    family = service.sessions.get_token(hash_refresh_token(doc["refresh_token"])).family_id
    with pytest.raises(InvalidGrantError):
        service.token(redeem(code), issuers)
    assert service.sessions.get_family(family).status == REVOKED


def test_code_redemption_race_exactly_one_wins_and_the_loser_revokes_it(authz, service, issuers):
    """Deterministic interleaving: redemption A reads the code, signs, and just before its
    transaction redemption B runs start to finish (B commits). A's transaction then fails on the
    code's condition; A re-reads it, finds B's family and revokes it."""
    code, _ = code_for(authz)
    real = service.sessions.redeem_code
    results: dict[str, Any] = {}
    outcomes: list[Any] = []

    def interleaved(*args: Any, **kwargs: Any) -> Any:
        if "b" not in results:
            results["b"] = "running"
            try:
                results["b"] = json.loads(service.token(redeem(code), issuers).body)
            except InvalidGrantError as exc:  # pragma: no cover - would fail the assertions below
                results["b"] = exc
        outcome = real(*args, **kwargs)
        outcomes.append(outcome)
        return outcome

    service.sessions.redeem_code = interleaved  # type: ignore[method-assign]
    with pytest.raises(InvalidGrantError) as info:
        service.token(redeem(code), issuers)
    assert info.value.reason == "code_reuse"
    assert [o.ok for o in outcomes] == [True, False]  # B committed, A lost
    winner = results["b"]
    family = service.sessions.get_token(hash_refresh_token(winner["refresh_token"])).family_id
    assert service.sessions.get_family(family).status == REVOKED
    families = service.sessions.families_of(service.users.get("alice").subject)
    assert len(families) == 1  # the loser wrote nothing


def test_a_code_of_a_client_without_refresh_deny_lists_the_access_token_on_reuse(authz, service, issuers):
    code, _ = code_for(authz, client_id="app3")
    json.loads(service.token(redeem(code, "app3"), issuers).body)
    with pytest.raises(InvalidGrantError):
        service.token(redeem(code, "app3"), issuers)
    stored = service.sessions.get_code(hash_refresh_token(code))
    facts = service.revoker.revocations.facts(subject="x", jti=stored.issued_jti)
    assert facts.reason(NOW) is not None


def test_sso_session_on_dynamodb_and_logout(authz, service, issuers, clock, browser):
    code, cookie = code_for(authz)
    doc = json.loads(service.token(redeem(code), issuers).body)
    assert authz.current_session(cookie) is not None
    clock.advance(10)
    result = authz.end_session(
        cookie,
        id_token_hint=doc["id_token"],
        client_id="web",
        post_logout_redirect_uri="https://app.example.com/bye",
        state="s1",
    )
    assert result.redirect_to == "https://app.example.com/bye?state=s1"
    assert authz.current_session(cookie) is None
    family = service.sessions.get_token(hash_refresh_token(doc["refresh_token"])).family_id
    assert service.sessions.get_family(family).status == REVOKED


def test_a_hint_matches_only_the_session_it_was_issued_under(authz, service, issuers, clock):
    """RP-Initiated Logout §2: only a hint naming the browser's own session may end it without
    asking; an expired one still names it, another session's (or garbage) does not."""
    code, cookie = code_for(authz)
    hint = json.loads(service.token(redeem(code), issuers).body)["id_token"]
    _other_code, other_cookie = code_for(authz)
    clock.advance(3000)  # past the ID token's lifetime, within the SSO session's idle limit
    assert authz.hint_matches_session(cookie, hint)
    assert not authz.hint_matches_session(other_cookie, hint)  # same user, another session
    assert not authz.hint_matches_session(cookie, None)
    assert not authz.hint_matches_session(cookie, hint[:-4] + "AAAA")
    assert not authz.hint_matches_session(None, hint)


def test_logout_all_ends_the_sso_session(authz, service, clock):
    _code, cookie = code_for(authz)
    clock.advance(1)
    service.revoker.logout_all("alice")
    assert authz.current_session(cookie) is None


def test_pushed_request_and_consent_items(authz, browser):
    browser.add_client(
        "conf",
        secret="c" * 43,
        grants=("authorization_code",),
        scopes=("openid", "read"),
        redirect_uris=(CB,),
        require_par=True,
    )
    pushed = authz.push(
        OAuthRequest(
            params={
                "response_type": "code",
                "client_id": "conf",
                "redirect_uri": CB,
                "scope": "openid",
                "code_challenge": CHALLENGE,
                "code_challenge_method": "S256",
            },
            client=ClientCredentials("conf", "c" * 43, "post"),
        )
    )
    request = authz.parse({"client_id": "conf", "request_uri": pushed["request_uri"]})
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    assert authz.needs_consent(request, signed.session)
    authz.grant_consent(request, signed.session)
    assert not authz.needs_consent(request, signed.session)
    authz.issue_code(request, signed.session)
    par = next(i for i in browser.scan("sessions") if i["pk"]["S"].startswith("par#"))
    assert par["status"]["S"] == "used" and par["pk"]["S"] != pushed["request_uri"]


def test_unused_code_stays_active(authz, service):
    code, _ = code_for(authz)
    assert service.sessions.get_code(hash_refresh_token(code)).status == ACTIVE


def test_a_code_issued_before_a_logout_starts_no_session_after_it(authz, service, issuers, browser):
    code, cookie = code_for(authz)
    authz.end_session(cookie, id_token_hint=None, client_id=None, post_logout_redirect_uri=None, state=None)
    with pytest.raises(InvalidGrantError) as info:
        service.token(redeem(code), issuers)
    assert info.value.reason == "sso_session_ended"
    assert not [i for i in browser.scan("sessions") if i["pk"]["S"].startswith("fam#")]


def test_sso_session_idle_and_absolute_limits_on_dynamodb(authz, clock):
    _code, cookie = code_for(authz)
    for _ in range(20):  # each use moves the idle limit (1 h) on; the absolute one (12 h) stays
        clock.advance(3500)
        if authz.current_session(cookie) is None:
            break
    assert 43200 <= clock.now - NOW < 43200 + 3500  # ended by the absolute limit, not before
    _code, idle = code_for(authz)
    clock.advance(3601)
    assert authz.current_session(idle) is None


def test_a_throttled_redemption_is_a_503_and_the_code_stays_redeemable(
    authz, service, issuers, audit, monkeypatch
):
    """A cancellation code that is not a failed condition (throttling) says nothing about the
    code: it is a 503, never "redeemed first" (which would revoke the family of a redemption
    that never happened, and spend nothing)."""
    code, _ = code_for(authz)
    ddb = service.sessions.ddb
    real = ddb.transact_write_items
    throttled: list[int] = []

    def transact(**kw: Any) -> Any:
        if not throttled:
            throttled.append(len(kw["TransactItems"]))
            reasons = [{"Code": "ThrottlingError", "Message": "slow down"}]
            reasons += [{"Code": "None"}] * (len(kw["TransactItems"]) - 1)
            error = {"Code": "TransactionCanceledException", "Message": "cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")
        return real(**kw)

    monkeypatch.setattr(ddb, "transact_write_items", transact)
    with pytest.raises(StoreUnavailableError):
        service.token(redeem(code), issuers)
    assert throttled and "AuthorizationCodeReuse" not in audit.names()
    assert service.sessions.get_code(hash_refresh_token(code)).status == ACTIVE
    doc = json.loads(service.token(redeem(code), issuers).body)  # the retry succeeds
    assert doc["token_type"] == "Bearer"
