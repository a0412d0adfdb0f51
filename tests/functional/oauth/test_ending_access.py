"""Ending access keeps its promises: resets, privilege changes, client disable, the grace window.

Each test reproduces a finding of the life-cycle review (issue "Revocation that is kept") and
failed on the code before it: deterministic interleavings replace the HTTP races that found them.
The verdict on an access token comes from the same rules the authorizer applies
(:meth:`RevocationFacts.reason`), read consistently from the revocations table.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from auth_core.errors import InvalidClientError, InvalidGrantError
from auth_core.keyset import KeySet
from auth_core.oauth.grace import open_response
from auth_core.oauth.grants import TokenService
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.request import parse_request
from auth_core.oauth.revocation import set_client_enabled
from auth_core.revocation_feed import RevocationFeed
from auth_core.stores.clients import ClientStore
from auth_core.stores.revocations import RevocationStore
from tests.functional.oauth.conftest import FAST_HASHER, PASSWORD
from tests.functional.oauth.helpers import body, form, http_event, password_request, refresh_request

NEW_PASSWORD = "an entirely new passphrase 42"


@pytest.fixture
def seeded(stack):
    stack.add_user(scopes=("openid", "read", "write"), roles=("user", "admin"))
    stack.add_client()
    return stack


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def refused(service: TokenService, token: str) -> str | None:
    """Why the authorizer's rules refuse ``token`` now (``None``: it stands)."""
    c = claims(token)
    facts = service.revoker.revocations.facts(
        subject=c["sub"], jti=c["jti"], session_id=c.get("sid"), client_id=c["client_id"]
    )
    return facts.reason(c["iat"])


RS_SECRET = "resource-server-secret-0123456789abcdef"


def resource_server(stack: Any, service: TokenService, clock: Any) -> tuple[Any, str]:
    """An introspection service and a resource server client (``rs``) allowed to use it on any token."""
    from auth_core.jwk import JWKSet
    from auth_core.oauth.introspection import IntrospectionService
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
    from tests.functional.oauth.conftest import AUD, ISS

    stack.add_client("rs", secret=RS_SECRET, grants=("client_credentials",), introspect_any=True)
    introspection = IntrospectionService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        users=service.users,
        verifier=AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(stack.jwks), clock=clock),
        clock=clock,
    )
    return introspection, RS_SECRET



def login(service: TokenService, issuers: Any, **extra: str) -> dict[str, Any]:
    return body(service.token(password_request(**extra), issuers))


def refresh(
    service: TokenService, issuers: Any, token: str, *, source_ip: str | None = None
) -> dict[str, Any]:
    request = refresh_request(token)
    if source_ip is not None:
        event = http_event(params=dict(request.params))
        event["requestContext"]["http"]["sourceIp"] = source_ip
        request = parse_request(event)
    return body(service.token(request, issuers))


# ---------------------------------------------------------------- 1. resets and logins in flight
@pytest.mark.parametrize("how", ["set_password", "logout_all", "disable_user"])
def test_a_reset_between_password_check_and_session_write_fails_the_login(
    seeded, service, issuers, clock, how, monkeypatch
) -> None:
    """docs/threat-model.md T-ACC-1."""
    hasher = service.hasher

    class ResetAfterCheck:
        def verify(self, password: str, stored: str) -> None:
            hasher.verify(password, stored)  # the stolen password is right...
            if how == "set_password":  # ...and the owner resets it before the session is written
                service.revoker.set_password("alice", FAST_HASHER.hash(NEW_PASSWORD))
            else:
                getattr(service.revoker, how)("alice")

        def __getattr__(self, name: str) -> Any:
            return getattr(hasher, name)

    monkeypatch.setattr(service, "hasher", ResetAfterCheck())
    with pytest.raises(InvalidGrantError) as info:
        login(service, issuers)
    assert info.value.reason == "user_changed"
    assert [i for i in seeded.scan("sessions") if i["pk"]["S"].startswith("fam#")] == []


@pytest.mark.parametrize("ms_after", [0, 1, 999])
def test_a_reset_committed_just_after_a_login_ends_it_in_the_same_second(
    seeded, service, issuers, clock, ms_after
) -> None:
    """docs/threat-model.md T-ACC-1.

    The old check compared whole seconds with ``<=``: a login in the reset's second survived.
    """
    clock.now = 1_800_000_000.25
    stolen = login(service, issuers)
    clock.now += ms_after / 1000
    service.revoker.set_password("alice", FAST_HASHER.hash(NEW_PASSWORD))
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, stolen["refresh_token"])
    assert refused(service, stolen["access_token"]) in {"revoked", "revoked_session"}
    # even if the session sweep had missed the family, the cut-off alone refuses the token
    c = claims(stolen["access_token"])
    assert service.revoker.revocations.facts(subject=c["sub"]).reason(c["iat"]) == "revoked_subject"


def test_a_login_after_the_reset_in_the_same_second_waits_and_is_accepted(
    seeded, clock, issuers, stack
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    service = TokenService.from_settings(stack.settings(), keys=stack.keyset, hasher=FAST_HASHER, clock=clock)
    service._sleep = sleep
    clock.now = 1_800_000_000.25
    service.revoker.set_password("alice", FAST_HASHER.hash(NEW_PASSWORD))
    clock.advance(0.5)
    fresh = login(service, issuers, password=NEW_PASSWORD)
    # the cut-off is planned two seconds past the reset (the write's commit time is unknown, the
    # writer's clock within a second), and rounded up: 1_800_000_002.25 -> 1_800_000_003; the
    # login waits for it instead of getting a token the verifiers would refuse
    assert slept == [pytest.approx(2.25)]
    assert claims(fresh["access_token"])["iat"] == 1_800_000_003
    assert refused(service, fresh["access_token"]) is None
    assert refresh(service, issuers, fresh["refresh_token"])["access_token"]


def test_a_reset_while_a_login_without_refresh_token_signs_fails_that_login(
    seeded, stack, service, issuers
) -> None:
    """docs/threat-model.md T-ACC-1: No session write to fail: the login re-reads the user after signing."""
    stack.add_client("password-only", grants=("password",))

    def issuer_then_reset(ttl: int) -> Any:
        inner = issuers(ttl)

        class ResetAfterSigning:
            issuer = inner.issuer  # DPoP proofs name the token endpoint under it

            def issue(self, *args: Any, **kwargs: Any) -> Any:
                issued = inner.issue(*args, **kwargs)
                service.revoker.set_password("alice", FAST_HASHER.hash(NEW_PASSWORD))
                return issued

        return ResetAfterSigning()

    with pytest.raises(InvalidGrantError) as info:
        service.token(password_request(client_id="password-only"), issuer_then_reset)
    assert info.value.reason == "user_changed"


def test_the_cut_off_is_never_before_the_reset_write_commits(seeded, service, issuers, clock) -> None:
    """docs/threat-model.md T-ACC-1.

    A slow users-table write must not leave a gap between the cut-off and its commit.
    """
    end_sessions = service.users.end_sessions

    def slow_write(*args: Any, **kwargs: Any) -> Any:
        done = end_sessions(*args, **kwargs)
        clock.advance(3.5)  # the write took 3.5 s, longer than the margin (a cold client, throttling...)
        return done

    service.users.end_sessions = slow_write  # type: ignore[method-assign]
    clock.now = 1_800_000_000.25
    service.revoker.logout_all("alice")
    committed = 1_800_000_000.25 + 3.5
    assert service.revoker.revocations.not_before(service.users.get("alice").user_id) >= committed
    assert service.users.get("alice").tokens_valid_after_ms >= committed * 1000


# ---------------------------------------------------------------- 7. privileges reach sessions
def test_removing_roles_and_scopes_reaches_existing_sessions(seeded, service, issuers) -> None:
    pair = login(service, issuers, scope="openid read write")
    assert claims(pair["access_token"])["roles"] == ["user", "admin"]
    service.users.set_privileges("alice", scopes=("openid", "read"), roles=("user",))
    new = refresh(service, issuers, pair["refresh_token"])
    assert claims(new["access_token"])["roles"] == ["user"]
    assert new["scope"] == "openid read"
    # and the scope does not come back when the user gets it again: a session only narrows
    service.users.set_privileges("alice", scopes=("openid", "read", "write"), roles=("user",))
    assert refresh(service, issuers, new["refresh_token"])["scope"] == "openid read"


def test_removing_every_scope_leaves_sessions_with_none(seeded, service, issuers) -> None:
    """An empty scope list means "nothing" for a user (review finding: it used to narrow nothing)."""
    pair = login(service, issuers, scope="openid read write")
    service.users.set_privileges("alice", scopes=(), roles=("user",))
    assert refresh(service, issuers, pair["refresh_token"])["scope"] == ""


def test_a_role_change_between_the_read_and_the_refresh_write_is_applied(seeded, service, issuers) -> None:
    pair = login(service, issuers)
    rotate = service.sessions.rotate
    calls: list[int] = []

    def change_then_rotate(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # the refresh has read its token item; the admin acts before it writes
            service.users.set_privileges("alice", scopes=("openid", "read"), roles=("user",))
        calls.append(1)
        return rotate(*args, **kwargs)

    service.sessions.rotate = change_then_rotate  # type: ignore[method-assign]
    new = refresh(service, issuers, pair["refresh_token"])
    assert len(calls) == 2  # the first transaction failed its user check and was redone
    assert claims(new["access_token"])["roles"] == ["user"]
    assert "write" not in new["scope"].split()


def test_disabling_a_client_ends_its_tokens_grants_and_sessions(seeded, stack, clock, issuers) -> None:
    feed = RevocationFeed(RevocationStore("revocations", clock=clock), interval=0, wall=clock)
    service = TokenService.from_settings(
        stack.settings(), keys=stack.keyset, hasher=FAST_HASHER, clock=clock, feed=feed
    )
    pair = login(service, issuers)
    service.clients.get("demo-spa")  # cached as enabled in this container
    clock.advance(1)
    set_client_enabled(
        service.clients, service.revoker.revocations, "demo-spa", False, max_token_lifetime=3600, clock=clock
    )
    assert refused(service, pair["access_token"]) == "revoked_client"
    with pytest.raises(InvalidClientError):  # new grants: at once, the client cache notwithstanding
        login(service, issuers)
    with pytest.raises(InvalidClientError):
        refresh(service, issuers, pair["refresh_token"])
    # enabled again: the session is still over (its refresh is refused and revokes the family)
    clock.advance(1)
    set_client_enabled(
        service.clients, service.revoker.revocations, "demo-spa", True, max_token_lifetime=3600, clock=clock
    )
    assert refused(service, pair["access_token"]) == "revoked_subject"
    with pytest.raises(InvalidGrantError) as info:
        refresh(service, issuers, pair["refresh_token"])
    assert info.value.reason == "client_disabled"
    assert refused(service, login(service, issuers)["access_token"]) is None


def test_introspection_of_a_session_ended_by_a_client_disable_and_enable(
    seeded, stack, service, issuers, clock
) -> None:
    """Review finding: introspection said active: true while the refresh itself would fail."""
    introspection, secret = resource_server(stack, service, clock)
    rt = login(service, issuers)["refresh_token"]

    def ask() -> bool:
        request = form({"token": rt}, basic=("rs", secret))
        return bool(introspection.introspect(request)["active"])

    assert ask() is True
    for enabled in (False, True):
        set_client_enabled(
            service.clients,
            service.revoker.revocations,
            "demo-spa",
            enabled,
            max_token_lifetime=3600,
            clock=clock,
        )
    assert ask() is False
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, rt)


def test_a_disabled_client_is_refused_at_introspection_even_when_cached(
    seeded, stack, service, clock
) -> None:
    introspection, secret = resource_server(stack, service, clock)
    request = form({"token": "x" * 43}, basic=("rs", secret))
    introspection.introspect(request)  # this container has now cached "rs" as enabled
    ClientStore("clients").set_enabled("rs", False)  # disabled from another container (authctl)
    with pytest.raises(InvalidClientError):
        introspection.introspect(request)


# ---------------------------------------------------------------- 5. no chain through a table dump
SERVER_SECRET = b"s" * 32


@pytest.fixture
def peppered(seeded, stack, clock) -> TokenService:
    """The token service as deployed: its key store holds the retry-grace secret."""

    class Keys:
        def get_signing_key(self) -> Any:
            return stack.keyset.get_signing_key()

        def grace_secret(self) -> bytes:
            return SERVER_SECRET

    return TokenService.from_settings(stack.settings(), keys=Keys(), hasher=FAST_HASHER, clock=clock)


def test_a_table_dump_and_an_old_refresh_token_yield_nothing(seeded, peppered, issuers) -> None:
    tokens = [login(peppered, issuers)["refresh_token"]]
    for _ in range(4):
        tokens.append(refresh(peppered, issuers, tokens[-1])["refresh_token"])
    dump = seeded.scan("sessions")
    blobs = [(i["pk"]["S"], i["grace_blob"]["S"]) for i in dump if "grace_blob" in i]
    # only the live token carries a sealed response (for its parent): there is no chain to walk
    assert [pk for pk, _ in blobs] == [f"rt#{hash_refresh_token(tokens[-1])}"]
    for old in tokens[:-1]:  # and without the server's secret not even the parent opens it
        assert open_response(old, hash_refresh_token(old), blobs[0][1]) is None


def test_the_sealed_response_opens_only_for_the_parent_with_the_server_secret(
    seeded, peppered, issuers
) -> None:
    grandparent = login(peppered, issuers)["refresh_token"]
    parent = refresh(peppered, issuers, grandparent)["refresh_token"]
    child = refresh(peppered, issuers, parent)
    (blob,) = [i["grace_blob"]["S"] for i in seeded.scan("sessions") if "grace_blob" in i]
    opened = open_response(parent, hash_refresh_token(parent), blob, pepper=SERVER_SECRET)
    assert json.loads(opened or "{}")["refresh_token"] == child["refresh_token"]
    assert open_response(grandparent, hash_refresh_token(grandparent), blob, pepper=SERVER_SECRET) is None
    assert refresh(peppered, issuers, parent) == child  # and the retry itself works


def test_the_window_closed_means_gone_even_if_the_item_lingers(
    seeded, service, issuers, clock, audit
) -> None:
    parent = login(service, issuers)["refresh_token"]
    refresh(service, issuers, parent)
    clock.advance(service.rotator.grace_seconds)
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, parent)
    assert "RefreshTokenReuse" in audit.names()
    assert not [i for i in seeded.scan("sessions") if "grace_blob" in i]


def test_without_a_server_secret_nothing_is_sealed_at_all(seeded, stack, clock, issuers, audit) -> None:
    """A key set from before the grace secret: no retry cache (a dump must never open a response)."""
    unpeppered = TokenService.from_settings(
        stack.settings(), keys=KeySet(stack.keyset.records), hasher=FAST_HASHER, clock=clock, audit=audit
    )
    parent = login(unpeppered, issuers)["refresh_token"]
    refresh(unpeppered, issuers, parent)
    assert not [i for i in seeded.scan("sessions") if "grace_blob" in i]
    with pytest.raises(InvalidGrantError):  # a retry is reuse, as with REFRESH_GRACE_SECONDS=0
        refresh(unpeppered, issuers, parent)


# ---------------------------------------------------------------- 6. theft inside the window
def test_a_same_origin_retry_is_replayed_and_recorded(seeded, service, issuers, audit) -> None:
    """docs/threat-model.md T-REF-1."""
    parent = login(service, issuers)["refresh_token"]
    first = refresh(service, issuers, parent, source_ip="198.51.100.7")
    assert refresh(service, issuers, parent, source_ip="198.51.100.7") == first
    assert "RefreshGraceReplay" in audit.names()


def test_a_thief_replaying_after_the_victim_from_elsewhere_ends_the_session(
    seeded, service, issuers, audit
) -> None:
    """docs/threat-model.md T-REF-1."""
    stolen = login(service, issuers)["refresh_token"]
    victims = refresh(service, issuers, stolen, source_ip="198.51.100.7")
    with pytest.raises(InvalidGrantError):  # used to get the victim's byte-identical pair
        refresh(service, issuers, stolen, source_ip="203.0.113.66")
    assert "RefreshGraceOriginMismatch" in audit.names()
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, victims["refresh_token"], source_ip="198.51.100.7")
    assert refused(service, victims["access_token"]) in {"revoked", "revoked_session"}


def test_a_thief_who_refreshes_first_is_caught_when_the_victim_retries(seeded, service, issuers) -> None:
    """docs/threat-model.md T-REF-1."""
    stolen = login(service, issuers)["refresh_token"]
    thiefs = refresh(service, issuers, stolen, source_ip="203.0.113.66")
    with pytest.raises(InvalidGrantError):  # used to hand the victim the thief's pair, silently
        refresh(service, issuers, stolen, source_ip="198.51.100.7")
    assert refused(service, thiefs["access_token"]) in {"revoked", "revoked_session"}
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, thiefs["refresh_token"], source_ip="203.0.113.66")


def test_a_retry_through_another_client_is_reuse(seeded, service, issuers, stack) -> None:
    stack.add_client("other-spa")
    parent = login(service, issuers)["refresh_token"]
    refresh(service, issuers, parent)
    with pytest.raises(InvalidGrantError):
        service.token(
            form({"grant_type": "refresh_token", "refresh_token": parent, "client_id": "other-spa"}), issuers
        )
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, parent)  # the family is gone for everyone


def test_password_unchanged_for_other_users(seeded, service, issuers, stack) -> None:
    stack.add_user("bob")
    bobs = login(service, issuers, username="bob")
    service.revoker.set_password("alice", FAST_HASHER.hash(NEW_PASSWORD))
    assert refused(service, bobs["access_token"]) is None
    assert refresh(service, issuers, bobs["refresh_token"])["access_token"]
    assert login(service, issuers, username="alice", password=NEW_PASSWORD)["access_token"]
    with pytest.raises(InvalidGrantError):
        login(service, issuers, username="alice", password=PASSWORD)
