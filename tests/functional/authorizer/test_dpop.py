"""DPoP at the API (RFC 9449 §7) through the authorizer's handler, over moto: a bound token is
usable only with a fresh proof by its key for this very request, once, on any instance; a bound
token sent as a bearer token is refused. Proofs are made by joserfc (tests/dpop_client)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from functions.authorizer import app
from tests.conftest import load_event
from tests.dpop_client import DPoPKey
from tests.functional.authorizer.conftest import NOW, World
from tests.tables import create_template_table

SESSIONS = "sessions"
HOST = "abcdef1234.execute-api.us-east-1.amazonaws.com"
URL = f"https://{HOST}/orders"


def _fresh_sessions(ddb: Any) -> None:
    if SESSIONS in ddb.list_tables()["TableNames"]:
        for item in ddb.scan(TableName=SESSIONS, ProjectionExpression="pk")["Items"]:
            ddb.delete_item(TableName=SESSIONS, Key={"pk": item["pk"]})
    else:
        create_template_table(ddb, "SessionsTable", SESSIONS)


@pytest.fixture
def dpop(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    _fresh_sessions(world.ddb)
    monkeypatch.setenv("AUTHORIZER_DPOP", "optional")
    monkeypatch.setenv("SESSIONS_TABLE", SESSIONS)
    return world


def new_instance() -> None:
    """A second Lambda instance: the authorizer (and its memory) built afresh."""
    app._authorizer.cache_clear()  # type: ignore[attr-defined]


def event(
    authorization: str | None,
    proof: str | list[str] | None = None,
    *,
    method: str = "GET",
    path: str = "/orders",
    fmt: str = "http_v2",
    domain: str = HOST,
) -> dict[str, Any]:
    if fmt == "http_v2":
        doc = copy.deepcopy(load_event("authorizer_http_v2_allow.json"))
        doc["routeArn"] = f"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/{method}{path}"
        doc["routeKey"] = doc["requestContext"]["routeKey"] = f"{method} {path}"
        doc["rawPath"] = doc["requestContext"]["http"]["path"] = path
        doc["requestContext"]["http"]["method"] = method
    else:
        doc = copy.deepcopy(load_event("authorizer_http_v1_allow.json"))
        doc["methodArn"] = f"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/{method}{path}"
        doc["httpMethod"] = method
        doc["resource"] = doc["path"] = doc["requestContext"]["path"] = path
        doc["requestContext"]["domainName"] = HOST
        doc.pop("multiValueHeaders", None)
    doc["requestContext"]["domainName"] = domain
    doc["headers"] = {k: v for k, v in doc["headers"].items() if k.lower() != "authorization"}
    if authorization is not None:
        doc["headers"]["authorization"] = authorization
    if isinstance(proof, list):
        doc["headers"]["dpop"] = ", ".join(proof)
    elif proof is not None:
        doc["headers"]["dpop"] = proof
    return doc


def last_reason(decision_lines: Any) -> str:
    return decision_lines()[-1]["reason"]


def bound(world: World, key: DPoPKey, **claims: Any) -> str:
    return world.mint(cnf={"jkt": key.jkt}, **claims)


def test_a_bound_token_with_a_fresh_proof_by_its_key_is_allowed(dpop, decision_lines):
    key = DPoPKey()
    token = bound(dpop, key)
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"
    # and again with the next proof (each request has its own)
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"
    assert last_reason(decision_lines) == "ok"


@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "PS256"])
def test_every_proof_algorithm_is_accepted(dpop, alg):
    key = DPoPKey(alg)
    token = bound(dpop, key)
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"


def test_a_replayed_proof_is_refused_on_this_instance_and_on_another(dpop, decision_lines):
    key = DPoPKey()
    token = bound(dpop, key)
    proof = key.proof("GET", URL, iat=NOW, access_token=token)
    assert dpop.outcome(event(f"DPoP {token}", proof)) == "allow"
    assert dpop.outcome(event(f"DPoP {token}", proof)) == "refused"
    assert last_reason(decision_lines) == "dpop_replay"
    new_instance()  # its memory is empty: the shared record refuses
    assert dpop.outcome(event(f"DPoP {token}", proof)) == "refused"
    assert last_reason(decision_lines) == "dpop_replay"


def test_a_bound_token_sent_as_a_bearer_token_is_refused_even_once_cached(dpop, decision_lines):
    key = DPoPKey()
    token = bound(dpop, key)
    assert dpop.outcome(event(f"Bearer {token}")) == "refused"
    assert last_reason(decision_lines) == "dpop_bound_as_bearer"
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"
    for _ in range(2):  # the verified-token cache holds it now: still refused as a bearer token
        assert dpop.outcome(event(f"Bearer {token}")) == "refused"
        assert last_reason(decision_lines) == "dpop_bound_as_bearer"


@pytest.mark.parametrize("cnf", [{"jkt": ""}, {"jkt": 7}, {"x5t#S256": "abc"}, "jkt", []])
def test_a_token_with_a_cnf_we_cannot_check_is_refused_either_way(dpop, cnf):
    key = DPoPKey()
    token = dpop.mint(cnf=cnf)
    assert dpop.outcome(event(f"Bearer {token}")) == "refused"
    assert (
        dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "refused"
    )


def test_an_unbound_token_may_not_use_the_dpop_scheme(dpop, decision_lines):
    key = DPoPKey()
    token = dpop.mint()
    assert (
        dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "refused"
    )
    assert last_reason(decision_lines) == "dpop_token_not_bound"
    assert dpop.outcome(event(f"Bearer {token}")) == "allow"  # optional: bearer tokens still work


def test_each_mismatch_between_proof_request_and_token_is_refused(dpop, decision_lines):
    key = DPoPKey()
    token = bound(dpop, key)
    other = bound(dpop, key, jti="another-token-id")
    cases = {
        "dpop_missing": event(f"DPoP {token}"),
        "dpop_ath": event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=other)),
        "dpop_htm": event(f"DPoP {token}", key.proof("POST", URL, iat=NOW, access_token=token)),
        "dpop_htu": event(
            f"DPoP {token}", key.proof("GET", f"https://{HOST}/admin", iat=NOW, access_token=token)
        ),
        "dpop_iat": event(f"DPoP {token}", key.proof("GET", URL, iat=NOW - 600, access_token=token)),
        "dpop_key_mismatch": event(f"DPoP {token}", DPoPKey().proof("GET", URL, iat=NOW, access_token=token)),
        "dpop_malformed": event(f"DPoP {token}", "not-a-proof"),
        "dpop_duplicate_header": event(
            f"DPoP {token}",
            [
                key.proof("GET", URL, iat=NOW, access_token=token),
                key.proof("GET", URL, iat=NOW, access_token=token),
            ],
        ),
    }
    for reason, request in cases.items():
        assert dpop.outcome(request) == "refused", reason
        assert last_reason(decision_lines) == reason
    # none of the refused proofs was recorded: a fresh one still works
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"


def test_malformed_dpop_credentials_are_refused(dpop, decision_lines):
    for credentials in ("DPoP", "DPoP  ", "DPoP a b", "DPoP\ttoken", "DPoP tok,en"):
        assert dpop.outcome(event(credentials, "x")) in ("refused",)


def test_a_revoked_bound_token_is_refused_with_a_valid_proof(dpop, decision_lines):
    key = DPoPKey()
    token = bound(dpop, key, jti="revoke-me")
    dpop.revoke_jti("revoke-me")
    dpop.feed_due()
    assert (
        dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "refused"
    )
    assert last_reason(decision_lines) == "revoked"


def test_scopes_still_decide_for_dpop_requests(dpop):
    key = DPoPKey()
    token = bound(dpop, key, scope="read")
    proof = key.proof("POST", URL, iat=NOW, access_token=token)
    assert dpop.outcome(event(f"DPoP {token}", proof, method="POST")) == "refused"  # needs write


def test_payload_1_0_events_check_the_path_as_received(dpop):
    key = DPoPKey()
    token = bound(dpop, key)
    proof = key.proof("GET", URL, iat=NOW, access_token=token)
    assert dpop.outcome(event(f"DPoP {token}", proof, fmt="http_v1")) == "allow"


def test_with_dpop_off_the_scheme_and_bound_tokens_are_refused(world, decision_lines):
    key = DPoPKey()
    token = bound(world, key)
    assert (
        world.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "refused"
    )
    assert last_reason(decision_lines) == "bad_bearer"
    assert world.outcome(event(f"Bearer {token}")) == "refused"
    assert last_reason(decision_lines) == "dpop_bound_as_bearer"
    assert world.outcome(event(f"Bearer {world.mint()}")) == "allow"


def test_with_dpop_required_bearer_tokens_are_refused(dpop, monkeypatch, decision_lines):
    monkeypatch.setenv("AUTHORIZER_DPOP", "required")
    assert dpop.outcome(event(f"Bearer {dpop.mint()}")) == "refused"
    assert last_reason(decision_lines) == "dpop_required"
    key = DPoPKey()
    token = bound(dpop, key)
    assert dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token))) == "allow"


def test_the_replay_record_holds_no_key_or_jti(dpop):
    key = DPoPKey()
    token = bound(dpop, key)
    dpop.outcome(event(f"DPoP {token}", key.proof("GET", URL, iat=NOW, access_token=token, jti="my-jti")))
    items = dpop.ddb.scan(TableName=SESSIONS)["Items"]
    assert len(items) == 1
    text = json.dumps(items)
    assert "my-jti" not in text and key.jkt not in text
    assert items[0]["pk"]["S"].startswith("dpop#")


@pytest.mark.parametrize("raw_path", ["/orders", "/v1/orders"])
def test_behind_a_custom_domain_with_a_base_path_htu_is_the_public_url(
    dpop, monkeypatch, decision_lines, raw_path
):
    """``AUTHORIZER_PUBLIC_URL``: the client addresses ``https://api.example.com/v1/orders``; API
    Gateway's event names the custom domain and a path with or without the mapping's ``/v1``.
    Without the setting a raw path without it is compared as it is (refused, fail closed); with
    the setting both are accepted, the execute-api URL no more."""
    key = DPoPKey()
    token = bound(dpop, key)
    public = "https://api.example.com/v1/orders"

    def outcome(url: str) -> str:
        new_instance()
        proof = key.proof("GET", url, iat=NOW, access_token=token)
        return dpop.outcome(event(f"DPoP {token}", proof, path=raw_path, domain="api.example.com"))

    if raw_path == "/orders":
        assert outcome(public) == "refused"
        assert last_reason(decision_lines) == "dpop_htu"
    monkeypatch.setenv("AUTHORIZER_PUBLIC_URL", "https://api.example.com/v1/")
    assert outcome(public) == "allow"
    assert outcome(f"https://{HOST}{raw_path}") == "refused"
    assert outcome("https://api.example.com/v1/v1/orders") == "refused"


def test_with_a_public_url_two_routes_on_execute_api_never_share_one_htu(dpop, monkeypatch):
    """Through the execute-api domain (or a proxy in front of it) the raw path is the route's
    path: ``/orders`` and ``/v1/orders`` are two routes, so their proofs name two URLs, and an
    unspent proof for one is refused on the other (it was one ``htu`` for both)."""
    monkeypatch.setenv("AUTHORIZER_PUBLIC_URL", "https://api.example.com/v1")
    key = DPoPKey()
    token = bound(dpop, key)

    def outcome(url: str, raw_path: str) -> str:
        new_instance()
        proof = key.proof("GET", url, iat=NOW, access_token=token)
        return dpop.outcome(event(f"DPoP {token}", proof, path=raw_path))

    assert outcome("https://api.example.com/v1/orders", "/v1/orders") == "refused"
    assert outcome("https://api.example.com/v1/v1/orders", "/v1/orders") == "allow"
    assert outcome("https://api.example.com/v1/orders", "/orders") == "allow"
    assert outcome("https://api.example.com/v1/v1/orders", "/orders") == "refused"


@pytest.mark.parametrize(
    "value", ["http://api.example.com", "https://api.example.com/v1?x=1", "api.example.com"]
)
def test_a_public_url_that_is_not_an_https_url_is_a_configuration_error(value):
    from auth_core.errors import ConfigurationError
    from auth_core.settings import Settings

    with pytest.raises(ConfigurationError, match="AUTHORIZER_PUBLIC_URL"):
        Settings.from_env({"AUTHORIZER_PUBLIC_URL": value})
