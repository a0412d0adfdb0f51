"""``authctl users|clients|sessions``: operator commands for accounts, OAuth clients and sessions.

Passwords are never taken from argv (shell history, ``ps``): they are read from stdin when it is
not a terminal (``printf '%s\\n' "$PW" | authctl users create alice``), else prompted for twice.
A confidential client's secret is generated here and printed exactly once; only its hash is stored.

Table names come from ``--users-table`` and friends, else the environment (``USERS_TABLE``...),
else ``authctl --stack .local/stack.json`` (which also points boto3 at the local moto endpoint).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from auth_core.errors import ConfigurationError, InvalidRequestError
from authctl.stack import load_stack

TABLES = ("users_table", "clients_table", "sessions_table", "revocations_table")
MIN_PASSWORD = 8
DEFAULT_SCOPES = ["openid", "profile", "read", "write"]


# ----------------------------------------------------------------------------- wiring
def _table(args: argparse.Namespace, name: str) -> str:
    """``--<name>`` flag, else the ``<NAME>`` environment variable, else the stack file."""
    value = getattr(args, name, None) or os.environ.get(name.upper()) or load_stack(args).get(name)
    if not value:
        flag = "--" + name.replace("_", "-")
        raise ConfigurationError(f"{flag} (or {name.upper()}, or --stack) is required")
    return str(value)


def _revoker(args: argparse.Namespace) -> Any:
    from auth_core import aws  # noqa: PLC0415
    from auth_core.oauth.revocation import SessionRevoker  # noqa: PLC0415
    from auth_core.settings import Settings  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from authctl.clock import aws_clock  # noqa: PLC0415

    revocations = _table(args, "revocations_table")
    clock = aws_clock(aws.client("dynamodb"), revocations)  # cut-offs on AWS's time, not the laptop's
    return SessionRevoker(
        sessions=SessionStore(_table(args, "sessions_table")),
        revocations=RevocationStore(revocations, clock=clock),
        users=UserStore(_table(args, "users_table"), clock=clock),
        max_token_lifetime=Settings.from_env().max_access_token_lifetime,
        clock=clock,
    )


def _users(args: argparse.Namespace) -> Any:
    from auth_core.stores.users import UserStore  # noqa: PLC0415

    return UserStore(_table(args, "users_table"))


def _clients(args: argparse.Namespace) -> Any:
    from auth_core.stores.clients import ClientStore  # noqa: PLC0415

    return ClientStore(_table(args, "clients_table"), cache_ttl=0)


def _read_password(prompt: str = "Password") -> str:
    """From stdin when piped, else two matching prompts. Never from argv."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != password:
            raise InvalidRequestError("passwords do not match")
    if len(password) < MIN_PASSWORD:
        raise InvalidRequestError(f"password must be at least {MIN_PASSWORD} characters")
    return password


def _out(doc: dict[str, Any]) -> int:
    print(json.dumps(doc, indent=2, sort_keys=True))
    return 0


# ----------------------------------------------------------------------------- users
def cmd_users_create(args: argparse.Namespace) -> int:
    from auth_core.passwords import PasswordHasher  # noqa: PLC0415
    from auth_core.stores.users import User  # noqa: PLC0415

    users = _users(args)
    password = _read_password()
    users.create(
        User(
            username=args.username,
            password_hash=PasswordHasher().hash(password),
            roles=tuple(args.roles),
            scopes=tuple(args.scopes),
        )
    )
    return _out({"created": args.username, "scopes": args.scopes, "roles": args.roles})


def cmd_users_enable(args: argparse.Namespace) -> int:
    if not _users(args).enable(args.username):
        raise InvalidRequestError("no such user")
    return _out({"enabled": args.username})


def cmd_users_disable(args: argparse.Namespace) -> int:
    revoked = _revoker(args).disable_user(args.username)
    return _out({"disabled": args.username, "families_revoked": revoked})


def cmd_users_set_password(args: argparse.Namespace) -> int:
    from auth_core.passwords import PasswordHasher  # noqa: PLC0415

    password = _read_password("New password")
    new_hash = PasswordHasher().hash(password)
    if args.keep_sessions:
        if not _users(args).replace_password_hash(args.username, new_hash):
            raise InvalidRequestError("no such user")
        revoked = 0
    else:
        # one write: the new hash and the end of every session (no login in flight survives it)
        revoked = _revoker(args).set_password(args.username, new_hash)
    return _out({"password_set": args.username, "families_revoked": revoked})


def cmd_users_update(args: argparse.Namespace) -> int:
    users = _users(args)
    user = users.get(args.username)
    if user is None:
        raise InvalidRequestError("no such user")
    scopes = user.scopes if args.scopes is None else tuple(args.scopes)
    roles = user.roles if args.roles is None else tuple(args.roles)
    if not users.set_privileges(args.username, scopes=scopes, roles=roles):
        raise InvalidRequestError("no such user")
    return _out(
        {
            "updated": args.username,
            "scopes": list(scopes),
            "roles": list(roles),
            "note": "sessions get the new roles, and lose removed scopes, at their next refresh",
        }
    )


def cmd_users_logout_all(args: argparse.Namespace) -> int:
    return _out({"logged_out": args.username, "families_revoked": _revoker(args).logout_all(args.username)})


# ----------------------------------------------------------------------------- clients
def cmd_clients_create(args: argparse.Namespace) -> int:
    from auth_core.stores.clients import GRANT_TYPES, Client, hash_client_secret  # noqa: PLC0415

    unknown = set(args.grants) - set(GRANT_TYPES)
    if unknown:
        raise InvalidRequestError(f"unknown grant types: {', '.join(sorted(unknown))}")
    if "client_credentials" in args.grants and not args.confidential:
        raise InvalidRequestError("client_credentials needs --confidential")
    if args.introspect_any and not args.confidential:
        raise InvalidRequestError("--introspect-any needs --confidential")
    secret = secrets.token_urlsafe(32) if args.confidential else None
    _clients(args).create(
        Client(
            client_id=args.client_id,
            secret_hash=hash_client_secret(secret) if secret else None,
            grant_types=tuple(args.grants),
            scopes=tuple(args.scopes),
            access_token_ttl=args.access_token_ttl,
            refresh_max_age=args.refresh_max_age,
            refresh_idle_timeout=args.refresh_idle_timeout,
            introspect_any=args.introspect_any,
        )
    )
    doc: dict[str, Any] = {"client_id": args.client_id, "grants": args.grants, "scopes": args.scopes}
    if args.introspect_any:
        doc["introspect_any"] = True
    if secret:
        doc["client_secret"] = secret
        doc["note"] = "shown once; only its hash is stored"
    return _out(doc)


def _client_enabled(enabled: bool) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from auth_core import aws  # noqa: PLC0415
        from auth_core.oauth.revocation import set_client_enabled  # noqa: PLC0415
        from auth_core.settings import Settings  # noqa: PLC0415
        from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
        from authctl.clock import aws_clock  # noqa: PLC0415

        table = _table(args, "revocations_table")
        clock = aws_clock(aws.client("dynamodb"), table)
        set_client_enabled(
            _clients(args),
            RevocationStore(table, clock=clock),
            args.client_id,
            enabled,
            max_token_lifetime=Settings.from_env().max_access_token_lifetime,
            clock=clock,
        )
        return _out({("enabled" if enabled else "disabled"): args.client_id})

    return run


# ----------------------------------------------------------------------------- sessions
def cmd_sessions_list(args: argparse.Namespace) -> int:
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415

    now = int(time.time())
    families = SessionStore(_table(args, "sessions_table")).families_of(args.username)
    rows = [
        {
            "family_id": f.family_id,
            "client_id": f.client_id,
            "scope": " ".join(f.scope),
            "status": f.status if f.expires_at > now else "expired",
            "created_at": f.created_at,
            "last_used_at": f.last_used_at,
            "expires_at": f.expires_at,
            "rotations": max(0, f.generation - 1),
            **({"revoked_reason": f.revoked_reason} if f.revoked_reason else {}),
        }
        for f in sorted(families, key=lambda f: f.created_at)
    ]
    return _out({"username": args.username, "sessions": rows})


def cmd_sessions_revoke(args: argparse.Namespace) -> int:
    revoked = _revoker(args).revoke_family(args.family_id, reason="operator")
    return _out({"family_id": args.family_id, "revoked": revoked})


# ----------------------------------------------------------------------------- parser
def _with_tables(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=f"default: ${name.upper()}")
    return parser


def register(subparsers: Any) -> None:
    """Add the ``users``, ``clients`` and ``sessions`` command groups to ``authctl``."""
    users = subparsers.add_parser("users", help="user accounts").add_subparsers(dest="command", required=True)
    p = _with_tables(
        users.add_parser("create", help="create a user (password from stdin or prompt)"), *TABLES
    )
    p.add_argument("username")
    p.add_argument("--scopes", nargs="*", default=DEFAULT_SCOPES)
    p.add_argument("--roles", nargs="*", default=["user"])
    p.set_defaults(func=cmd_users_create)
    for name, func, help_ in (
        ("enable", cmd_users_enable, "enable a user"),
        ("disable", cmd_users_disable, "disable a user and end all their sessions"),
        ("logout-all", cmd_users_logout_all, "revoke every session and access token of a user"),
    ):
        p = _with_tables(users.add_parser(name, help=help_), *TABLES)
        p.add_argument("username")
        p.set_defaults(func=func)
    p = _with_tables(
        users.add_parser("update", help="replace a user's scopes and/or roles (sessions follow at refresh)"),
        *TABLES,
    )
    p.add_argument("username")
    p.add_argument("--scopes", nargs="*", help="the scopes the user may be granted")
    p.add_argument("--roles", nargs="*", help="the user's roles")
    p.set_defaults(func=cmd_users_update)
    p = _with_tables(users.add_parser("set-password", help="set a new password (ends sessions)"), *TABLES)
    p.add_argument("username")
    p.add_argument("--keep-sessions", action="store_true", help="do not log the user out everywhere")
    p.set_defaults(func=cmd_users_set_password)

    clients = subparsers.add_parser("clients", help="OAuth clients").add_subparsers(
        dest="command", required=True
    )
    p = _with_tables(clients.add_parser("create", help="register a client (prints its secret once)"), *TABLES)
    p.add_argument("client_id")
    p.add_argument("--confidential", action="store_true", help="generate a client secret")
    p.add_argument("--grants", nargs="+", default=["password", "refresh_token"])
    p.add_argument("--scopes", nargs="*", default=DEFAULT_SCOPES)
    p.add_argument("--access-token-ttl", type=int, help="override ACCESS_TOKEN_TTL for this client")
    p.add_argument("--refresh-max-age", type=int, help="override REFRESH_SESSION_MAX_AGE")
    p.add_argument("--refresh-idle-timeout", type=int, help="override REFRESH_IDLE_TIMEOUT")
    p.add_argument(
        "--introspect-any",
        action="store_true",
        help="may introspect every client's tokens at POST /introspect (needs --confidential)",
    )
    p.set_defaults(func=cmd_clients_create)
    for name, enabled, help_ in (
        ("disable", False, "disable a client: its tokens and grants are refused, its sessions end"),
        ("enable", True, "enable a client again (tokens issued before stay refused)"),
    ):
        p = _with_tables(clients.add_parser(name, help=help_), *TABLES)
        p.add_argument("client_id")
        p.set_defaults(func=_client_enabled(enabled))

    sessions = subparsers.add_parser("sessions", help="refresh-token sessions").add_subparsers(
        dest="command", required=True
    )
    p = _with_tables(sessions.add_parser("list", help="a user's sessions (refresh-token families)"), *TABLES)
    p.add_argument("username")
    p.set_defaults(func=cmd_sessions_list)
    p = _with_tables(sessions.add_parser("revoke", help="end a session and all its access tokens"), *TABLES)
    p.add_argument("family_id")
    p.set_defaults(func=cmd_sessions_revoke)
