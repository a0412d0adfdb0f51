"""``authctl users delete`` releases the user's claim on its verified address in the same
transaction as the delete, so the address can be used again (by sign-up or an operator)."""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.emails import email_key
from auth_core.errors import AlreadyExistsError
from auth_core.stores.accounts import AccountStore
from auth_core.stores.users import UserStore
from tests.functional.authctl.test_operator_commands import cli  # noqa: F401 - the fixture

KEY = email_key("alice@example.com")


def _accounts() -> AccountStore:
    return AccountStore("sessions", UserStore("users"))


def _verified_alice(stack: Any, address: str = "alice@example.com") -> Any:
    user = stack.add_user()
    _accounts().set_email(user, address, email_key(address), verified=True, old_key=None)
    return user


def test_users_delete_frees_the_verified_address(cli, stack):  # noqa: F811
    _verified_alice(stack)
    result = cli("users", "delete", "alice", "--yes", "--json")
    assert result.code == 0, result.err
    assert "release its verified address alice@example.com" in result.plans[0]
    assert UserStore("users").get("alice") is None
    assert _accounts().owner_of(KEY) is None
    # the address is free: another user may now hold it verified
    bob = stack.add_user("bob")
    _accounts().set_email(bob, "Alice@example.com", KEY, verified=True, old_key=None)
    claim = _accounts().owner_of(KEY)
    assert claim is not None and claim.username == "bob"


def test_users_delete_of_a_user_without_a_verified_address_touches_no_claim(cli, stack):  # noqa: F811
    _verified_alice(stack)
    bob = stack.add_user("bob")
    _accounts().set_email(bob, "alice@example.com", KEY, verified=False, old_key=None)
    assert cli("users", "delete", "bob", "--yes").code == 0
    assert UserStore("users").get("bob") is None
    claim = _accounts().owner_of(KEY)
    assert claim is not None and claim.username == "alice"  # alice's claim is not bob's to free


def test_a_change_of_address_between_the_read_and_the_delete_deletes_nothing(stack, monkeypatch):
    """Deterministic interleaving: the user's address moves (its claim with it) after the delete
    read the user and its claim, before the transaction. The stale release would leave the new
    claim held by a deleted user: the transaction fails instead, and a retry frees the new one."""
    user = _verified_alice(stack)
    users, accounts = UserStore("users"), _accounts()
    users.end_sessions("alice", 1, disable=True)
    read_claim = AccountStore.owner_of
    moved = False

    def owner_of_then_move(self: AccountStore, key: str) -> Any:
        nonlocal moved
        found = read_claim(self, key)
        if not moved:
            moved = True
            current = users.get("alice")
            other = "alice@example.org"
            accounts.set_email(current, other, email_key(other), verified=True, old_key=KEY)
        return found

    monkeypatch.setattr(AccountStore, "owner_of", owner_of_then_move)
    assert accounts.delete_user("alice", user_id=user.user_id) is False
    assert users.get("alice") is not None  # nothing deleted
    assert read_claim(accounts, KEY) is None  # released by the change of address
    new_claim = read_claim(accounts, email_key("alice@example.org"))
    assert new_claim is not None and new_claim.owner == user.user_id
    assert accounts.delete_user("alice", user_id=user.user_id) is True  # the retry
    assert users.get("alice") is None
    assert read_claim(accounts, email_key("alice@example.org")) is None


def test_a_claim_taken_after_the_read_is_not_released_by_the_delete(stack, monkeypatch):
    """An address verified for the user after the delete read it (unverified then): the
    condition on the user's address fails the delete, so no claim is left to a deleted user."""
    user = stack.add_user()
    users, accounts = UserStore("users"), _accounts()
    accounts.set_email(user, "alice@example.com", KEY, verified=False, old_key=None)
    users.end_sessions("alice", 1, disable=True)
    read_user = UserStore.get
    calls = 0

    def get_then_verify(self: UserStore, username: str) -> Any:
        nonlocal calls
        found = read_user(self, username)
        calls += 1
        if calls == 1:
            accounts.set_email(found, "alice@example.com", KEY, verified=True, old_key=None)
        return found

    monkeypatch.setattr(UserStore, "get", get_then_verify)
    assert accounts.delete_user("alice", user_id=user.user_id) is False
    monkeypatch.setattr(UserStore, "get", read_user)
    assert users.get("alice") is not None
    assert accounts.delete_user("alice", user_id=user.user_id) is True
    assert accounts.owner_of(KEY) is None


def test_the_delete_is_refused_for_another_user_of_the_name(stack):
    user = _verified_alice(stack)
    UserStore("users").end_sessions("alice", 1, disable=True)
    assert _accounts().delete_user("alice", user_id="u_someone-else") is False
    assert _accounts().delete_user("nobody", user_id=user.user_id) is False
    bob = stack.add_user("bob")
    with pytest.raises(AlreadyExistsError):  # the claim still holds
        _accounts().set_email(bob, "alice@example.com", KEY, verified=True, old_key=None)
