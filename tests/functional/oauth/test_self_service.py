"""Self-service accounts through the core (moto): sign-up with email verification, forgotten and
reset password, change password, and each refusal.

Mail goes through the real :class:`~auth_core.mail.Mailer` into a recording transport (the
``SendEmail`` requests as SES would get them); the codes are read back from the messages.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from auth_core.accounts.service import AccountService, code_hash
from auth_core.emails import email_key, normalize_email
from auth_core.errors import (
    AlreadyExistsError,
    InvalidGrantError,
    InvalidRequestError,
    SlowDownError,
    UnauthorizedClientError,
)
from auth_core.mail import Mailer
from auth_core.stores.accounts import AccountStore
from auth_core.stores.users import User, UserStore
from tests.functional.oauth.conftest import FAST_HASHER, PASSWORD, FakeClock

NEW_PASSWORD = "a different long passphrase"
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
BASE = "https://auth.example.com"


class Outbox:
    """A ``Mailer`` transport that keeps every ``SendEmail`` request."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> dict[str, str]:
        self.sent.append(dict(request))
        return {"MessageId": f"m{len(self.sent)}"}

    def last(self, to: str) -> dict[str, str]:
        for request in reversed(self.sent):
            if request["Destination"]["ToAddresses"] == [to]:
                simple = request["Content"]["Simple"]
                return {"subject": simple["Subject"]["Data"], "text": simple["Body"]["Text"]["Data"]}
        raise AssertionError(f"no mail to {to}")

    def code(self, to: str) -> str:
        found = re.search(r"Your code: (\d+)", self.last(to)["text"])
        assert found, self.last(to)
        return found.group(1)


def add_web_client(stack: Any) -> None:
    """``web``: a first-party browser app that lets people sign up."""
    stack.add_client(
        "web",
        grants=("authorization_code", "refresh_token"),
        scopes=("openid", "email", "profile"),
        redirect_uris=("https://app.example.com/cb",),
        first_party=True,
        allow_signup=True,
    )


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def accounts(stack, outbox) -> AccountService:
    add_web_client(stack)
    stack.add_client("closed", grants=("authorization_code",), redirect_uris=("https://app.example.com/cb",))
    service = AccountService.from_settings(
        stack.settings(custom_attributes=("department",)),
        mailer=Mailer("no-reply@example.com", transport=outbox),
    )
    service = replace(service, hasher=FAST_HASHER, clock=FakeClock())
    return service


def sign_up(
    accounts: AccountService, email: str = "carol@example.com", ip: str = "198.51.100.7", **kw: Any
) -> None:
    accounts.sign_up(
        client_id=kw.pop("client_id", "web"),
        email=email,
        password=kw.pop("password", PASSWORD),
        profile=kw.pop("profile", {"given_name": "Carol"}),
        source_ip=ip,
        base_url=BASE,
        **kw,
    )


def test_sign_up_then_verify_creates_a_verified_user(accounts, outbox):
    sign_up(accounts, "Carol@Example.COM")
    assert UserStore("users").get("carol@example.com") is None  # nobody until verified
    message = outbox.last("Carol@example.com")
    assert "verify your email" in message["subject"]
    assert f"{BASE}/account/verify?" in message["text"]
    user = accounts.verify(
        password=PASSWORD,
        email="carol@EXAMPLE.com",
        code=outbox.code("Carol@example.com"),
        source_ip="198.51.100.7",
    )
    stored = UserStore("users").get("carol@example.com")
    assert stored is not None and stored.user_id == user.user_id
    assert (stored.email, stored.email_verified, stored.given_name) == ("Carol@example.com", True, "Carol")
    assert stored.enabled and stored.scopes == ("openid", "profile")  # SIGNUP_SCOPES among the supported
    claim = AccountStore("sessions", UserStore("users")).owner_of(email_key("Carol@example.com"))
    assert claim is not None and claim.owner == user.user_id


def test_a_used_code_is_refused(accounts, outbox):
    sign_up(accounts)
    code = outbox.code("carol@example.com")
    accounts.verify(password=PASSWORD, email="carol@example.com", code=code, source_ip="1.2.3.4")
    with pytest.raises(InvalidGrantError) as info:
        accounts.verify(password=PASSWORD, email="carol@example.com", code=code, source_ip="1.2.3.4")
    assert info.value.reason == "code_invalid"


def test_an_expired_code_is_refused(accounts, outbox):
    sign_up(accounts)
    accounts.clock.advance(accounts.code_ttl)  # type: ignore[attr-defined]
    with pytest.raises(InvalidGrantError):
        accounts.verify(
            password=PASSWORD,
            email="carol@example.com",
            code=outbox.code("carol@example.com"),
            source_ip="1.2.3.4",
        )
    assert UserStore("users").get("carol@example.com") is None


def test_wrong_codes_use_up_the_attempts_then_the_right_one_fails_too(accounts, outbox):
    sign_up(accounts)
    right = outbox.code("carol@example.com")
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    for _ in range(accounts.max_attempts):
        with pytest.raises(InvalidGrantError):
            accounts.verify(password=PASSWORD, email="carol@example.com", code=wrong, source_ip="1.2.3.4")
    with pytest.raises(InvalidGrantError):
        accounts.verify(password=PASSWORD, email="carol@example.com", code=right, source_ip="1.2.3.4")
    assert UserStore("users").get("carol@example.com") is None


def test_a_later_sign_up_cannot_have_the_owner_confirm_its_password(accounts, outbox):
    """Pre-account takeover: someone who knows carol's address signs up after her with their own
    password; the code carol receives then belongs to that sign-up, and confirming it needs the
    password it was made with, which carol does not know (and the attempt counts)."""
    sign_up(accounts)  # carol
    sign_up(accounts, password="the attacker's own passphrase", ip="203.0.113.66")
    with pytest.raises(InvalidGrantError) as info:
        accounts.verify(
            password=PASSWORD,
            email="carol@example.com",
            code=outbox.code("carol@example.com"),
            source_ip="1.2.3.4",
        )
    assert info.value.reason == "password_mismatch"
    assert UserStore("users").get("carol@example.com") is None
    sign_up(accounts)  # carol again: her sign-up replaces theirs
    accounts.verify(
        password=PASSWORD,
        email="carol@example.com",
        code=outbox.code("carol@example.com"),
        source_ip="1.2.3.4",
    )
    user = UserStore("users").get("carol@example.com")
    assert user is not None and FAST_HASHER.verify(PASSWORD, user.password_hash) is None


def test_the_code_is_stored_only_as_a_hash(stack, accounts, outbox):
    sign_up(accounts)
    code = outbox.code("carol@example.com")
    items = [i for i in stack.scan("sessions") if i["pk"]["S"].startswith("signup#")]
    assert len(items) == 1
    assert code not in str(items[0])
    assert items[0]["code_hash"]["S"] == code_hash("signup", email_key("carol@example.com"), code)
    assert "carol" not in items[0]["pk"]["S"]


def test_sign_up_is_off_unless_the_client_allows_it(accounts, outbox):
    for client in ("closed", "nobody", ""):
        with pytest.raises(UnauthorizedClientError):
            sign_up(accounts, client_id=client)
    assert outbox.sent == []


def test_sign_up_refuses_weak_passwords_bad_addresses_and_unknown_attributes(accounts, outbox):
    with pytest.raises(InvalidRequestError):
        sign_up(accounts, password="password")
    for bad in ("not-an-address", "a@b", "two@@example.com", "x\n@example.com"):
        with pytest.raises(InvalidRequestError):
            sign_up(accounts, bad)
    with pytest.raises(InvalidRequestError):
        sign_up(accounts, profile={"attributes": {"salary": "1"}})
    with pytest.raises(InvalidRequestError):
        sign_up(accounts, profile={"name": "x" * 500})
    assert outbox.sent == []
    sign_up(accounts, profile={"attributes": {"department": "R&D"}})  # a declared one is fine
    accounts.verify(
        password=PASSWORD,
        email="carol@example.com",
        code=outbox.code("carol@example.com"),
        source_ip="1.2.3.4",
    )
    stored = UserStore("users").get("carol@example.com")
    assert stored is not None and stored.attributes == (("department", "R&D"),)


def test_sign_up_for_an_address_in_use_answers_the_same_and_warns_the_owner(stack, accounts, outbox):
    sign_up(accounts)
    accounts.verify(
        password=PASSWORD,
        email="carol@example.com",
        code=outbox.code("carol@example.com"),
        source_ip="1.2.3.4",
    )
    outbox.sent.clear()
    assert sign_up(accounts, "CAROL@example.com") is None  # same answer as a fresh address
    assert sign_up(accounts, "dave@example.com") is None
    assert len(outbox.sent) == 2  # one mail each: a notice for carol, a code for dave
    notice = outbox.last("CAROL@example.com")
    assert "sign-up attempt" in notice["subject"] and "Your code" not in notice["text"]
    assert "Your code" in outbox.last("dave@example.com")["text"]
    pending = [i["pk"]["S"] for i in stack.scan("sessions") if i["pk"]["S"].startswith("signup#")]
    assert pending == [f"signup#{email_key('dave@example.com')}"]


def test_sign_in_is_refused_until_the_address_is_verified(stack, accounts, outbox, issuers):
    from auth_core.oauth.grants import TokenService
    from tests.functional.oauth.helpers import body, password_request

    stack.add_client(scopes=("openid", "profile"))
    service = TokenService.from_settings(stack.settings(), keys=stack.keyset, hasher=FAST_HASHER)
    sign_up(accounts)
    request = password_request(username="carol@example.com", password=PASSWORD)
    with pytest.raises(InvalidGrantError):
        service.token(request, issuers)
    accounts.verify(
        password=PASSWORD,
        email="carol@example.com",
        code=outbox.code("carol@example.com"),
        source_ip="1.2.3.4",
    )
    tokens = body(service.token(request, issuers))
    assert tokens["access_token"] and set(tokens["scope"].split()) == {"openid", "profile"}


def test_sign_up_is_throttled_per_address_and_per_ip(accounts, outbox):
    for _ in range(3):
        sign_up(accounts, ip="203.0.113.1")
    with pytest.raises(SlowDownError):
        sign_up(accounts, ip="203.0.113.1")
    sign_up(accounts, ip="203.0.113.2")  # the same address from elsewhere: its own counter
    for n in range(27):
        sign_up(accounts, f"u{n}@example.com", ip="203.0.113.9")
    # 3 + 1 + 1 above from other IPs; this IP has made 27: three more, then refused
    for n in range(3):
        sign_up(accounts, f"v{n}@example.com", ip="203.0.113.9")
    with pytest.raises(SlowDownError):
        sign_up(accounts, "w@example.com", ip="203.0.113.9")


def test_two_users_can_never_hold_one_verified_address(stack, accounts):
    """Deterministic interleaving: both writers read the address as free, then both commit."""
    users = UserStore("users")
    store = AccountStore("sessions", users)
    a = users.create(User("ann", FAST_HASHER.hash(PASSWORD)))
    b = users.create(User("bob", FAST_HASHER.hash(PASSWORD)))
    key = email_key(normalize_email("shared@example.com"))
    assert store.owner_of(key) is None  # ann's read
    assert store.owner_of(key) is None  # bob's read
    store.set_email(a, "shared@example.com", key, verified=True, old_key=None)
    with pytest.raises(AlreadyExistsError) as info:
        store.set_email(
            b,
            "Shared@Example.com",
            email_key(normalize_email("Shared@Example.com")),
            verified=True,
            old_key=None,
        )
    assert info.value.reason == "email_taken"
    assert (users.get("bob") or b).email == ""
    claim = store.owner_of(key)
    assert claim is not None and claim.owner == a.user_id
    # ... and a sign-up completing for that address after the claim creates nobody
    sign_up(accounts, "shared@example.com")  # a notice, not a code: the address is taken
    assert not [i for i in stack.scan("sessions") if i["pk"]["S"].startswith("signup#")]


# ---------------------------------------------------------------------- forgotten password
@pytest.fixture
def alice(stack, accounts, clock):
    """Alice with the verified address alice@example.com, and the password-grant client."""
    user = stack.add_user()
    stack.add_client()
    store = AccountStore("sessions", UserStore("users"))
    store.set_email(user, "alice@example.com", email_key("alice@example.com"), verified=True, old_key=None)
    accounts.clock = clock  # type: ignore[misc]
    accounts.revoker._clock = clock
    accounts.login_throttle._clock = clock  # the password grant's throttle runs on this clock too
    return user


def test_reset_ends_every_session_and_old_tokens_are_refused(alice, accounts, outbox, service, issuers):
    from tests.functional.oauth.test_ending_access import login, refresh, refused

    stolen = login(service, issuers)
    accounts.forgot(email="ALICE@example.com", source_ip="1.2.3.4", base_url=BASE)
    assert "reset your password" in outbox.last("alice@example.com")["subject"]
    code = outbox.code("alice@example.com")
    ended = accounts.reset(email="alice@example.com", code=code, password=NEW_PASSWORD, source_ip="1.2.3.4")
    assert ended == 1
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, stolen["refresh_token"])
    assert refused(service, stolen["access_token"]) in {"revoked", "revoked_session", "revoked_subject"}
    assert "password was changed" in outbox.last("alice@example.com")["subject"]
    user = UserStore("users").get("alice")
    assert user is not None and FAST_HASHER.verify(NEW_PASSWORD, user.password_hash) is None
    with pytest.raises(InvalidGrantError):  # the code worked once
        accounts.reset(email="alice@example.com", code=code, password=PASSWORD + "!", source_ip="1.2.3.4")


def test_a_reset_code_dies_with_a_session_change_after_it_was_issued(alice, accounts, outbox):
    """Conditional on what the code was issued against: a logout-everywhere (or another reset)
    after the mail voids the code; the password stays."""
    accounts.forgot(email="alice@example.com", source_ip="1.2.3.4", base_url=BASE)
    code = outbox.code("alice@example.com")
    accounts.revoker.logout_all("alice")
    with pytest.raises(InvalidGrantError):
        accounts.reset(email="alice@example.com", code=code, password=NEW_PASSWORD, source_ip="1.2.3.4")
    user = UserStore("users").get("alice")
    assert user is not None and FAST_HASHER.verify(PASSWORD, user.password_hash) is None


def test_reset_codes_expire_and_wrong_ones_use_up_the_attempts(alice, accounts, outbox, clock):
    accounts.forgot(email="alice@example.com", source_ip="1.2.3.4", base_url=BASE)
    right = outbox.code("alice@example.com")
    for _ in range(accounts.max_attempts):
        with pytest.raises(InvalidGrantError):
            accounts.reset(
                email="alice@example.com",
                code="00000000" if right != "00000000" else "1",
                password=NEW_PASSWORD,
                source_ip="1.2.3.4",
            )
    with pytest.raises(InvalidGrantError):
        accounts.reset(email="alice@example.com", code=right, password=NEW_PASSWORD, source_ip="1.2.3.4")
    accounts.forgot(email="alice@example.com", source_ip="1.2.3.5", base_url=BASE)
    clock.advance(accounts.code_ttl)
    with pytest.raises(InvalidGrantError):
        accounts.reset(
            email="alice@example.com",
            code=outbox.code("alice@example.com"),
            password=NEW_PASSWORD,
            source_ip="1.2.3.4",
        )
    user = UserStore("users").get("alice")
    assert user is not None and FAST_HASHER.verify(PASSWORD, user.password_hash) is None


def test_forgot_answers_the_same_for_unknown_and_unverified_addresses(stack, alice, accounts, outbox):
    """No enumeration, checked by what each path does (as the token endpoint's login-timing
    test does; no stopwatch): one answer, one mail, the same DynamoDB calls in the same order;
    a verified address's path adds only the write of its code, after everything else. Only the
    mail's words differ, and they go to the address's owner."""
    from auth_core import aws

    stack.add_user("bob")  # an account whose address was never verified
    AccountStore("sessions", UserStore("users")).set_email(
        UserStore("users").get("bob"),
        "bob@example.com",
        email_key("bob@example.com"),
        verified=False,
        old_key=None,
    )
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    seen = {}
    for address in ("alice@example.com", "bob@example.com", "nobody@example.com"):
        outbox.sent.clear()
        calls.clear()
        answer = accounts.forgot(email=address, source_ip=f"198.51.100.{len(seen)}", base_url=BASE)
        seen[address] = (answer, len(outbox.sent), list(calls))
    assert seen["bob@example.com"] == seen["nobody@example.com"]
    answer, mails, alice_calls = seen["alice@example.com"]
    assert (answer, mails) == (None, 1)
    assert alice_calls == seen["nobody@example.com"][2] + ["PutItem"]
    assert "Your code" not in outbox.last("nobody@example.com")["text"]


def test_sign_up_does_the_same_work_whether_the_address_is_taken(stack, accounts, outbox):
    """Sign-up for an address in use: the same answer, one Argon2id hash and one mail, the same
    reads in the same order; only the fresh address's pending sign-up is written after them."""
    from auth_core import aws
    from tests.functional.oauth.test_timing import CountingHasher

    hasher = CountingHasher()
    counted = replace(accounts, hasher=hasher)
    sign_up(counted, "taken@example.com")
    counted.verify(
        password=PASSWORD,
        email="taken@example.com",
        code=outbox.code("taken@example.com"),
        source_ip="1.2.3.4",
    )
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    hashed: list[int] = []
    original = hasher.hash

    def counting_hash(password: str) -> str:
        hashed.append(1)
        return original(password)

    counted = replace(counted, hasher=hasher)
    hasher.hash = counting_hash  # type: ignore[method-assign]
    seen = {}
    for n, address in enumerate(("taken@example.com", "fresh@example.com")):
        outbox.sent.clear()
        calls.clear()
        hashed.clear()
        answer = sign_up(counted, address, ip=f"192.0.2.{n}")
        seen[address] = (answer, len(outbox.sent), len(hashed), list(calls))
    assert seen["taken@example.com"][:3] == seen["fresh@example.com"][:3] == (None, 1, 1)
    assert seen["fresh@example.com"][3] == seen["taken@example.com"][3] + ["PutItem"]


def test_forgot_is_throttled_per_address(alice, accounts):
    for _ in range(3):
        accounts.forgot(email="alice@example.com", source_ip="1.2.3.4", base_url=BASE)
    with pytest.raises(SlowDownError):
        accounts.forgot(email="alice@example.com", source_ip="1.2.3.4", base_url=BASE)


def test_change_password_needs_the_current_one_and_ends_every_session(
    alice, accounts, outbox, service, issuers
):
    from tests.functional.oauth.test_ending_access import login, refresh

    stolen = login(service, issuers)
    with pytest.raises(InvalidGrantError):
        accounts.change_password(
            subject=alice.user_id, client_id="web", current="wrong one", new=NEW_PASSWORD, source_ip="1.2.3.4"
        )
    with pytest.raises(InvalidRequestError):
        accounts.change_password(
            subject=alice.user_id, client_id="web", current=PASSWORD, new="password", source_ip="1.2.3.4"
        )
    ended = accounts.change_password(
        subject=alice.user_id, client_id="web", current=PASSWORD, new=NEW_PASSWORD, source_ip="1.2.3.4"
    )
    assert ended == 1
    with pytest.raises(InvalidGrantError):
        refresh(service, issuers, stolen["refresh_token"])
    assert "password was changed" in outbox.last("alice@example.com")["subject"]


# ---------------------------------------------------------------------- through the handler
@pytest.fixture
def account_app(stack, outbox):
    import functions.account.app as account

    add_web_client(stack)

    def build(settings):
        built = AccountService.from_settings(
            settings, mailer=Mailer("no-reply@example.com", transport=outbox)
        )
        return replace(built, hasher=FAST_HASHER)

    account.service_factory = build
    for cached in (account.settings, account.service, account.endpoint, account.bearer):
        cached.cache_clear()
    yield account
    account.service_factory = None
    for cached in (account.settings, account.service, account.endpoint, account.bearer):
        cached.cache_clear()


def api(account, lambda_context, action, body, headers=None):
    import json

    from tests.functional.oauth.helpers import sample_event

    event = sample_event("account_verify_refused.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/account/api/{action}"
    event["routeKey"] = event["requestContext"]["routeKey"] = f"POST /account/api/{action}"
    event["body"] = json.dumps(body)
    event["headers"].update(headers or {})
    response = account.lambda_handler(event, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_the_sample_event_is_a_refused_code(account_app, lambda_context):
    import json

    from tests.functional.oauth.helpers import sample_event

    response = account_app.lambda_handler(sample_event("account_verify_refused.json"), lambda_context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "invalid_grant"
    assert response["headers"]["Cache-Control"] == "no-store"


def test_the_json_api_sign_up_verify_forgot_reset(account_app, lambda_context, outbox):
    signup = {"client_id": "web", "email": "erin@example.com", "password": PASSWORD, "given_name": "Erin"}
    assert api(account_app, lambda_context, "signup", signup) == (202, {"status": "check_your_email"})
    again = api(account_app, lambda_context, "signup", {**signup, "client_id": "nope"})
    assert again[0] == 400 and again[1]["error"] == "unauthorized_client"
    status, body = api(
        account_app,
        lambda_context,
        "verify",
        {"email": "erin@example.com", "code": outbox.code("erin@example.com"), "password": PASSWORD},
    )
    assert (status, body["status"]) == (200, "verified")
    for address in ("erin@example.com", "nobody@example.com"):  # one answer, known or not
        assert api(account_app, lambda_context, "forgot", {"email": address}) == (
            202,
            {"status": "check_your_email"},
        )
    reset = {"email": "erin@example.com", "code": outbox.code("erin@example.com"), "password": NEW_PASSWORD}
    assert api(account_app, lambda_context, "signup", signup) == (202, {"status": "check_your_email"})
    assert api(account_app, lambda_context, "reset", reset) == (200, {"status": "password_reset"})
    status, body = api(account_app, lambda_context, "reset", reset)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_change_password_needs_a_valid_bearer_token(account_app, lambda_context):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api(account_app, lambda_context, "password", body)[0] == 401
    assert (
        api(account_app, lambda_context, "password", body, {"authorization": "Bearer not.a.token"})[0] == 401
    )


# ---------------------------------------------------------------------- the profile in tokens
def _profiled_alice(stack: Any) -> User:
    user = stack.add_user(scopes=("openid", "profile", "email"))
    users = UserStore("users")
    users.set_profile(
        "alice", replace(user, name="Alice Liddell", given_name="Alice", attributes=(("department", "R&D"),))
    )
    AccountStore("sessions", users).set_email(
        user, "alice@example.com", email_key("alice@example.com"), verified=True, old_key=None
    )
    return user


def test_userinfo_answers_the_profile_by_scope(stack, lambda_context, monkeypatch):
    import json

    import functions.issue_token.app as issue
    import functions.userinfo.app as userinfo
    from tests.functional.oauth.helpers import http_event

    monkeypatch.setenv("SCOPES_SUPPORTED", "openid profile email")
    user = _profiled_alice(stack)
    stack.add_client("web-app", secret="s" * 43, grants=("password",), scopes=("openid", "profile", "email"))
    for module in (issue, userinfo):
        module.settings.cache_clear()
        module.service.cache_clear()
    try:
        answers = {}
        for scope in ("openid", "openid email", "openid profile"):
            params = {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": scope}
            issued = issue.lambda_handler(
                http_event("/token", params, basic=("web-app", "s" * 43)), lambda_context
            )
            token = json.loads(issued["body"])["access_token"]
            event = http_event(
                "/userinfo", method="GET", content_type=None, headers={"authorization": f"Bearer {token}"}
            )
            answers[scope] = json.loads(userinfo.lambda_handler(event, lambda_context)["body"])
    finally:
        for module in (issue, userinfo):
            module.settings.cache_clear()
            module.service.cache_clear()
    assert answers["openid"] == {"sub": user.user_id}
    assert answers["openid email"] == {
        "sub": user.user_id,
        "email": "alice@example.com",
        "email_verified": True,
    }
    assert answers["openid profile"] == {
        "sub": user.user_id,
        "preferred_username": "alice",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "department": "R&D",
    }


def test_the_id_token_carries_the_profile_by_scope(stack, clock, issuers, monkeypatch):
    import jwt

    from tests.functional.oauth.conftest import Stack

    supported = ("openid", "profile", "email")
    with_email = {"scopes_supported": supported}
    monkeypatch.setattr(stack, "settings", lambda **o: Stack.settings(stack, **{**with_email, **o}))

    from auth_core.oauth.grants import TokenService
    from tests.functional.oauth.helpers import PUBLIC_CLIENT, PUBLIC_CLIENT_SETTINGS, code_flow

    _profiled_alice(stack)
    stack.add_client(PUBLIC_CLIENT, scopes=("openid", "email"), **PUBLIC_CLIENT_SETTINGS)
    service = TokenService.from_settings(
        stack.settings(scopes_supported=("openid", "profile", "email")),
        keys=stack.keyset,
        hasher=FAST_HASHER,
        clock=clock,
    )
    tokens = code_flow(stack, service, issuers, clock)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert (claims["email"], claims["email_verified"]) == ("alice@example.com", True)
    assert "name" not in claims and "given_name" not in claims  # no profile scope


def test_set_profile_replaces_names_and_leaves_the_verified_email_to_the_claim(stack):
    user = stack.add_user()
    users = UserStore("users")
    assert users.set_profile("alice", replace(user, family_name="Liddell", attributes=(("a", "1"),)))
    stored = users.get("alice")
    assert stored is not None and (stored.family_name, stored.attributes) == ("Liddell", (("a", "1"),))
    assert users.set_profile("alice", user)  # nothing set: the fields are removed
    stored = users.get("alice")
    assert stored is not None and (stored.family_name, stored.attributes, stored.email) == ("", (), "")
    assert not users.set_profile("nobody", user)
