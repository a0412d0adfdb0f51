"""Multi-factor sign-in on the DynamoDB stores (moto), through ``AuthorizationService``: TOTP
verification (window, replay, concurrent replay), recovery codes, enrolment, the pending
sign-in (expiry, single use, bound to the browser and the request), the policy combinations,
the login throttle, and ``amr``/``acr`` in ID, access and refreshed tokens."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet as JoseKeySet

from auth_core.errors import SlowDownError
from auth_core.mfa import recovery, totp
from auth_core.oauth import pkce
from auth_core.oauth.authorization import (
    MfaChallenge,
    MfaExpiredError,
    SecondFactorFailedError,
    SignedIn,
)
from auth_core.oauth.authorize import AuthorizationService
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from auth_core.stores.mfa import MfaStore
from tests.functional.oauth.conftest import CODE_FLOW_CB, FAST_HASHER, NOW, PASSWORD

CB = CODE_FLOW_CB
VERIFIER = "m" * 64
BROWSER = "csrf-secret-of-the-browser-0123456789"
STEP = NOW // totp.STEP
#: a new source address per call (the login throttle allows 5 attempts per address and user;
#: the throttle has a test of its own here)
_ADDRESSES = (f"203.0.113.{i}" for i in itertools.count(1))


@pytest.fixture
def authz(browser: Any, clock: Any, audit: Any) -> AuthorizationService:
    browser.add_client(
        "strict",
        grants=("authorization_code", "refresh_token"),
        scopes=("openid", "read"),
        redirect_uris=(CB,),
        first_party=True,
        mfa="required",
    )
    browser.add_client(
        "kiosk",
        grants=("authorization_code",),
        scopes=("openid",),
        redirect_uris=(CB,),
        first_party=True,
        mfa="off",
    )
    settings = browser.settings(key_fetch_strategy="sdk")
    return AuthorizationService.from_settings(settings, audit=audit, clock=clock, hasher=FAST_HASHER)


def request_of(authz: AuthorizationService, client_id: str = "web", **extra: str) -> Any:
    return authz.parse(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CB,
            "scope": "openid read" if client_id != "kiosk" else "openid",
            "state": "s",
            "nonce": "n",
            "code_challenge": pkce.challenge_of(VERIFIER),
            "code_challenge_method": "S256",
            **extra,
        }
    )


def enrol(username: str = "alice", *, policy: str = "") -> tuple[str, list[str]]:
    """Give ``username`` a TOTP secret and recovery codes directly in the store."""
    store = MfaStore("users")
    user_id = store.ddb.get_item(TableName="users", Key={"username": {"S": username}})["Item"]["user_id"]["S"]
    secret, codes = totp.new_secret(), recovery.new_codes()
    check = store.enrol(
        username, secret, 0, [recovery.hash_code(user_id, c) for c in codes], sessions_version=0
    )
    store.ddb.transact_write_items(TransactItems=[check.payload])
    if policy:
        assert store.set_policy(username, policy)
    return secret, codes


def challenge_of(
    authz: AuthorizationService, client_id: str = "web", **extra: str
) -> tuple[Any, MfaChallenge]:
    request = request_of(authz, client_id, **extra)
    result = authz.sign_in(request, "alice", PASSWORD, next(_ADDRESSES), browser=BROWSER)
    assert isinstance(result, MfaChallenge), result
    return request, result


def second(
    authz: AuthorizationService, request: Any, challenge: MfaChallenge, code: str, **kw: Any
) -> SignedIn:
    kw.setdefault("browser", BROWSER)
    return authz.second_factor(request, challenge.ticket, code, kw.pop("ip", None) or next(_ADDRESSES), **kw)


def redeem(service: Any, issuers: Any, code: str, client_id: str = "web") -> dict[str, Any]:
    body = service.token(
        OAuthRequest(
            params={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CB,
                "code_verifier": VERIFIER,
                "client_id": client_id,
            },
            client=ClientCredentials(client_id, None, "none"),
        ),
        issuers,
    ).body
    return dict(json.loads(body))


def claims_of(token: str, browser: Any) -> dict[str, Any]:
    return dict(jwt.decode(token, JoseKeySet.import_key_set(browser.jwks)).claims)


# ---------------------------------------------------------------------- verification
def test_an_enrolled_user_signs_in_in_two_steps_and_tokens_say_how(authz, service, issuers, browser, audit):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    assert challenge.mode == "verify" and not challenge.secret and not challenge.recovery_codes
    # no SSO session exists before the second factor
    assert not [i for i in browser.scan("sessions") if i["pk"]["S"].startswith("sso#")]
    signed = second(authz, request, challenge, totp.code_at(secret, STEP))
    assert signed.session.amr == ("pwd", "otp", "mfa")
    assert authz.current_session(signed.cookie_value).amr == ("pwd", "otp", "mfa")
    tokens = redeem(service, issuers, authz.issue_code(request, signed.session).params["code"])
    id_claims = claims_of(tokens["id_token"], browser)
    access = claims_of(tokens["access_token"], browser)
    assert id_claims["amr"] == access["amr"] == ["pwd", "otp", "mfa"]
    assert id_claims["acr"] == access["acr"] == "aal2"
    # a refresh keeps them
    refreshed = json.loads(
        service.token(
            OAuthRequest(
                params={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": "web",
                },
                client=ClientCredentials("web", None, "none"),
            ),
            issuers,
        ).body
    )
    assert claims_of(refreshed["access_token"], browser)["amr"] == ["pwd", "otp", "mfa"]
    assert claims_of(refreshed["id_token"], browser)["acr"] == "aal2"
    assert "MfaSucceeded" in audit.names()


def test_a_password_only_sign_in_says_pwd_and_aal1(authz, service, issuers, browser):
    request = request_of(authz)
    signed = authz.sign_in(request, "alice", PASSWORD, None, browser=BROWSER)
    assert isinstance(signed, SignedIn) and signed.session.amr == ("pwd",)
    tokens = redeem(service, issuers, authz.issue_code(request, signed.session).params["code"])
    assert claims_of(tokens["access_token"], browser)["acr"] == "aal1"
    assert claims_of(tokens["id_token"], browser)["amr"] == ["pwd"]


def test_a_wrong_code_fails_and_the_ticket_stays_usable(authz):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    for bad in (totp.code_at(secret, STEP + 7), "12345", "abcdef"):
        with pytest.raises(SecondFactorFailedError):
            second(authz, request, challenge, bad)
    assert isinstance(second(authz, request, challenge, totp.code_at(secret, STEP)), SignedIn)


def test_codes_of_the_adjacent_steps_pass_and_those_outside_the_window_do_not(authz, clock):
    secret, _ = enrol()
    assert totp.matching_step(secret, totp.code_at(secret, STEP - 1), NOW) == STEP - 1
    assert totp.matching_step(secret, totp.code_at(secret, STEP + 1), NOW) == STEP + 1
    for outside in (STEP - 2, STEP + 2):
        request, challenge = challenge_of(authz)
        with pytest.raises(SecondFactorFailedError):
            second(authz, request, challenge, totp.code_at(secret, outside))
    request, challenge = challenge_of(authz)
    assert isinstance(second(authz, request, challenge, totp.code_at(secret, STEP - 1)), SignedIn)


def test_a_code_is_accepted_once_and_no_earlier_step_after_it(authz, audit):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    second(authz, request, challenge, totp.code_at(secret, STEP))
    for step in (STEP, STEP - 1):  # the same code again, and an older one still in the window
        request, challenge = challenge_of(authz)
        with pytest.raises(SecondFactorFailedError) as info:
            second(authz, request, challenge, totp.code_at(secret, step))
        assert info.value.reason == "replayed"
    request, challenge = challenge_of(authz)
    assert isinstance(second(authz, request, challenge, totp.code_at(secret, STEP + 1)), SignedIn)


def test_one_code_submitted_concurrently_passes_once(authz, browser):
    """Deterministic interleaving: sign-in A has checked the code against the stored last step
    and is about to commit; sign-in B (another browser tab, same code) completes right then.
    A's transaction must fail on the step's condition, and A gets no session."""
    secret, _ = enrol()
    code = totp.code_at(secret, STEP)
    request_a, challenge_a = challenge_of(authz)
    request_b, challenge_b = challenge_of(authz)
    pending = authz.mfa.pending  # type: ignore[union-attr]
    real = pending.complete
    outcomes: list[Any] = []
    results: dict[str, Any] = {}

    def interleaved(*args: Any, **kwargs: Any) -> Any:
        if "b" not in results:
            results["b"] = "running"
            results["b"] = second(authz, request_b, challenge_b, code)
        outcome = real(*args, **kwargs)
        outcomes.append(outcome)
        return outcome

    pending.complete = interleaved  # type: ignore[method-assign]
    with pytest.raises(SecondFactorFailedError) as info:
        second(authz, request_a, challenge_a, code)
    assert info.value.reason == "replayed"
    assert [o.ok for o in outcomes] == [True, False]  # B committed, A lost
    assert isinstance(results["b"], SignedIn)
    sessions = [i for i in browser.scan("sessions") if i["pk"]["S"].startswith("sso#")]
    assert len(sessions) == 1  # the loser created none


# ---------------------------------------------------------------------- recovery codes
def test_a_recovery_code_works_once(authz):
    _, codes = enrol()
    request, challenge = challenge_of(authz)
    signed = second(authz, request, challenge, codes[3].upper().replace("-", " "))  # forgiving typing
    assert signed.session.amr == ("pwd", "otp", "mfa")
    assert MfaStore("users").get("alice").recovery_left == 9
    request, challenge = challenge_of(authz)
    with pytest.raises(SecondFactorFailedError) as info:
        second(authz, request, challenge, codes[3])
    assert info.value.reason == "wrong_recovery_code"
    assert MfaStore("users").get("alice").recovery_left == 9


def test_one_recovery_code_submitted_concurrently_passes_once(authz):
    _, codes = enrol()
    request_a, challenge_a = challenge_of(authz)
    request_b, challenge_b = challenge_of(authz)
    pending = authz.mfa.pending  # type: ignore[union-attr]
    real = pending.complete
    results: dict[str, Any] = {}

    def interleaved(*args: Any, **kwargs: Any) -> Any:
        if "b" not in results:
            results["b"] = "running"
            results["b"] = second(authz, request_b, challenge_b, codes[0])
        return real(*args, **kwargs)

    pending.complete = interleaved  # type: ignore[method-assign]
    with pytest.raises(SecondFactorFailedError):
        second(authz, request_a, challenge_a, codes[0])
    assert isinstance(results["b"], SignedIn)
    assert MfaStore("users").get("alice").recovery_left == 9


# ---------------------------------------------------------------------- the pending sign-in
def test_the_pending_sign_in_expires(authz, clock):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    clock.advance(301)
    with pytest.raises(MfaExpiredError):
        second(authz, request, challenge, totp.code_at(secret, int(clock()) // totp.STEP))


def test_the_pending_sign_in_is_single_use(authz, clock):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    second(authz, request, challenge, totp.code_at(secret, STEP))
    clock.advance(30)
    with pytest.raises(MfaExpiredError):
        second(authz, request, challenge, totp.code_at(secret, STEP + 1))


def test_the_pending_sign_in_is_bound_to_the_browser_and_the_request(authz):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    code = totp.code_at(secret, STEP)
    with pytest.raises(MfaExpiredError):
        second(authz, request, challenge, code, browser="another-browsers-csrf-secret-0123")
    with pytest.raises(MfaExpiredError):
        second(authz, request, challenge, code, browser=None)
    with pytest.raises(MfaExpiredError):
        second(authz, request_of(authz, state="another"), challenge, code)
    with pytest.raises(MfaExpiredError):
        authz.second_factor(request, "not-a-ticket", code, None, browser=BROWSER)
    assert isinstance(second(authz, request, challenge, code), SignedIn)  # the real one still works


def test_wrong_codes_count_toward_the_login_throttle(authz):
    secret, _ = enrol()
    request = request_of(authz)
    ip = "192.0.2.77"
    challenge = authz.sign_in(request, "alice", PASSWORD, ip, browser=BROWSER)  # attempt 1 of 5
    assert isinstance(challenge, MfaChallenge)
    wrong = totp.code_at(secret, STEP + 5)
    for _ in range(3):
        with pytest.raises(SecondFactorFailedError):
            second(authz, request, challenge, wrong, ip=ip)
    # a right password does not give the attempts back before the second factor passes
    again = authz.sign_in(request, "alice", PASSWORD, ip, browser=BROWSER)  # attempt 5
    assert isinstance(again, MfaChallenge)
    with pytest.raises(SlowDownError):  # a code is a guess like a password
        second(authz, request, again, totp.code_at(secret, STEP), ip=ip)


def test_five_wrong_codes_end_the_pending_sign_in(authz):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    wrong = totp.code_at(secret, STEP + 5)
    raised = []
    for i in range(5):
        with pytest.raises((SecondFactorFailedError, MfaExpiredError)) as info:
            authz.second_factor(request, challenge.ticket, wrong, f"198.51.100.{i}", browser=BROWSER)
        raised.append(type(info.value).__name__)
    assert raised == ["SecondFactorFailedError"] * 4 + ["MfaExpiredError"]
    with pytest.raises(MfaExpiredError):
        authz.second_factor(
            request, challenge.ticket, totp.code_at(secret, STEP), "198.51.100.9", browser=BROWSER
        )


# ---------------------------------------------------------------------- enrolment and policy
def test_a_required_client_enrols_an_unenrolled_user_during_sign_in(authz, browser):
    request, challenge = challenge_of(authz, "strict")
    assert challenge.mode == "enrol" and len(challenge.recovery_codes) == 10
    assert challenge.uri.startswith("otpauth://totp/") and f"secret={challenge.secret}" in challenge.uri
    assert not MfaStore("users").get("alice").enrolled  # not before a code confirms it
    with pytest.raises(SecondFactorFailedError):
        second(authz, request, challenge, totp.code_at(challenge.secret, STEP + 9))
    again = authz.challenge(request, challenge.ticket, BROWSER)
    assert again.secret == challenge.secret and again.recovery_codes == challenge.recovery_codes
    signed = second(authz, request, challenge, totp.code_at(challenge.secret, STEP))
    assert signed.session.amr == ("pwd", "otp", "mfa")
    state = MfaStore("users").get("alice")
    assert state.enrolled and state.recovery_left == 10 and state.last_step == STEP
    assert challenge.secret not in repr(state)
    pending = [i for i in browser.scan("sessions") if i["pk"]["S"].startswith("mfa#")]
    assert pending and all("enrol_secret" not in i and "enrol_codes" not in i for i in pending)
    # the confirming code does not work twice; a recovery code shown at enrolment does
    request, challenge = challenge_of(authz, "strict")
    assert challenge.mode == "verify"
    with pytest.raises(SecondFactorFailedError):
        second(authz, request, challenge, totp.code_at(state.secret, STEP))
    codes = again.recovery_codes
    assert isinstance(second(authz, request, challenge, codes[0]), SignedIn)


@pytest.mark.parametrize(
    ("user_policy", "enrolled", "client", "acr", "expected"),
    [
        ("", False, "web", "", None),  # optional + optional, not enrolled: password only
        ("", True, "web", "", "verify"),  # enrolled: asked
        ("off", True, "web", "", "verify"),  # the client's optional is stricter than off
        ("off", True, "kiosk", "", None),  # both off: not asked even though enrolled
        ("", True, "kiosk", "", "verify"),  # the user's optional is stricter than the kiosk's off
        ("required", False, "web", "", "enrol"),  # the user's required wins
        ("required", False, "kiosk", "", "enrol"),
        ("", False, "strict", "", "enrol"),  # the client's required wins
        ("", False, "web", "aal2", "enrol"),  # acr_values=aal2 asks for it
        ("", False, "web", "aal1", None),
    ],
)
def test_policy_combinations(authz, user_policy, enrolled, client, acr, expected):
    if enrolled:
        enrol(policy=user_policy)
    elif user_policy:
        assert MfaStore("users").set_policy("alice", user_policy)
    extra = {"acr_values": acr} if acr else {}
    result = authz.sign_in(request_of(authz, client, **extra), "alice", PASSWORD, None, browser=BROWSER)
    got = result.mode if isinstance(result, MfaChallenge) else None
    assert got == expected


def test_a_password_only_session_must_step_up_for_a_client_that_requires_mfa(authz):
    signed = authz.sign_in(request_of(authz), "alice", PASSWORD, None, browser=BROWSER)
    assert isinstance(signed, SignedIn)
    assert not authz.needs_login(request_of(authz), signed.session)
    assert authz.needs_login(request_of(authz, "strict"), signed.session)
    assert authz.needs_login(request_of(authz, acr_values="aal2"), signed.session)
    secret, _ = enrol()
    request, challenge = challenge_of(authz, "strict")
    stepped = second(authz, request, challenge, totp.code_at(secret, STEP), replacing=signed.cookie_value)
    assert not authz.needs_login(request_of(authz, "strict"), stepped.session)
    assert authz.current_session(signed.cookie_value) is None  # the replaced session ended


def test_prompt_login_asks_both_factors_again(authz):
    secret, _ = enrol()
    request, challenge = challenge_of(authz)
    signed = second(authz, request, challenge, totp.code_at(secret, STEP))
    again = request_of(authz, prompt="login")
    assert authz.needs_login(again, signed.session)  # the page shows the password form
    result = authz.sign_in(again, "alice", PASSWORD, None, browser=BROWSER, replacing=signed.cookie_value)
    assert isinstance(result, MfaChallenge)  # and the password alone does not sign in
    assert authz.current_session(signed.cookie_value) is not None  # nothing ended before the 2nd factor
