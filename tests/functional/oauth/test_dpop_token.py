"""DPoP at the token endpoint (RFC 9449 §5) over moto: bound access tokens, public clients'
bound refresh tokens, required proofs, replay, nonces; proofs made by joserfc (tests/dpop_client)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from auth_core.errors import InvalidDPoPProofError, UseDPoPNonceError
from auth_core.jws import parse_header
from auth_core.oauth.grants import TokenService
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from tests.dpop_client import DPoPKey
from tests.functional.oauth.conftest import BACKEND_SECRET, FAST_HASHER, ISS, PASSWORD
from tests.functional.oauth.helpers import (
    PUBLIC_CLIENT,
    PUBLIC_CLIENT_SETTINGS,
    body,
    code_flow,
    form,
    http_event,
)

TOKEN_URL = ISS + "/token"
REFRESH_URL = ISS + "/refresh"


def claims_of(token: str) -> dict[str, Any]:
    import base64

    parse_header(token)
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def with_proof(request: OAuthRequest, proof: str) -> OAuthRequest:
    return replace(request, headers={**request.headers, "dpop": proof})


def client_credentials(proof: str | None = None, client: str = "backend-svc") -> OAuthRequest:
    request = form({"grant_type": "client_credentials", "scope": "read"}, basic=(client, BACKEND_SECRET))
    return with_proof(request, proof) if proof else request


@pytest.fixture
def backend(stack: Any) -> Any:
    stack.add_client("backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",))
    stack.add_client(
        "dpop-only",
        secret=BACKEND_SECRET,
        grants=("client_credentials",),
        scopes=("read",),
        dpop_bound_access_tokens=True,
    )
    return stack


def test_a_proof_binds_the_access_token_to_the_clients_key(backend, service, issuers, clock):
    key = DPoPKey("ES256")
    answer = body(service.token(client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()))), issuers))
    assert answer["token_type"] == "DPoP"
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": key.jkt}


def test_without_a_proof_the_token_is_a_bearer_token(backend, service, issuers):
    answer = body(service.token(client_credentials(), issuers))
    assert answer["token_type"] == "Bearer"
    assert "cnf" not in claims_of(answer["access_token"])


@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "PS256"])
def test_every_supported_algorithm_binds(backend, service, issuers, clock, alg):
    key = DPoPKey(alg)
    answer = body(service.token(client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()))), issuers))
    assert claims_of(answer["access_token"])["cnf"] == {"jkt": key.jkt}


def test_a_client_that_requires_dpop_gets_nothing_without_a_proof(backend, service, issuers, clock):
    with pytest.raises(InvalidDPoPProofError) as caught:
        service.token(client_credentials(client="dpop-only"), issuers)
    assert caught.value.reason == "dpop_required"
    key = DPoPKey()
    proof = key.proof("POST", TOKEN_URL, iat=int(clock()))
    assert body(service.token(client_credentials(proof, client="dpop-only"), issuers))["token_type"] == "DPoP"


def test_a_proof_is_accepted_once(backend, service, issuers, clock):
    proof = DPoPKey().proof("POST", TOKEN_URL, iat=int(clock()))
    service.token(client_credentials(proof), issuers)
    with pytest.raises(InvalidDPoPProofError) as caught:
        service.token(client_credentials(proof), issuers)
    assert caught.value.reason == "dpop_replay"


def test_a_proof_for_another_endpoint_or_method_is_refused(backend, service, issuers, clock):
    key = DPoPKey()
    for proof, reason in (
        (key.proof("POST", REFRESH_URL, iat=int(clock())), "dpop_htu"),
        (key.proof("POST", "https://evil.example/token", iat=int(clock())), "dpop_htu"),
        (key.proof("GET", TOKEN_URL, iat=int(clock())), "dpop_htm"),
        (key.proof("POST", TOKEN_URL, iat=int(clock()) - 3600), "dpop_iat"),
    ):
        with pytest.raises(InvalidDPoPProofError) as caught:
            service.token(client_credentials(proof), issuers)
        assert caught.value.reason == reason


def test_a_failed_proof_is_refused_before_the_client_is_authenticated(backend, service, issuers, audit):
    request = form({"grant_type": "client_credentials"}, basic=("backend-svc", "wrong-secret"))
    with pytest.raises(InvalidDPoPProofError):
        service.token(with_proof(request, "not-a-proof"), issuers)


# --------------------------------------------------------------------------- public clients


def code_flow_tokens(
    stack: Any, service: TokenService, issuers: Any, clock: Any, key: DPoPKey | None
) -> dict:
    headers = {"dpop": key.proof("POST", TOKEN_URL, iat=int(clock()))} if key else None
    return code_flow(stack, service, issuers, clock, headers=headers)


def refresh(service: TokenService, issuers: Any, token: str, proof: str | None) -> dict:
    params = {"grant_type": "refresh_token", "refresh_token": token, "client_id": PUBLIC_CLIENT}
    request = OAuthRequest(
        params=params,
        client=ClientCredentials(PUBLIC_CLIENT, None, "none"),
        headers={"dpop": proof} if proof else {},
    )
    return json.loads(service.refresh_endpoint(request, issuers).body)


@pytest.fixture
def public(stack: Any) -> Any:
    stack.add_user()
    stack.add_client(PUBLIC_CLIENT, scopes=("openid", "read"), **PUBLIC_CLIENT_SETTINGS)
    return stack


def test_a_public_clients_refresh_token_is_bound_to_its_key(public, service, issuers, clock):
    key = DPoPKey()
    first = code_flow_tokens(public, service, issuers, clock, key)
    assert first["token_type"] == "DPoP"
    thief = DPoPKey()
    for proof in (None, thief.proof("POST", REFRESH_URL, iat=int(clock()))):
        with pytest.raises(InvalidDPoPProofError) as caught:
            refresh(service, issuers, first["refresh_token"], proof)
        assert caught.value.reason in ("dpop_key_mismatch",)
    # nothing was spent by the refusals: the owner still refreshes, and stays bound
    second = refresh(
        service, issuers, first["refresh_token"], key.proof("POST", REFRESH_URL, iat=int(clock()))
    )
    assert second["token_type"] == "DPoP"
    assert claims_of(second["access_token"])["cnf"] == {"jkt": key.jkt}
    clock.advance(30)
    third = refresh(
        service, issuers, second["refresh_token"], key.proof("POST", REFRESH_URL, iat=int(clock()))
    )
    assert claims_of(third["access_token"])["cnf"] == {"jkt": key.jkt}
    with pytest.raises(InvalidDPoPProofError):
        refresh(service, issuers, third["refresh_token"], None)


def test_a_public_client_without_dpop_keeps_bearer_refresh_tokens(public, service, issuers, clock):
    first = code_flow_tokens(public, service, issuers, clock, None)
    assert first["token_type"] == "Bearer"
    assert refresh(service, issuers, first["refresh_token"], None)["token_type"] == "Bearer"


def test_a_confidential_clients_refresh_token_is_not_bound(stack, service, issuers, clock):
    # RFC 9449 §5: its client authentication already constrains the refresh token
    stack.add_user()
    stack.add_client("demo-spa")
    key = DPoPKey()
    request = with_proof(
        form({"grant_type": "password", "username": "alice", "password": PASSWORD, "client_id": "demo-spa"}),
        key.proof("POST", TOKEN_URL, iat=int(clock())),
    )
    first = body(service.token(request, issuers))
    assert first["token_type"] == "DPoP"
    again = body(
        service.token(
            form(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": first["refresh_token"],
                    "client_id": "demo-spa",
                }
            ),
            issuers,
        )
    )
    assert again["token_type"] == "Bearer"


# --------------------------------------------------------------------------- nonces


def test_required_nonces_are_handed_out_then_accepted(backend, stack, issuers, clock, audit):
    service = TokenService.from_settings(
        stack.settings(dpop_nonce_required=True),
        keys=stack.keyset,
        audit=audit,
        hasher=FAST_HASHER,
        clock=clock,
    )
    key = DPoPKey()
    with pytest.raises(UseDPoPNonceError) as caught:
        service.token(client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()))), issuers)
    nonce = caught.value.nonce
    assert nonce
    with pytest.raises(UseDPoPNonceError):
        service.token(
            client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()), nonce="1.forged")), issuers
        )
    answer = body(
        service.token(
            client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()), nonce=nonce)), issuers
        )
    )
    assert answer["token_type"] == "DPoP"
    clock.advance(3600)
    with pytest.raises(UseDPoPNonceError):
        service.token(
            client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()), nonce=nonce)), issuers
        )


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_token_function_answers_use_dpop_nonce_with_the_header(backend, monkeypatch, lambda_context):
    import time

    from functions.issue_token import app as token_app

    monkeypatch.setenv("DPOP_NONCE_REQUIRED", "true")
    token_app.settings.cache_clear()
    token_app.service.cache_clear()
    try:
        key = DPoPKey()
        proof = key.proof("POST", TOKEN_URL, iat=int(time.time()))
        event = http_event(
            params={"grant_type": "client_credentials", "scope": "read"},
            basic=("backend-svc", BACKEND_SECRET),
            headers={"dpop": proof},
        )
        answer = token_app.lambda_handler(event, lambda_context)
        assert answer["statusCode"] == 400
        assert json.loads(answer["body"])["error"] == "use_dpop_nonce"
        nonce = answer["headers"]["DPoP-Nonce"]
        event["headers"]["dpop"] = key.proof("POST", TOKEN_URL, iat=int(time.time()), nonce=nonce)
        answer = token_app.lambda_handler(event, lambda_context)
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"])["token_type"] == "DPoP"
        event["headers"]["dpop"] = "garbage"
        answer = token_app.lambda_handler(event, lambda_context)
        assert answer["statusCode"] == 400
        assert json.loads(answer["body"])["error"] == "invalid_dpop_proof"
    finally:
        token_app.settings.cache_clear()
        token_app.service.cache_clear()


def test_introspection_says_which_key_a_token_is_bound_to(backend, stack, service, issuers, clock):
    from auth_core.jwk import JWKSet
    from auth_core.oauth.introspection import IntrospectionService
    from auth_core.stores.clients import ClientStore
    from auth_core.stores.revocations import RevocationStore
    from auth_core.stores.sessions import SessionStore
    from auth_core.stores.users import UserStore
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy

    key = DPoPKey()
    bound = body(service.token(client_credentials(key.proof("POST", TOKEN_URL, iat=int(clock()))), issuers))
    plain = body(service.token(client_credentials(), issuers))
    introspection = IntrospectionService(
        clients=ClientStore("clients"),
        sessions=SessionStore("sessions"),
        revocations=RevocationStore("revocations"),
        users=UserStore("users"),
        verifier=AccessTokenVerifier(
            ClaimsPolicy.from_settings(stack.settings(), ISS), JWKSet.from_dict(stack.jwks), clock=clock
        ),
        clock=clock,
    )

    def ask(token: str) -> dict[str, Any]:
        return introspection.introspect(form({"token": token}, basic=("backend-svc", BACKEND_SECRET)))

    answer = ask(bound["access_token"])
    assert answer["active"] is True
    assert answer["cnf"] == {"jkt": key.jkt} and answer["token_type"] == "DPoP"
    answer = ask(plain["access_token"])
    assert "cnf" not in answer and answer["token_type"] == "Bearer"


def test_discovery_advertises_the_proof_algorithms():
    from auth_core.discovery import openid_configuration
    from auth_core.settings import Settings

    doc = openid_configuration(ISS, scopes=["openid"], dpop_algs=Settings().dpop_signing_algs)
    assert doc["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA", "RS256", "PS256"]


def test_a_proof_with_failed_client_authentication_leaves_no_record(backend, stack, service, issuers, clock):
    from auth_core.errors import InvalidClientError

    key = DPoPKey()
    request = form({"grant_type": "client_credentials"}, basic=("backend-svc", "wrong-secret"))
    with pytest.raises(InvalidClientError):
        service.token(with_proof(request, key.proof("POST", TOKEN_URL, iat=int(clock()))), issuers)
    assert not [item for item in stack.scan("sessions") if item["pk"]["S"].startswith("dpop#")]


def test_the_retry_grace_window_does_not_answer_without_the_key(public, stack, issuers, clock, audit):
    service = TokenService.from_settings(
        stack.settings(refresh_grace_seconds=10),
        keys=stack.keyset,
        audit=audit,
        hasher=FAST_HASHER,
        clock=clock,
    )
    key = DPoPKey()
    first = code_flow_tokens(public, service, issuers, clock, key)
    refresh(service, issuers, first["refresh_token"], key.proof("POST", REFRESH_URL, iat=int(clock())))
    # the rotated token again within the grace window: without the key, no replayed answer
    with pytest.raises(InvalidDPoPProofError) as caught:
        refresh(service, issuers, first["refresh_token"], None)
    assert caught.value.reason == "dpop_key_mismatch"
    # with the key, the grace window answers as before
    again = refresh(
        service, issuers, first["refresh_token"], key.proof("POST", REFRESH_URL, iat=int(clock()))
    )
    assert again["token_type"] == "DPoP"
