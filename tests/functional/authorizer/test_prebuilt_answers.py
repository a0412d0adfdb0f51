"""A repeated token on the same payload 2.0 route gets the answer prebuilt on its cache entry
(``Authorizer._repeated``). These tests pin that the shortcut changes no verdict: every check a
cached token is subject to still runs, and any event the full path would read differently
takes the full path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auth_core.jwk import JWKSet, generate_signing_key
from functions.authorizer import app
from tests.functional.authorizer.conftest import JWKS_SECRET, NOW, World, build_event


def _v2(token: str, method: str = "GET", path: str = "/orders", key: str = "GET /orders") -> dict[str, Any]:
    return build_event("http_v2", method, path, key, f"Bearer {token}")


def _stable(line: dict[str, Any]) -> dict[str, Any]:
    """A decision line without what differs between two identical requests."""
    return {k: v for k, v in line.items() if k not in {"timestamp", "latency_us", "_aws", "cold_start"}}


@pytest.mark.parametrize("response_format", ["simple", "iam"])
def test_a_hit_answers_and_logs_what_the_full_path_did(
    world: World, monkeypatch: pytest.MonkeyPatch, decision_lines, response_format: str
) -> None:
    monkeypatch.setenv("AUTHORIZER_RESPONSE_FORMAT", response_format)
    monkeypatch.setenv("CONTEXT_CLAIMS", "roles,team")
    token = world.mint(scope="read", team={"name": "ops"})
    for event in (_v2(token), _v2(token, "DELETE", "/orders/1", "DELETE /orders/{id}")):
        first = world.invoke(event)
        entry = app._authorizer().cache.get(token)
        assert entry is not None
        assert entry.answer is not None  # the answer is kept on the entry...
        again = world.invoke(event)
        assert again is entry.answer.response  # ...and a hit returns it as it is
        assert again == first
        full, hit = (x for x in decision_lines() if "decision" in x)
        assert _stable(hit) == _stable(full)
        assert hit["decision"] == ("Allowed" if event["routeKey"] == "GET /orders" else "Denied")


def test_a_hit_is_never_served_past_the_tokens_exp(world: World) -> None:  # T-TIME-20
    event = _v2(world.mint(exp=NOW + 300))
    world.clock[0] = NOW + 299
    assert world.outcome(event) == "allow"
    assert world.outcome(event) == "allow"  # the prebuilt answer
    world.clock[0] = NOW + 361  # exp + leeway passed: the cache drops it, the verifier refuses
    assert world.outcome(event) == "refused"


def test_a_hit_is_refused_once_the_feed_announces_a_revocation(world: World, decision_lines) -> None:
    event = _v2(world.mint(jti="j-hit"))
    assert world.outcome(event) == "allow"
    assert world.outcome(event) == "allow"
    world.revoke_jti("j-hit")
    world.feed_due()
    assert world.outcome(event) == "refused"
    assert decision_lines()[-1]["reason"] == "revoked"


def test_a_hit_is_dropped_once_its_key_leaves_the_jwks(world: World, decision_lines) -> None:
    event = _v2(world.mint(jti="j-hit-key"))
    assert world.outcome(event) == "allow"
    assert world.outcome(event) == "allow"
    other = generate_signing_key("ES256")
    world.sm.put_secret_value(
        SecretId=JWKS_SECRET, SecretString=json.dumps(JWKSet.from_keys([other.public_key()]).to_dict())
    )
    world.mono[0] += 301  # the key cache's TTL
    assert world.outcome(event) == "refused"
    assert decision_lines()[-1]["reason"] == "unknown_kid"


def test_a_second_spelling_of_the_header_is_refused_on_a_repeat(world: World, decision_lines) -> None:
    token = world.mint()
    assert world.outcome(_v2(token)) == "allow"
    event = _v2(token)
    event["headers"]["Authorization"] = f"Bearer {token}"
    assert world.outcome(event) == "refused"
    assert decision_lines()[-1]["reason"] == "duplicate_header"
    event = _v2(token)
    event["multiValueHeaders"] = {"authorization": [f"Bearer {token}", "Bearer x"]}
    assert world.outcome(event) == "refused"
    assert decision_lines()[-1]["reason"] == "duplicate_header"


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.__setitem__("routeArn", e["routeArn"].replace("/GET/orders", "/DELETE/orders/1")),
        lambda e: e.__setitem__("routeKey", "DELETE /orders/{id}"),
    ],
    ids=["route_arn", "route_key"],
)
def test_a_repeat_on_another_route_is_decided_for_that_route(world: World, change: Any) -> None:
    token = world.mint(scope="read")
    assert world.outcome(_v2(token)) == "allow"
    event = _v2(token)
    change(event)
    assert world.outcome(event) == "refused"  # DELETE needs admin, whatever was cached for GET
    assert world.outcome(_v2(token)) == "allow"


def test_other_spellings_of_the_credentials_take_the_full_path(world: World) -> None:
    token = world.mint()
    assert world.outcome(_v2(token)) == "allow"
    for value in (f"bearer {token}", f"Bearer  {token}", f" Bearer {token} "):
        event = _v2(token)
        event["headers"]["authorization"] = value
        assert world.outcome(event) == "allow", value
    for value in (f"Bearer {token},Bearer {token}", f"Bearer {token}x", f"Bearer\t{token}"):
        event = _v2(token)
        event["headers"]["authorization"] = value
        assert world.outcome(event) == "refused", value


def test_a_route_key_from_the_request_context_only_is_never_prebuilt(world: World) -> None:
    """The shortcut compares the event's own ``routeKey``; one read from ``requestContext``
    (an event without it) is decided by the full path every time."""
    token = world.mint(scope="read")
    event = _v2(token)
    del event["routeKey"]
    assert world.outcome(event) == "allow"
    entry = app._authorizer().cache.get(token)
    assert entry is not None
    assert entry.answer is None
    event["requestContext"]["routeKey"] = "DELETE /orders/{id}"
    assert world.outcome(event) == "refused"


def test_a_non_ascii_identity_header_never_takes_the_shortcut(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-pass duplicate check is exact only for an ASCII name (``events._values``)."""
    monkeypatch.setenv("IDENTITY_HEADER", "x-tökén")
    token = world.mint()
    event = _v2(token)
    event["headers"]["x-tökén"] = event["headers"].pop("authorization")
    assert world.outcome(event) == "allow"
    assert app._authorizer()._repeated(event) is None
    assert world.outcome(event) == "allow"  # the full path, cache hit
    event["headers"]["X-TÖKÉN"] = f"Bearer {token}"
    assert world.outcome(event) == "refused"
