"""Ending a session refuses *every* access token issued from it (RFC 7009 §2.1 SHOULD).

Tokens come from the real :class:`TokenService` over moto tables; the verdict comes from the real
:class:`~auth_core.authorizer.service.Authorizer` reading the same revocations table (revocation
cache off, so each call reads DynamoDB).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from auth_core.authorizer.service import Authorizer
from auth_core.errors import InvalidGrantError, TemporarilyUnavailableError
from auth_core.jwk import JWKSet
from auth_core.oauth.revocation import RevocationService
from auth_core.revocation_feed import RevocationFeed
from auth_core.stores.revocations import MAX_CLOCK_LEEWAY, RevocationStore
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
from authctl.cli import main
from tests.conftest import FakeLambdaContext, load_event
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS
from tests.functional.oauth.helpers import body, form, password_request, poke_user, refresh_request

Authorize = Callable[[str], bool]


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_user("bob")
    stack.add_client()
    stack.add_client("other-spa")
    stack.add_client(
        "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials", "password", "refresh_token")
    )
    return stack


@pytest.fixture
def authorize(seeded, clock) -> Authorize:
    """``token -> allowed?`` through the authorizer engine; the revocation feed is read on every call."""
    jwks = JWKSet.from_dict(seeded.jwks)
    settings = seeded.settings()
    engine = Authorizer(
        settings,
        verifier_for=lambda iss: AccessTokenVerifier(ClaimsPolicy(iss, AUD), jwks, clock=clock),
        revocation=RevocationFeed(
            RevocationStore("revocations", client=seeded.ddb, clock=clock), interval=0, wall=clock
        ),
        clock=clock,
    )
    template = json.dumps(load_event("authorizer_http_v2_allow.json"))

    def run(token: str) -> bool:
        event = json.loads(template.replace("{{access_token}}", token))
        return engine(event, FakeLambdaContext())["isAuthorized"] is True

    return run


@pytest.fixture
def revocation(seeded, service, clock, audit) -> RevocationService:
    verifier = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(seeded.jwks), clock=clock)
    return RevocationService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        revoker=service.revoker,
        verifier=verifier,
        audit=audit,
    )


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def session(service, issuers, clock, *, refreshes: int, username: str = "alice") -> tuple[list[str], str]:
    """Log in and refresh ``refreshes`` times: every access token of the session, and its live RT."""
    doc = body(service.token(password_request(username), issuers))
    tokens = [doc["access_token"]]
    for _ in range(refreshes):
        clock.advance(30)
        doc = body(service.token(refresh_request(doc["refresh_token"]), issuers))
        tokens.append(doc["access_token"])
    return tokens, doc["refresh_token"]


def client_credentials_token(service, issuers) -> str:
    request = form(
        {"grant_type": "client_credentials", "scope": "read"}, basic=("backend-svc", BACKEND_SECRET)
    )
    return body(service.token(request, issuers))["access_token"]


def deny_entries(stack, prefix: str) -> list[dict[str, Any]]:
    return [i for i in stack.scan("revocations") if i["pk"]["S"].startswith(prefix)]


# ----------------------------------------------------------------------------- the sid claim
def test_every_access_token_of_a_session_carries_the_family_id_as_sid(seeded, service, issuers, clock):
    tokens, _rt = session(service, issuers, clock, refreshes=3)
    sids = {claims_of(t).get("sid") for t in tokens}
    (family,) = (i for i in seeded.scan("sessions") if i["pk"]["S"].startswith("fam#"))
    assert sids == {family["family_id"]["S"]}
    other, _ = session(service, issuers, clock, refreshes=0)
    assert claims_of(other[0])["sid"] not in sids  # a new login is a new session


def test_client_credentials_and_refreshless_tokens_carry_no_sid(seeded, service, issuers):
    assert "sid" not in claims_of(client_credentials_token(service, issuers))
    seeded.add_client("no-refresh", grants=("password",))
    doc = body(service.token(password_request(client_id="no-refresh"), issuers))
    assert "refresh_token" not in doc and "sid" not in claims_of(doc["access_token"])


# ----------------------------------------------------------------------------- every revocation path
def test_revoking_the_refresh_token_refuses_every_access_token_of_the_session(
    seeded, service, issuers, clock, authorize, revocation
):
    tokens, rt = session(service, issuers, clock, refreshes=3)
    sibling, _ = session(service, issuers, clock, refreshes=1)  # same user, another session
    machine = client_credentials_token(service, issuers)
    bobs, _ = session(service, issuers, clock, refreshes=0, username="bob")
    assert all(map(authorize, [*tokens, *sibling, machine, *bobs]))

    revocation.revoke(form({"token": rt, "client_id": "demo-spa", "token_type_hint": "refresh_token"}))

    assert [authorize(t) for t in tokens] == [False] * 4
    assert all(map(authorize, [*sibling, machine, *bobs]))
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(rt), issuers)


def test_refresh_token_reuse_refuses_every_access_token_of_the_session(
    seeded, service, issuers, clock, authorize, audit
):
    first = body(service.token(password_request(), issuers))
    clock.advance(30)
    second = body(service.token(refresh_request(first["refresh_token"]), issuers))
    clock.advance(30)
    third = body(service.token(refresh_request(second["refresh_token"]), issuers))
    sibling, _ = session(service, issuers, clock, refreshes=0)
    clock.advance(60)  # past the grace window

    with pytest.raises(InvalidGrantError) as info:
        service.token(refresh_request(first["refresh_token"]), issuers)  # replay: theft signal
    assert info.value.reason == "refresh_reuse"
    assert "RefreshTokenReuse" in audit.names()
    assert not any(authorize(d["access_token"]) for d in (first, second, third))
    assert authorize(sibling[0])


def test_refresh_token_from_another_client_refuses_the_sessions_access_tokens(
    seeded, service, issuers, clock, authorize
):
    tokens, rt = session(service, issuers, clock, refreshes=1)
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(rt, client_id="other-spa"), issuers)
    assert not any(map(authorize, tokens))


def test_disabled_user_found_at_refresh_refuses_the_sessions_access_tokens(
    seeded, service, issuers, clock, authorize
):
    tokens, rt = session(service, issuers, clock, refreshes=1)
    poke_user(seeded.ddb, "alice", enabled=False)  # directly on the table: no not_before mirror
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(rt), issuers)
    assert deny_entries(seeded, "sub#") == []
    assert not any(map(authorize, tokens))


@pytest.mark.parametrize("how", ["logout_all", "disable_user"])
def test_user_level_revocation_writes_a_session_entry_per_family(
    seeded, service, issuers, clock, authorize, how
):
    one, _ = session(service, issuers, clock, refreshes=1)
    two, _ = session(service, issuers, clock, refreshes=0)
    bobs, _ = session(service, issuers, clock, refreshes=0, username="bob")
    assert getattr(service.revoker, how)("alice") == 2
    sids = {claims_of(t)["sid"] for t in one + two}
    assert {i["pk"]["S"] for i in deny_entries(seeded, "sid#")} == {f"sid#{s}" for s in sids}
    assert not any(map(authorize, one + two))
    assert authorize(bobs[0])


def test_authctl_sessions_revoke_refuses_the_sessions_access_tokens(
    seeded, service, issuers, clock, authorize, monkeypatch, capsys
):
    tokens, _rt = session(service, issuers, clock, refreshes=2)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["sessions", "revoke", claims_of(tokens[0])["sid"]]) == 0
    assert json.loads(capsys.readouterr().out)["revoked"] is True
    assert not any(map(authorize, tokens))


def test_revoking_an_access_token_revokes_only_that_token(
    seeded, service, issuers, clock, authorize, revocation
):
    """RFC 7009 §2.1 MAY: we keep the session (see ``auth_core.oauth.revocation``)."""
    tokens, rt = session(service, issuers, clock, refreshes=2)
    revocation.revoke(form({"token": tokens[1], "client_id": "demo-spa"}))
    assert [authorize(t) for t in tokens] == [True, False, True]
    assert deny_entries(seeded, "sid#") == []
    assert body(service.token(refresh_request(rt), issuers))["access_token"]


# ----------------------------------------------------------------------------- the write itself
def test_session_entry_outlives_every_access_token_of_the_session(seeded, service, issuers, clock):
    tokens, _rt = session(service, issuers, clock, refreshes=1)
    sid = claims_of(tokens[0])["sid"]
    assert service.revoker.revoke_family(sid, reason="test") is True
    (entry,) = deny_entries(seeded, "sid#")
    settings, until = seeded.settings(), int(entry["expires_at"]["N"])
    assert entry["pk"]["S"] == f"sid#{sid}"
    assert until == int(clock()) + settings.max_access_token_lifetime + MAX_CLOCK_LEEWAY
    assert all(until >= claims_of(t)["exp"] + settings.leeway for t in tokens)
    facts = service.revoker.revocations.facts(
        subject=service.users.get("alice").user_id, session_id=sid, jti=claims_of(tokens[-1])["jti"]
    )
    assert facts.session_revoked
    # the newest token's jti too (tokens minted before access tokens carried sid relied on it)
    assert facts.jti_revoked


def test_revocation_is_one_read_and_one_transaction_and_idempotent(seeded, service, issuers, clock):
    tokens, _rt = session(service, issuers, clock, refreshes=0)
    sid = claims_of(tokens[0])["sid"]
    calls: list[str] = []
    real = seeded.ddb

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(real, name)

    service.revoker.sessions._client = Counting()
    service.revoker.revocations._client = Counting()
    assert service.revoker.revoke_family(sid, reason="test") is True
    assert calls == ["get_item", "transact_write_items"]
    before = deny_entries(seeded, "sid#")
    clock.advance(100)
    assert service.revoker.revoke_family(sid, reason="test") is False  # already revoked
    assert deny_entries(seeded, "sid#") == before  # not rewritten
    assert service.revoker.revoke_family("f" * 32, reason="test") is False  # no such family
    assert len(deny_entries(seeded, "sid#")) == 1


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": c} for c in codes],
        },
        "TransactWriteItems",
    )


def test_a_conflicting_refresh_is_retried(seeded, service, issuers, clock, authorize):
    tokens, _rt = session(service, issuers, clock, refreshes=0)
    real, failures = seeded.ddb, [_cancelled("TransactionConflict", "None")]

    class Conflicting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            if failures:
                raise failures.pop()
            return real.transact_write_items(**kwargs)

    service.revoker.sessions._client = Conflicting()
    assert service.revoker.revoke_family(claims_of(tokens[0])["sid"], reason="test") is True
    assert not authorize(tokens[0])


def test_persistent_conflict_is_a_503_and_writes_nothing(seeded, service, issuers, clock, authorize):
    tokens, _rt = session(service, issuers, clock, refreshes=0)
    real = seeded.ddb

    class AlwaysConflicting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            raise _cancelled("TransactionConflict", "None")

    service.revoker.sessions._client = AlwaysConflicting()
    with pytest.raises(TemporarilyUnavailableError):
        service.revoker.revoke_family(claims_of(tokens[0])["sid"], reason="test")
    assert deny_entries(seeded, "sid#") == []
    assert authorize(tokens[0])  # nothing half-done: the family is still active, and so is its token


def test_authctl_sessions_end_all_ends_every_session_and_token_but_not_later_logins(
    seeded, service, issuers, clock, authorize, monkeypatch, capsys
):
    """The global cut-off without a key replacement (the restore runbook's last step)."""
    alices, alice_rt = session(service, issuers, clock, refreshes=1)
    bobs, bob_rt = session(service, issuers, clock, refreshes=0, username="bob")
    machine = client_credentials_token(service, issuers)
    monkeypatch.setattr("authctl.clock.aws_clock", lambda *a, **k: clock)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert main(["sessions", "end-all"]) == 2  # not confirmed: nothing happens
    assert "--yes" in capsys.readouterr().err
    assert all(map(authorize, [*alices, *bobs, machine]))

    clock.advance(1)
    assert main(["sessions", "end-all", "--yes"]) == 0
    out = capsys.readouterr().out  # after the authorizer's log lines: authctl's indented JSON
    assert json.loads(out[out.index("{\n") :])["cutoff_ms"] == int(clock() * 1000), out
    assert not any(map(authorize, [*alices, *bobs, machine]))
    for rt in (alice_rt, bob_rt):
        with pytest.raises(InvalidGrantError):
            service.token(refresh_request(rt), issuers)

    clock.advance(1)
    fresh, fresh_rt = session(service, issuers, clock, refreshes=1)  # signing in again works
    assert all(map(authorize, fresh)) and fresh_rt
