"""``dpop_jkt`` (RFC 9449 §10): an authorization request names the DPoP key its code must be
redeemed with; the code is stored with the thumbprint and only a token request whose proof is by
that key redeems it. Over moto, proofs by joserfc (tests/dpop_client)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth_core.errors import InvalidDPoPProofError
from auth_core.oauth import pkce
from auth_core.oauth.authorization import RedirectError
from auth_core.oauth.authorize import AuthorizationService
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from tests.dpop_client import DPoPKey
from tests.functional.oauth.conftest import FAST_HASHER, ISS, PASSWORD
from tests.functional.oauth.helpers import PUBLIC_CLIENT, PUBLIC_CLIENT_SETTINGS, code_flow

TOKEN_URL = ISS + "/token"
REDIRECT = PUBLIC_CLIENT_SETTINGS["redirect_uris"][0]
VERIFIER = "v" * 50


@pytest.fixture
def public(stack: Any) -> Any:
    stack.add_user()
    stack.add_client(PUBLIC_CLIENT, scopes=("openid", "read"), **PUBLIC_CLIENT_SETTINGS)
    return stack


@pytest.fixture
def authz(public: Any, clock: Any) -> AuthorizationService:
    return AuthorizationService.from_settings(
        public.settings(key_fetch_strategy="sdk"), hasher=FAST_HASHER, clock=clock
    )


def authorization(**extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": PUBLIC_CLIENT,
        "redirect_uri": REDIRECT,
        "code_challenge": pkce.challenge_of(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


def code_for(authz: AuthorizationService, params: dict[str, str]) -> str:
    request = authz.parse(params)
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    return str(authz.issue_code(request, signed.session).params["code"])


def redeem(service: Any, issuers: Any, code: str, key: DPoPKey | None, clock: Any) -> dict[str, Any]:
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": PUBLIC_CLIENT,
    }
    headers = {"dpop": key.proof("POST", TOKEN_URL, iat=int(clock()))} if key else {}
    request = OAuthRequest(
        params=params, client=ClientCredentials(PUBLIC_CLIENT, None, "none"), headers=headers
    )
    return json.loads(service.token(request, issuers).body)


def test_the_code_is_redeemed_with_the_named_key(public, service, issuers, clock):
    key = DPoPKey()
    headers = {"dpop": key.proof("POST", TOKEN_URL, iat=int(clock()))}
    answer = code_flow(public, service, issuers, clock, headers=headers, authorization={"dpop_jkt": key.jkt})
    assert answer["token_type"] == "DPoP"


@pytest.mark.parametrize("thief", ["another_key", "no_proof"])
def test_the_code_is_refused_to_another_key_and_stays_redeemable(authz, service, issuers, clock, thief):
    """A stolen code (with its verifier: a compromised device or log) is useless without the key;
    the refusal spends nothing, so the client's own request still succeeds. Before dpop_jkt was
    read, the parameter was ignored and the thief got tokens."""
    key = DPoPKey()
    code = code_for(authz, authorization(dpop_jkt=key.jkt))
    stored = service.sessions.get_code(hash_refresh_token(code))
    assert stored.dpop_jkt == key.jkt  # what the store read back from DynamoDB
    with pytest.raises(InvalidDPoPProofError) as caught:
        redeem(service, issuers, code, DPoPKey() if thief == "another_key" else None, clock)
    assert caught.value.reason == "dpop_jkt_mismatch"
    answer = redeem(service, issuers, code, key, clock)
    assert answer["token_type"] == "DPoP"


def test_a_code_without_dpop_jkt_is_not_bound(authz, service, issuers, clock):
    code = code_for(authz, authorization())
    assert service.sessions.get_code(hash_refresh_token(code)).dpop_jkt == ""
    assert redeem(service, issuers, code, None, clock)["token_type"] == "Bearer"


@pytest.mark.parametrize("value", ["short", "x" * 44, "a" * 42 + "=", "a" * 42 + "+"])
def test_a_malformed_dpop_jkt_is_invalid_request(authz, value):
    with pytest.raises(RedirectError) as caught:
        authz.parse(authorization(dpop_jkt=value))
    assert caught.value.response.params["error"] == "invalid_request"
    assert caught.value.reason == "dpop_jkt_invalid"


def test_dpop_jkt_given_twice_is_invalid_request(authz):
    params: Any = {**authorization(), "dpop_jkt": [DPoPKey().jkt, DPoPKey().jkt]}
    with pytest.raises(RedirectError) as caught:
        authz.parse(params)
    assert caught.value.reason == "duplicate_parameter"


def test_a_pushed_request_keeps_dpop_jkt(authz, service, issuers, clock):
    key = DPoPKey()
    pushed = authz.push(
        OAuthRequest(
            params=authorization(dpop_jkt=key.jkt), client=ClientCredentials(PUBLIC_CLIENT, None, "none")
        )
    )
    code = code_for(authz, {"client_id": PUBLIC_CLIENT, "request_uri": str(pushed["request_uri"])})
    with pytest.raises(InvalidDPoPProofError):
        redeem(service, issuers, code, DPoPKey(), clock)
    assert redeem(service, issuers, code, key, clock)["token_type"] == "DPoP"


def push(authz: AuthorizationService, proof: str | None, **extra: str) -> dict[str, object]:
    return authz.push(
        OAuthRequest(
            params=authorization(**extra),
            client=ClientCredentials(PUBLIC_CLIENT, None, "none"),
            headers={"dpop": proof} if proof else {},
        )
    )


def test_a_dpop_proof_at_par_binds_the_code_to_its_key(authz, service, issuers, clock):
    """RFC 9449 §10.1: a proof sent with the pushed request names the key as dpop_jkt would."""
    key = DPoPKey()
    pushed = push(authz, key.proof("POST", ISS + "/par", iat=int(clock())))
    code = code_for(authz, {"client_id": PUBLIC_CLIENT, "request_uri": str(pushed["request_uri"])})
    assert service.sessions.get_code(hash_refresh_token(code)).dpop_jkt == key.jkt
    with pytest.raises(InvalidDPoPProofError):
        redeem(service, issuers, code, DPoPKey(), clock)
    assert redeem(service, issuers, code, key, clock)["token_type"] == "DPoP"


@pytest.mark.parametrize("case", ["another_dpop_jkt", "replayed", "for_token", "garbage"])
def test_a_bad_dpop_proof_at_par_is_refused(authz, clock, case):
    key = DPoPKey()
    proof = key.proof("POST", ISS + "/par", iat=int(clock()))
    if case == "another_dpop_jkt":
        with pytest.raises(InvalidDPoPProofError) as caught:
            push(authz, proof, dpop_jkt=DPoPKey().jkt)
        assert caught.value.reason == "dpop_jkt_mismatch"
        return
    if case == "replayed":
        push(authz, proof)
    elif case == "for_token":
        proof = key.proof("POST", ISS + "/token", iat=int(clock()))
    else:
        proof = "garbage"
    with pytest.raises(InvalidDPoPProofError):
        push(authz, proof)


def test_a_dpop_proof_at_par_agreeing_with_dpop_jkt_is_accepted(authz, clock):
    key = DPoPKey()
    pushed = push(authz, key.proof("POST", ISS + "/par", iat=int(clock())), dpop_jkt=key.jkt)
    assert str(pushed["request_uri"]).startswith("urn:ietf:params:oauth:request_uri:")
