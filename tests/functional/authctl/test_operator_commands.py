"""``authctl users list|show|delete`` and ``clients list|show|update|delete|rotate-secret``.

Against moto tables (the ``stack`` fixture) and, at the end, a running local stack's endpoint
(a moto server and its ``stack.json``). Each change is said first on stderr (``authctl: will``),
audited after (``authctl: audit {...}``), and each refusal is one line and exit 2.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from auth_core.errors import InvalidClientError, InvalidGrantError
from auth_core.oauth.client_auth import authenticate_client
from auth_core.oauth.request import ClientCredentials
from auth_core.stores.clients import Client, ClientStore, hash_client_secret
from auth_core.stores.memory import MemoryBackend
from auth_core.stores.revocations import RevocationStore
from auth_core.stores.users import User, UserStore
from authctl.cli import main
from tests.functional.authctl.conftest import server_client
from tests.functional.oauth.helpers import body, password_request, refresh_request


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.out)

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("authctl: error:")]

    @property
    def plans(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("authctl: will ")]

    @property
    def audits(self) -> list[dict[str, Any]]:
        prefix = "authctl: audit "
        return [json.loads(line[len(prefix) :]) for line in self.err.splitlines() if line.startswith(prefix)]


@pytest.fixture
def cli(stack, monkeypatch, capsys):
    def run(*argv: str, stdin: str = "") -> Run:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = _main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Run(code, out, err)

    return run


def _main(argv: list[str]) -> int:
    """``main``, with argparse's usage exit (the console script's exit code) as a code."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def refused(result: Run, says: str) -> None:
    assert result.code == 2, result.err
    assert len(result.errors) == 1, result.err
    assert says in result.errors[0], result.errors[0]
    assert not result.audits  # nothing done, nothing audited


# ----------------------------------------------------------------------------- users
def test_users_list_pages_and_never_prints_a_hash(cli, stack):
    for name in ("ann", "bob", "cat", "dan", "eve"):
        stack.add_user(name)
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        argv = ["users", "list", "--limit", "2", "--json"] + (["--next", token] if token else [])
        result = cli(*argv)
        assert result.code == 0
        assert "password" not in result.out and "argon2" not in result.out
        rows = result.doc["users"]
        assert len(rows) <= 2
        seen += [row["username"] for row in rows]
        assert all(row["user_id"].startswith("u_") for row in rows)
        assert result.audits[0]["event"] == "OperatorUsersListed"
        pages += 1
        token = result.doc["next"]
        if not token:
            break
    assert sorted(seen) == ["ann", "bob", "cat", "dan", "eve"] and pages >= 3
    text = cli("users", "list")
    assert text.code == 0 and "username=ann" in text.out and "argon2" not in text.out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["users", "list", "--limit", "0"], "must be 1 to 1000"),
        (["users", "list", "--limit", "many"], "not a whole number"),
        (["users", "list", "--next", "not-a-token"], "--next: not a token"),
        (["users", "show", "nobody"], "no such user"),
        (["users", "show", "  "], "USERNAME must not be empty"),
        (["users", "delete", "nobody", "--yes"], "no such user"),
        (["users", "delete", "alice"], "not confirmed"),
        (["users", "delete", "alice", "--force"], "unrecognized arguments"),
    ],
)
def test_users_refusals(cli, stack, argv, says):
    stack.add_user()
    refused(cli(*argv), says)
    assert UserStore("users").get("alice") is not None


def test_a_clients_list_token_is_refused_by_users_list(cli, stack):
    stack.add_client("a")
    stack.add_client("b")
    token = cli("clients", "list", "--limit", "1", "--json").doc["next"]
    assert token
    refused(cli("users", "list", "--next", token), "not a token printed by 'users list'")


def test_users_show(cli, stack, service, issuers):
    stack.add_user()
    stack.add_client()
    body(service.token(password_request(), issuers))
    result = cli("users", "show", "alice", "--json")
    assert result.code == 0
    doc = result.doc
    assert doc["username"] == "alice" and doc["user_id"] == stack.user_id()
    assert doc["roles"] == ["user"] and doc["scopes"] == ["openid", "read", "write"]
    assert doc["enabled"] is True and doc["sessions"] == 1 and doc["created"]
    assert "hash" not in result.out and "argon2" not in result.out
    assert result.audits == [result.audits[0]] and result.audits[0]["username"] == "alice"


def test_users_delete_ends_sessions_publishes_the_cutoff_and_the_id_is_never_reused(
    cli, stack, service, issuers
):
    """Ids are random (128 bits), not tombstoned: a user re-created under the same name is a new
    subject; the old one's sessions, refresh tokens and access tokens stay dead."""
    stack.add_user()
    stack.add_client()
    old_id = stack.user_id()
    pair = body(service.token(password_request(), issuers))
    result = cli("users", "delete", "alice", "--yes", "--json")
    assert result.code == 0, result.err
    assert result.doc["families_revoked"] == 1 and result.doc["user_id"] == old_id
    assert result.plans and "end its 1 session(s)" in result.plans[0]
    events = [a["event"] for a in result.audits]
    assert "FamilyRevoked" in events and "UserDeleted" in events and events[-1] == "OperatorUserDeleted"
    assert UserStore("users").get("alice") is None
    assert RevocationStore("revocations").not_before(old_id) > 0  # access tokens refused
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)
    stack.add_user()  # the same name again
    new_id = stack.user_id()
    assert new_id != old_id
    assert UserStore("users").username_for_subject(old_id) is None
    with pytest.raises(InvalidGrantError):  # the old session does not come back with the name
        service.token(refresh_request(pair["refresh_token"]), issuers)
    assert body(service.token(password_request(), issuers))["access_token"]


def test_users_delete_refuses_a_user_replaced_meanwhile(stack):
    """The delete is conditional on the user being the disabled one whose sessions were ended."""
    users = UserStore("users")
    user = stack.add_user()
    assert users.delete("alice", user_id=user.user_id) is False  # still enabled
    users.end_sessions("alice", 1, disable=True)
    assert users.delete("alice", user_id="u_someone-else") is False
    assert users.delete("alice", user_id=user.user_id) is True
    assert users.get("alice") is None


def test_users_unlock_and_existing_commands_are_planned_and_audited(cli, stack):
    stack.add_user()
    result = cli("users", "unlock", "alice")
    assert result.code == 0 and result.plans == ["authctl: will clear the login throttling of user alice"]
    assert [a["event"] for a in result.audits] == ["OperatorUserUnlocked"]
    assert result.audits[0]["username"] == "alice" and result.audits[0]["operator"]
    result = cli("users", "update", "alice", "--roles", "admin")
    assert result.code == 0 and "roles (admin)" in result.plans[0] and "scopes (keep)" in result.plans[0]
    refused(cli("users", "unlock", "nobody"), "no such user")


# ----------------------------------------------------------------------------- clients
def test_clients_list_and_show_never_print_the_secret_hash(cli, stack):
    stack.add_client("svc", secret="s3cret-value", grants=("client_credentials",))
    for name in ("a", "b", "c"):
        stack.add_client(name)
    ids: list[str] = []
    token: str | None = None
    while True:
        result = cli("clients", "list", "--limit", "3", "--json", *(["--next", token] if token else []))
        assert result.code == 0 and "sha256" not in result.out
        ids += [c["client_id"] for c in result.doc["clients"]]
        token = result.doc["next"]
        if not token:
            break
    assert sorted(ids) == ["a", "b", "c", "svc"]
    shown = cli("clients", "show", "svc", "--json")
    assert (
        shown.code == 0
        and shown.doc["confidential"] is True
        and shown.doc["grants"] == ["client_credentials"]
    )
    assert "sha256" not in shown.out and hash_client_secret("s3cret-value") not in shown.out
    assert shown.audits[0]["event"] == "OperatorClientShown"


def test_clients_update_checks_like_create_and_bumps_the_version(cli, stack):
    stack.add_client(
        "web", grants=("authorization_code", "refresh_token"), redirect_uris=("https://a.example/cb",)
    )
    before = ClientStore("clients", cache_ttl=0).get("web")
    result = cli(
        "clients", "update", "web", "--scopes", "openid", "read", "--default-scopes", "openid",
        "--redirect-uris", "https://b.example/cb", "--post-logout-redirect-uris", "https://b.example/",
        "--first-party", "--require-par", "--access-token-ttl", "600", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert len(result.plans) == 1 and "update client web" in result.plans[0]
    after = ClientStore("clients", cache_ttl=0).get("web")
    assert after.version == before.version + 1 == result.doc["version"]
    assert after.scopes == ("openid", "read") and after.default_scopes == ("openid",)
    assert after.redirect_uris == ("https://b.example/cb",)
    assert after.post_logout_redirect_uris == ("https://b.example/",)
    assert (after.first_party, after.require_par, after.access_token_ttl) == (True, True, 600)
    assert after.secret_hash == before.secret_hash
    assert set(result.doc["changes"]) >= {"scopes", "redirect_uris", "first_party", "access_token_ttl"}
    assert result.audits[-1]["event"] == "OperatorClientUpdated"
    assert cli("clients", "update", "web", "--no-first-party", "--access-token-ttl", "0").code == 0
    again = ClientStore("clients", cache_ttl=0).get("web")
    assert (again.first_party, again.access_token_ttl, again.version) == (False, None, after.version + 1)


def test_a_session_minted_before_an_update_rereads_the_client(cli, stack, service, issuers):
    """The version moved on: a refresh through a copy cached before re-reads the client and
    narrows to the scopes the client has now."""
    stack.add_user()
    stack.add_client()
    pair = body(service.token(password_request(), issuers))
    assert (
        cli("clients", "update", "demo-spa", "--scopes", "openid", "read", "--default-scopes", "openid").code
        == 0
    )
    refreshed = body(service.token(refresh_request(pair["refresh_token"]), issuers))
    assert "write" not in refreshed["scope"].split()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["clients", "update", "web"], "nothing to change"),
        (["clients", "update", "web", "--scopes", "openid", "read"], "already has these settings"),
        (["clients", "update", "nope", "--scopes", "read"], "no such client"),
        (["clients", "update", "web", "--scopes", "bogus"], "unknown scopes: bogus"),
        (["clients", "update", "web", "--default-scopes", "write"], "default scopes"),
        (["clients", "update", "web", "--redirect-uris", "http://evil.example/cb"], "http"),
        (["clients", "update", "web", "--redirect-uris"], "redirect"),
        (["clients", "update", "web", "--grants", "password"], "confidential"),
        (["clients", "update", "web", "--grants", "client_credentials"], "confidential"),
        (["clients", "update", "web", "--redirect-uris"], "needs at least one redirect URI"),
        (["clients", "update", "web", "--grants", "made_up"], "made_up"),
        (["clients", "update", "web", "--introspect-any"], "confidential"),
        (["clients", "update", "web", "--access-token-ttl", "-5"], "must not be negative"),
        (["clients", "delete", "web"], "not confirmed"),
        (["clients", "delete", "nope", "--yes"], "no such client"),
        (["clients", "rotate-secret", "web"], "public"),
        (["clients", "rotate-secret", "nope"], "no such client"),
        (["clients", "rotate-secret", "svc", "--overlap", "-1"], "must not be negative"),
        (["clients", "rotate-secret", "svc", "--overlap", "9999999"], "at most"),
        (["clients", "list", "--limit", "1001"], "must be 1 to 1000"),
        (["clients", "show", "nope"], "no such client"),
    ],
)
def test_clients_refusals(cli, stack, argv, says):
    stack.add_client(
        "web", grants=("authorization_code", "refresh_token"), scopes=("openid", "read"),
        default_scopes=("openid",), redirect_uris=("https://a.example/cb",),
    )  # fmt: skip
    stack.add_client("svc", secret="svc-secret", grants=("client_credentials",))
    before = {c: ClientStore("clients", cache_ttl=0).get(c) for c in ("web", "svc")}
    refused(cli(*argv), says)
    assert {c: ClientStore("clients", cache_ttl=0).get(c) for c in ("web", "svc")} == before


def test_clients_delete_disables_first_then_deletes(cli, stack, service, issuers):
    stack.add_user()
    stack.add_client()
    pair = body(service.token(password_request(), issuers))
    result = cli("clients", "delete", "demo-spa", "--yes", "--json")
    assert result.code == 0, result.err
    assert "disable it first" in result.plans[0]
    assert ClientStore("clients", cache_ttl=0).get("demo-spa") is None
    facts = RevocationStore("revocations").facts(subject=stack.user_id(), client_id="demo-spa")
    assert facts.client_disabled  # its access tokens are refused through the feed
    service.clients.invalidate()
    with pytest.raises((InvalidGrantError, InvalidClientError)):
        service.token(refresh_request(pair["refresh_token"]), issuers)
    assert result.audits[-1] == {
        **result.audits[-1],
        "event": "OperatorClientDeleted",
        "client_id": "demo-spa",
    }


def test_clients_delete_refuses_a_client_enabled_meanwhile(stack):
    stack.add_client("x")
    assert ClientStore("clients").delete("x") is False  # still enabled: never deleted
    assert ClientStore("clients").get_fresh("x") is not None


# ----------------------------------------------------------------------------- rotation
def test_rotate_secret_prints_it_once_and_the_old_one_lasts_the_overlap(cli, stack):
    stack.add_client("svc", secret="old-secret", grants=("client_credentials",))
    result = cli("clients", "rotate-secret", "svc", "--overlap", "120", "--json")
    assert result.code == 0, result.err
    new = result.doc["client_secret"]
    assert "120 s" in result.plans[0] and new not in result.err
    assert new not in json.dumps(stack.scan("clients"))
    assert result.audits[-1]["event"] == "OperatorClientSecretRotated" and new not in json.dumps(
        result.audits
    )
    client = ClientStore("clients", cache_ttl=0).get("svc")
    until = client.previous_secret_valid_until
    assert client.secret_matches(new, now=until + 10**6)
    assert client.secret_matches("old-secret", now=until - 1)
    assert not client.secret_matches("old-secret", now=until)
    assert "previous_secret_valid_until" in cli("clients", "show", "svc", "--json").doc
    # rotating again inside the overlap: the secret from before the first rotation stops at once
    again = cli("clients", "rotate-secret", "svc", "--overlap", "0", "--json")
    client = ClientStore("clients", cache_ttl=0).get("svc")
    assert not client.secret_matches("old-secret", now=0)
    assert not client.secret_matches(new, now=client.previous_secret_valid_until)
    assert client.secret_matches(again.doc["client_secret"], now=client.previous_secret_valid_until)


def test_client_authentication_accepts_the_old_secret_until_the_overlap_ends_and_not_after():
    """Both edges, on an injected clock, through authenticate_client (memory backend)."""
    backend = MemoryBackend(clock=lambda: 1000.0)
    backend.clients.create(
        Client(client_id="svc", secret_hash=hash_client_secret("old"), grant_types=("client_credentials",))
    )
    current = backend.clients.get("svc")
    assert backend.clients.rotate_secret(current, hash_client_secret("new"), previous_valid_until=2000)
    old = ClientCredentials("svc", "old", "post")
    new = ClientCredentials("svc", "new", "post")
    assert authenticate_client(old, backend.clients, now=1999.999).client_id == "svc"
    with pytest.raises(InvalidClientError):
        authenticate_client(old, backend.clients, now=2000)
    with pytest.raises(InvalidClientError):
        authenticate_client(ClientCredentials("svc", "other", "post"), backend.clients, now=1500)
    for now in (1500, 2000, 10**9):
        assert authenticate_client(new, backend.clients, now=now).client_id == "svc"


def test_the_token_endpoint_follows_its_clock_for_the_overlap(cli, stack, service, issuers, clock):
    from tests.functional.oauth.helpers import form

    stack.add_client("svc", secret="old-secret", grants=("client_credentials",), scopes=("read",))
    assert cli("clients", "rotate-secret", "svc", "--overlap", "60").code == 0
    until = ClientStore("clients", cache_ttl=0).get("svc").previous_secret_valid_until
    service.clients.invalidate()

    def grant(secret: str) -> Any:
        return service.token(
            form({"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}), issuers
        )

    clock.advance(until - 1 - clock())
    assert body(grant("old-secret"))["access_token"]
    clock.advance(1)
    with pytest.raises(InvalidClientError):
        grant("old-secret")


def test_memory_and_dynamodb_page_alike(stack):
    backend = MemoryBackend()
    users = UserStore("users")
    for name in ("a", "b", "c"):
        backend.users.create(User(username=name, password_hash="x"))
        users.create(User(username=name, password_hash="x"))
    for store in (backend.users, users):
        first, after = store.page(2)
        rest, end = store.page(2, after)
        assert len(first) == 2 and after and end is None
        assert sorted(u.username for u in first + rest) == ["a", "b", "c"]


# ----------------------------------------------------------------------------- the local stack
def test_operator_commands_against_a_running_local_stack(local_stack, monkeypatch, capsys):
    endpoint, stack_file = local_stack
    for var in ("USERS_TABLE", "CLIENTS_TABLE", "SESSIONS_TABLE", "REVOCATIONS_TABLE"):
        monkeypatch.delenv(var, raising=False)
    base = ["--stack", str(stack_file)]

    def run(*argv: str, stdin: str = "") -> Run:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = _main([*base, *argv])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    assert run("users", "create", "zoe", "--scopes", "openid", stdin="a-long-enough-pw\n").code == 0
    listed = run("users", "list", "--json")
    assert [u["username"] for u in listed.doc["users"]] == ["zoe"]
    assert run("users", "show", "zoe", "--json").doc["sessions"] == 0
    created = run("clients", "create", "svc", "--confidential", "--grants", "client_credentials", "--json")
    assert created.code == 0
    rotated = run("clients", "rotate-secret", "svc", "--overlap", "30", "--json")
    assert rotated.code == 0 and rotated.doc["client_secret"] != created.doc["client_secret"]
    assert run("clients", "update", "svc", "--scopes", "openid").code == 0
    assert run("clients", "show", "svc", "--json").doc["scopes"] == ["openid"]
    refused(run("clients", "update", "svc", "--grants", "authorization_code"), "redirect")
    assert run("clients", "delete", "svc", "--yes").code == 0
    deleted = run("users", "delete", "zoe", "--yes", "--json")
    assert deleted.code == 0 and "local stack" in deleted.err
    ddb = server_client(endpoint, "dynamodb")
    assert ddb.scan(TableName="users")["Items"] == [] and ddb.scan(TableName="clients")["Items"] == []
    refused(run("users", "show", "zoe"), "no such user")


def test_users_update_sets_the_profile_and_claims_a_verified_email(cli, stack):
    from auth_core.emails import email_key
    from auth_core.stores.accounts import AccountStore

    stack.add_user()
    stack.add_user("bob")
    result = cli(
        "users",
        "update",
        "alice",
        "--email",
        "Alice@Example.COM",
        "--email-verified",
        "--given-name",
        "Alice",
    )
    assert result.code == 0, result.err
    assert result.doc["email"] == "Alice@example.com" and result.doc["email_verified"] is True
    shown = cli("users", "show", "alice", "--json").doc
    assert (shown["email"], shown["email_verified"], shown["given_name"]) == (
        "Alice@example.com",
        True,
        "Alice",
    )
    assert shown["attributes"] == {}
    assert "email (Alice@Example.COM, verified: True)" in result.plans[0]
    claim = AccountStore("sessions", UserStore("users")).owner_of(email_key("alice@example.com"))
    assert claim is not None and claim.username == "alice"
    # another user can have the address unverified, never verified
    refused(
        cli("users", "update", "bob", "--email", "alice@example.com", "--email-verified"), "verified email"
    )
    assert cli("users", "update", "bob", "--email", "alice@example.com").code == 0
    refused(cli("users", "update", "alice", "--attr", "salary=1"), "unknown attribute")  # CUSTOM_ATTRIBUTES
    refused(cli("users", "update", "alice", "--email", "not an address"), "valid email")
    refused(cli("users", "update", "alice"), "nothing to change")
    # unverifying releases the claim: bob may now verify it
    assert cli("users", "update", "alice", "--no-email-verified").code == 0
    assert cli("users", "update", "bob", "--email-verified").code == 0
    claim = AccountStore("sessions", UserStore("users")).owner_of(email_key("alice@example.com"))
    assert claim is not None and claim.username == "bob"
    created = cli(
        "users", "create", "carol", "--email", "carol@example.com", stdin="correct horse battery staple\n"
    )
    assert created.code == 0 and created.doc["email"] == "carol@example.com", created.err
