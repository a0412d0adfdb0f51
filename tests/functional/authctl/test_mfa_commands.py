"""``authctl users mfa reset|policy``, ``users show``'s MFA state and ``clients create/update
--mfa``: plans first, audited after, one clear line and exit 2 for bad input, never a secret."""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.errors import InvalidGrantError
from auth_core.mfa import recovery, totp
from auth_core.stores.clients import ClientStore
from auth_core.stores.mfa import MfaStore
from tests.functional.authctl.test_operator_commands import cli, refused
from tests.functional.oauth.helpers import body, password_request, refresh_request

__all__ = ["cli"]


def _enrol(username: str = "alice") -> str:
    store = MfaStore("users")
    user_id = store.ddb.get_item(TableName="users", Key={"username": {"S": username}})["Item"]["user_id"]["S"]
    secret = totp.new_secret()
    hashes = [recovery.hash_code(user_id, c) for c in recovery.new_codes()]
    store.ddb.transact_write_items(
        TransactItems=[store.enrol(username, secret, 0, hashes, sessions_version=0).payload]
    )
    return secret


def test_users_show_says_the_mfa_state_and_never_the_secret(cli: Any, stack: Any) -> None:
    stack.add_user()
    result = cli("users", "show", "alice", "--json")
    assert result.doc["mfa"] == {"policy": "optional", "enrolled": False, "recovery_codes_left": 0}
    secret = _enrol()
    result = cli("users", "show", "alice", "--json")
    assert result.doc["mfa"] == {"policy": "optional", "enrolled": True, "recovery_codes_left": 10}
    assert secret not in result.out and secret not in result.err


def test_users_mfa_reset_removes_the_factor_and_ends_sessions(
    cli: Any, stack: Any, service: Any, issuers: Any
) -> None:
    stack.add_user()
    stack.add_client()
    _enrol()
    pair = body(service.token(password_request(), issuers))
    refused(cli("users", "mfa", "reset", "alice"), "not confirmed")
    assert MfaStore("users").get("alice").enrolled
    result = cli("users", "mfa", "reset", "alice", "--yes", "--json")
    assert result.code == 0, result.err
    assert (
        result.plans
        and "10 recovery code(s)" in result.plans[0]
        and "end all its sessions" in result.plans[0]
    )
    assert result.doc["families_revoked"] == 1
    assert result.audits[-1]["event"] == "OperatorUserMfaReset" and result.audits[-1]["username"] == "alice"
    state = MfaStore("users").get("alice")
    assert not state.enrolled and state.recovery_left == 0
    with pytest.raises(InvalidGrantError):
        service.token(refresh_request(pair["refresh_token"]), issuers)


def test_users_mfa_policy_sets_the_users_level(cli: Any, stack: Any) -> None:
    stack.add_user()
    result = cli("users", "mfa", "policy", "alice", "required", "--json")
    assert result.code == 0, result.err
    assert result.audits[-1]["event"] == "OperatorUserMfaPolicySet"
    assert MfaStore("users").get("alice").policy == "required"
    refused(cli("users", "mfa", "policy", "alice", "sometimes"), "give one of off, optional, required")
    refused(cli("users", "mfa", "reset", "nobody", "--yes"), "no such user")


def test_clients_create_and_update_take_mfa(cli: Any, stack: Any) -> None:
    result = cli(
        "clients", "create", "shop", "--redirect-uri", "https://shop.example.com/cb", "--scopes", "openid",
        "--mfa", "required", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert ClientStore("clients", cache_ttl=0).get_fresh("shop").mfa == "required"
    result = cli("clients", "update", "shop", "--mfa", "off", "--json")
    assert result.code == 0, result.err
    assert result.doc["changes"]["mfa"] == {"from": "required", "to": "off"}
    assert ClientStore("clients", cache_ttl=0).get_fresh("shop").mfa == "off"
    assert cli("clients", "show", "shop", "--json").doc["mfa"] == "off"
    assert cli("clients", "update", "shop", "--mfa", "always").code == 2
