"""``authctl users|clients|sessions``: operator commands for accounts, OAuth clients and sessions.

Passwords are never taken from argv (shell history, ``ps``): they are read from stdin when it is
not a terminal (``printf '%s\\n' "$PW" | authctl users create alice``), else prompted for twice.
A confidential client's secret is generated here and printed exactly once; only its hash is stored.

Table names come from ``--users-table`` and friends, else the deployment (``authctl --stack
.local/stack.json``, ``--stack-name`` or ``--function``), else (no deployment named) the
environment (``USERS_TABLE``...); a deployment named *and* exported names is an error. Before
the first write one line on stderr says where it goes (see :mod:`authctl.context`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from auth_core.errors import InvalidRequestError
from auth_core.grant_types import AUTHORIZATION_CODE, GRANT_TYPES, REFRESH_TOKEN, check_client_grants

TABLES = ("users_table", "clients_table", "sessions_table", "revocations_table")


# ----------------------------------------------------------------------------- wiring
def _table(args: argparse.Namespace, name: str) -> str:
    """``--<name>`` flag, else the deployment (``--stack``, ``--stack-name``, ``--function``),
    else (no deployment named) the ``<NAME>`` environment variable; see :mod:`authctl.context`."""
    from authctl.context import context  # noqa: PLC0415

    return context(args).name(name, getattr(args, name, None))


def _deployment(args: argparse.Namespace) -> Any:
    """The deployment's settings (never this shell's; the defaults, said once, when unknown)."""
    from authctl.context import context  # noqa: PLC0415

    return context(args).settings()


def _will_write(args: argparse.Namespace) -> None:
    """Say where the writes go, once, before the first (``sessions list`` only reads)."""
    from authctl.context import context  # noqa: PLC0415

    if (getattr(args, "group", None), getattr(args, "command", None)) != ("sessions", "list"):
        context(args).announce_write("dynamodb")


def _revoker(args: argparse.Namespace) -> Any:
    from auth_core import aws  # noqa: PLC0415
    from auth_core.oauth.revocation import SessionRevoker  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from authctl.clock import aws_clock  # noqa: PLC0415

    revocations = _table(args, "revocations_table")
    sessions, users = _table(args, "sessions_table"), _table(args, "users_table")
    max_token_lifetime = _deployment(args).max_access_token_lifetime
    _will_write(args)
    clock = aws_clock(aws.client("dynamodb"), revocations)  # cut-offs on AWS's time, not the laptop's
    return SessionRevoker(
        sessions=SessionStore(sessions),
        revocations=RevocationStore(revocations, clock=clock),
        users=UserStore(users, clock=clock),
        max_token_lifetime=max_token_lifetime,
        clock=clock,
    )


def _users(args: argparse.Namespace) -> Any:
    from auth_core.stores.users import UserStore  # noqa: PLC0415

    table = _table(args, "users_table")
    _will_write(args)
    return UserStore(table)


def _clients(args: argparse.Namespace) -> Any:
    from auth_core.stores.clients import ClientStore  # noqa: PLC0415

    table = _table(args, "clients_table")
    _will_write(args)
    return ClientStore(table, cache_ttl=0)


def _read_password(args: argparse.Namespace, username: str, prompt: str = "Password") -> str:
    """From stdin when piped, else two matching prompts. Never from argv. Checked against the
    deployment's password policy (length, the common-passwords list, the username)."""
    from auth_core.password_policy import PasswordPolicy  # noqa: PLC0415

    policy = PasswordPolicy.from_settings(_settings(args))
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        print(policy.requirements(), file=sys.stderr)
        password = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != password:
            raise InvalidRequestError("passwords do not match")
    policy.check(password, username=username)
    return password


def _settings(args: argparse.Namespace) -> Any:
    """The deployment's settings as far as this command can tell (scopes, password policy)."""
    from authctl.context import context  # noqa: PLC0415

    return context(args).settings()


def _username(raw: str) -> str:
    """The canonical username (RFC 8265), or one clear error line."""
    from auth_core.usernames import canonical_username  # noqa: PLC0415

    return canonical_username(raw)


def _known(values: list[str] | None, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``values`` when every one is in ``allowed``, else an error naming the unknown ones."""
    chosen = tuple(dict.fromkeys(values or ()))
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise InvalidRequestError(
            f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed) or 'none'})"
        )
    return chosen


def _throttle(args: argparse.Namespace) -> Any:
    from auth_core.stores.throttle import LoginThrottle  # noqa: PLC0415

    return LoginThrottle(_table(args, "sessions_table"))


def _out(doc: dict[str, Any]) -> int:
    print(json.dumps(doc, indent=2, sort_keys=True))
    return 0


# ----------------------------------------------------------------------------- users
def cmd_users_create(args: argparse.Namespace) -> int:
    from auth_core.passwords import PasswordHasher  # noqa: PLC0415
    from auth_core.stores.users import User  # noqa: PLC0415

    username = _username(args.username)
    scopes = _known(args.scopes, _settings(args).scopes_supported, "scopes")
    password = _read_password(args, username)
    email = ""
    if args.email:
        from auth_core.emails import normalize_email  # noqa: PLC0415

        email = normalize_email(args.email)
    user = _users(args).create(
        User(
            username=username,
            password_hash=PasswordHasher().hash(password),
            roles=tuple(dict.fromkeys(args.roles or ())),
            scopes=scopes,
            email=email,  # unverified: `users update --email-verified` claims it
        )
    )
    doc = {"created": username, "user_id": user.user_id, "scopes": list(scopes), "roles": list(user.roles)}
    if email:
        doc["email"] = email
    return _out(doc)


def cmd_users_enable(args: argparse.Namespace) -> int:
    username = _username(args.username)
    if not _users(args).enable(username):
        raise InvalidRequestError("no such user")
    _throttle(args).unlock(username)
    return _out({"enabled": username})


def cmd_users_disable(args: argparse.Namespace) -> int:
    username = _username(args.username)
    revoked = _revoker(args).disable_user(username)
    return _out({"disabled": username, "families_revoked": revoked})


def cmd_users_unlock(args: argparse.Namespace) -> int:
    username = _username(args.username)
    if _users(args).get(username) is None:
        raise InvalidRequestError("no such user")
    _throttle(args).unlock(username)
    return _out({"unlocked": username})


def cmd_users_set_password(args: argparse.Namespace) -> int:
    from auth_core.passwords import PasswordHasher  # noqa: PLC0415

    username = _username(args.username)
    if _users(args).get(username) is None:
        raise InvalidRequestError("no such user")
    password = _read_password(args, username, "New password")
    new_hash = PasswordHasher().hash(password)
    if args.keep_sessions:
        if not _users(args).replace_password_hash(username, new_hash):
            raise InvalidRequestError("no such user")
        revoked = 0
    else:
        # one write: the new hash and the end of every session (no login in flight survives it)
        revoked = _revoker(args).set_password(username, new_hash)
    _throttle(args).unlock(username)  # the owner is back in control: lift any throttling
    return _out({"password_set": username, "families_revoked": revoked})


def cmd_users_update(args: argparse.Namespace) -> int:
    username = _username(args.username)
    users = _users(args)
    user = users.get(username)
    if user is None:
        raise InvalidRequestError("no such user")
    scopes = (
        user.scopes
        if args.scopes is None
        else _known(args.scopes, _settings(args).scopes_supported, "scopes")
    )
    roles = user.roles if args.roles is None else tuple(dict.fromkeys(args.roles))
    doc: dict[str, Any] = {"updated": username}
    if args.scopes is not None or args.roles is not None:
        if not users.set_privileges(username, scopes=scopes, roles=roles):
            raise InvalidRequestError("no such user")
        doc.update(
            scopes=list(scopes),
            roles=list(roles),
            note="sessions get the new roles, and lose removed scopes, at their next refresh",
        )
    doc.update(_update_profile(args, users, user))
    if len(doc) == 1:
        raise InvalidRequestError(
            "nothing to change: give --scopes, --roles, --email, --email-verified, --name, "
            "--given-name, --family-name or --attr"
        )
    return _out(doc)


def _update_profile(args: argparse.Namespace, users: Any, user: Any) -> dict[str, Any]:
    """``users update``'s profile options: names and custom attributes (``--attr k=v``; an empty
    value removes it; names from CUSTOM_ATTRIBUTES), then the email (verified: claimed in the
    one transaction that keeps verified addresses unique)."""
    from dataclasses import replace  # noqa: PLC0415

    from auth_core.accounts.profile import check_attributes, check_text  # noqa: PLC0415

    changed: dict[str, Any] = {}
    fields = ("name", "given_name", "family_name")
    names = {f: check_text(f, getattr(args, f)) for f in fields if getattr(args, f) is not None}
    attrs = dict(user.attributes)
    for pair in args.attr or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidRequestError(f"--attr {pair!r}: expected name=value")
        attrs[key] = value
    if names or args.attr:
        allowed = _settings(args).custom_attributes
        checked = check_attributes({k: v for k, v in attrs.items() if v}, [*allowed, *dict(user.attributes)])
        if not users.set_profile(user.username, replace(user, **names, attributes=checked)):
            raise InvalidRequestError("no such user")
        changed.update(names)
        changed["attributes"] = dict(checked)
    if args.email is not None or args.email_verified is not None:
        changed.update(_set_email(args, users, user))
    return changed


def _set_email(args: argparse.Namespace, users: Any, user: Any) -> dict[str, Any]:
    from auth_core.emails import email_key, normalize_email  # noqa: PLC0415
    from auth_core.stores.accounts import AccountStore  # noqa: PLC0415

    email = normalize_email(args.email) if args.email is not None else user.email
    if not email:
        raise InvalidRequestError("--email-verified: the user has no email (give --email)")
    same = bool(user.email) and email_key(email) == email_key(user.email)
    verified = args.email_verified if args.email_verified is not None else (same and user.email_verified)
    old_key = email_key(user.email) if user.email and user.email_verified else None
    store = AccountStore(_table(args, "sessions_table"), users)
    store.set_email(users.ensure_user_id(user), email, email_key(email), verified=verified, old_key=old_key)
    return {"email": email, "email_verified": verified}


def cmd_users_logout_all(args: argparse.Namespace) -> int:
    username = _username(args.username)
    return _out({"logged_out": username, "families_revoked": _revoker(args).logout_all(username)})


def cmd_users_migrate(args: argparse.Namespace) -> int:
    """Give every user created before opaque ids existed its ``user_id`` (once; idempotent)."""
    users = _users(args)
    migrated = [u.username for u in users.all_users() if not u.user_id and users.ensure_user_id(u).user_id]
    return _out(
        {
            "migrated": len(migrated),
            "note": "their tokens now carry the new opaque sub; sessions minted before keep the old "
            "one until they end (log-out-everywhere ends both)",
        }
    )


# ----------------------------------------------------------------------------- clients
def cmd_clients_create(args: argparse.Namespace) -> int:
    from auth_core.redirect_uris import check_redirect_uris  # noqa: PLC0415
    from auth_core.stores.clients import Client, hash_client_secret  # noqa: PLC0415
    from auth_core.usernames import USER_ID_PREFIX  # noqa: PLC0415

    redirect_uris = check_redirect_uris(args.redirect_uris)
    post_logout = check_redirect_uris(args.post_logout_redirect_uris)
    grants = check_client_grants(
        args.grants or _default_grants(redirect_uris),
        confidential=args.confidential,
        redirect_uris=redirect_uris,
    )
    browser_flags = [
        flag
        for flag, given in (
            ("--post-logout-redirect-uri", post_logout),
            ("--first-party", args.first_party),
            ("--require-par", args.require_par),
            ("--allow-signup", args.allow_signup),
        )
        if given
    ]
    if browser_flags and AUTHORIZATION_CODE not in grants:
        raise InvalidRequestError(
            f"{', '.join(browser_flags)}: only for clients with the {AUTHORIZATION_CODE} grant"
        )
    if redirect_uris and AUTHORIZATION_CODE not in grants:
        raise InvalidRequestError(f"--redirect-uri: only for clients with the {AUTHORIZATION_CODE} grant")
    scopes = _known(args.scopes, _settings(args).scopes_supported, "scopes")
    defaults = _known(args.default_scopes, scopes, "default scopes (they must be among --scopes)")
    if args.client_id.startswith(USER_ID_PREFIX):
        raise InvalidRequestError(f"client ids may not start with {USER_ID_PREFIX!r} (user ids do)")
    if args.introspect_any and not args.confidential:
        raise InvalidRequestError("--introspect-any needs --confidential")
    secret = secrets.token_urlsafe(32) if args.confidential else None
    _clients(args).create(
        Client(
            client_id=args.client_id,
            secret_hash=hash_client_secret(secret) if secret else None,
            grant_types=grants,
            scopes=scopes,
            default_scopes=defaults,
            access_token_ttl=args.access_token_ttl,
            refresh_max_age=args.refresh_max_age,
            refresh_idle_timeout=args.refresh_idle_timeout,
            introspect_any=args.introspect_any,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout,
            first_party=args.first_party,
            require_par=args.require_par,
            dpop_bound_access_tokens=args.require_dpop,
            allow_signup=args.allow_signup,
            mfa=args.mfa,
        )
    )
    doc: dict[str, Any] = {
        "client_id": args.client_id,
        "grants": list(grants),
        "scopes": list(scopes),
        "default_scopes": list(defaults),
    }
    if redirect_uris:
        doc["redirect_uris"] = list(redirect_uris)
    if post_logout:
        doc["post_logout_redirect_uris"] = list(post_logout)
    for name in ("first_party", "require_par", "allow_signup", "introspect_any"):
        if getattr(args, name):
            doc[name] = True
    if args.require_dpop:
        doc["dpop_bound_access_tokens"] = True
    if args.mfa != "optional":
        doc["mfa"] = args.mfa
    if secret:
        doc["client_secret"] = secret
        doc["note"] = "shown once; only its hash is stored"
    return _out(doc)


def _default_grants(redirect_uris: tuple[str, ...]) -> tuple[str, ...]:
    """A client with a redirect URI signs users in by the code flow (and refreshes); the password
    grant is legacy (RFC 9700 §2.4) and only ever given when asked for by name."""
    if not redirect_uris:
        raise InvalidRequestError(
            f"--grants is required without --redirect-uri (one or more of: {', '.join(GRANT_TYPES)})"
        )
    return (AUTHORIZATION_CODE, REFRESH_TOKEN)


def _set_client_enabled(args: argparse.Namespace, client_id: str, enabled: bool) -> None:
    """The one path that disables (or enables) a client: ``clients disable|enable|delete``."""
    from auth_core import aws  # noqa: PLC0415
    from auth_core.oauth.revocation import set_client_enabled  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from authctl.clock import aws_clock  # noqa: PLC0415

    table = _table(args, "revocations_table")
    clients = _clients(args)
    clock = aws_clock(aws.client("dynamodb"), table)
    set_client_enabled(
        clients,
        RevocationStore(table, clock=clock),
        client_id,
        enabled,
        max_token_lifetime=_deployment(args).max_access_token_lifetime,
        clock=clock,
    )


def _disable_client(args: argparse.Namespace, client_id: str) -> None:
    _set_client_enabled(args, client_id, False)


def _client_enabled(enabled: bool) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        _set_client_enabled(args, args.client_id, enabled)
        return _out({("enabled" if enabled else "disabled"): args.client_id})

    return run


# ----------------------------------------------------------------------------- sessions
def cmd_sessions_list(args: argparse.Namespace) -> int:
    from auth_core.stores.sessions import SessionStore  # noqa: PLC0415

    now = int(time.time())
    username = _username(args.username)
    user = _users(args).get(username)
    if user is None:
        raise InvalidRequestError("no such user")
    store = SessionStore(_table(args, "sessions_table"))
    families = [
        f
        for subject in dict.fromkeys(filter(None, (user.subject, user.legacy_subject)))
        for f in store.families_of(subject)
    ]
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
    return _out({"username": username, "user_id": user.user_id, "sessions": rows})


def cmd_sessions_revoke(args: argparse.Namespace) -> int:
    revoked = _revoker(args).revoke_family(args.family_id, reason="operator")
    return _out({"family_id": args.family_id, "revoked": revoked})


def cmd_sessions_end_all(args: argparse.Namespace) -> int:
    """Every session of every user and client ends; every access token issued before is refused.

    The global cut-off that ``keys revoke --all`` also writes, without replacing the keys: for a
    leaked sessions table, or after restoring a table from a backup (docs/operations.md, Restore).
    """
    from auth_core import aws  # noqa: PLC0415
    from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
    from authctl.clock import aws_clock  # noqa: PLC0415
    from authctl.context import EXIT_USAGE, CliError  # noqa: PLC0415

    if not args.yes:
        raise CliError("not confirmed: nothing was ended (re-run with --yes)", EXIT_USAGE)
    table = _table(args, "revocations_table")
    _will_write(args)
    clock = aws_clock(aws.client("dynamodb"), table)  # the cut-off on AWS's time, not the laptop's
    cutoff_ms = int(clock() * 1000)
    RevocationStore(table, clock=clock).set_global_cutoff(cutoff_ms)
    ended = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff_ms // 1000))
    return _out({"sessions_ended_before": ended, "cutoff_ms": cutoff_ms})


# ----------------------------------------------------------------------------- parser
def _with_tables(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=f"default: ${name.upper()}")
    parser.add_argument(
        "--json", action="store_true", help="JSON output (the commands that print text without it)"
    )
    return parser


#: (group, command) -> the line said before the change (``authctl: will ...``) and the audit
#: event recorded after it; commands whose line needs the stores say it themselves (authctl.admin)
_PLANS: dict[tuple[str, str], tuple[str, str]] = {
    ("users", "create"): ("create user {username} (scopes: {scopes}; roles: {roles})", "OperatorUserCreated"),
    ("users", "enable"): ("enable user {username} and clear its login throttling", "OperatorUserEnabled"),
    ("users", "disable"): (
        "disable user {username} and end all its sessions and access tokens",
        "OperatorUserDisabled",
    ),
    ("users", "logout-all"): (
        "end every session and access token of user {username}",
        "OperatorUserLoggedOutEverywhere",
    ),
    ("users", "unlock"): ("clear the login throttling of user {username}", "OperatorUserUnlocked"),
    ("users", "update"): (
        "replace user {username}'s scopes ({scopes}) and roles ({roles}); sessions follow at refresh; "
        "email ({email}, verified: {email_verified}), names ({name} / {given_name} / {family_name}), "
        "attributes ({attr})",
        "OperatorUserUpdated",
    ),
    ("users", "migrate"): ("give every user without a user_id one", "OperatorUsersMigrated"),
    ("users", "set-password"): (
        "set a new password for user {username}{sessions}",
        "OperatorUserPasswordSet",
    ),
    ("clients", "create"): ("register client {client_id}", "OperatorClientCreated"),
    ("clients", "disable"): (
        "disable client {client_id}: its access tokens refused, its sessions ended",
        "OperatorClientDisabled",
    ),
    ("clients", "enable"): (
        "enable client {client_id} (tokens issued before stay refused)",
        "OperatorClientEnabled",
    ),
    ("sessions", "list"): ("", "OperatorSessionsListed"),
    ("sessions", "revoke"): (
        "end session {family_id} and every access token issued from it",
        "OperatorSessionRevoked",
    ),
    ("sessions", "end-all"): (
        "end EVERY session and refuse every access token issued until now",
        "OperatorSessionsEndedAll",
    ),
}
#: what an audit record names as the target
_TARGETS = ("username", "client_id", "family_id")


def _planned(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Say the change first, then run ``func``, then record the audit event (success only)."""

    def run(args: argparse.Namespace) -> int:
        from authctl.admin import audit  # noqa: PLC0415
        from authctl.audit import plan  # noqa: PLC0415

        line, event = _PLANS[(args.group, args.command)]
        if line:
            shown = {
                k: (" ".join(v) or "none") if isinstance(v, list) else ("keep" if v is None else v)
                for k, v in vars(args).items()
            }
            shown["sessions"] = (
                " (sessions kept)" if getattr(args, "keep_sessions", False) else " and end all its sessions"
            )
            plan(line.format(**shown))
        code = int(func(args) or 0)
        if code == 0:
            audit(args).record(event, **{k: getattr(args, k) for k in _TARGETS if getattr(args, k, None)})
        return code

    return run


def register(subparsers: Any) -> None:
    """Add the ``users``, ``clients`` and ``sessions`` command groups to ``authctl``."""
    from authctl.admin import register_clients, register_users  # noqa: PLC0415

    groups = _register(subparsers)
    register_users(groups["users"], lambda p: _with_tables(p, *TABLES))
    register_clients(groups["clients"], lambda p: _with_tables(p, *TABLES))
    for group, commands in groups.items():
        for command, parser in commands.choices.items():
            if (group, command) in _PLANS:
                parser.set_defaults(func=_planned(parser.get_default("func")))


def _register(subparsers: Any) -> dict[str, Any]:
    users = subparsers.add_parser("users", help="user accounts").add_subparsers(dest="command", required=True)
    p = _with_tables(
        users.add_parser("create", help="create a user (password from stdin or prompt)"), *TABLES
    )
    p.add_argument("username", help="normalised and checked per RFC 8265 (UsernameCaseMapped)")
    p.add_argument("--scopes", nargs="*", default=[], help="scopes the user may be granted (default: none)")
    p.add_argument("--roles", nargs="*", default=[], help="the user's roles (default: none)")
    p.add_argument("--email", help="the user's email address (unverified)")
    p.set_defaults(func=cmd_users_create)
    for name, func, help_ in (
        ("enable", cmd_users_enable, "enable a user"),
        ("disable", cmd_users_disable, "disable a user and end all their sessions"),
        ("logout-all", cmd_users_logout_all, "revoke every session and access token of a user"),
        ("unlock", cmd_users_unlock, "clear a user's login throttling (every address)"),
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
    p.add_argument("--email", help="the user's email address (unverified unless --email-verified)")
    p.add_argument(
        "--email-verified",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the address is verified (claimed: no other user may hold it verified)",
    )
    for flag in ("name", "given-name", "family-name"):
        p.add_argument(f"--{flag}", help=f"the user's {flag.replace('-', ' ')} (empty: remove it)")
    p.add_argument(
        "--attr",
        action="append",
        metavar="NAME=VALUE",
        help="a custom attribute named in CUSTOM_ATTRIBUTES (repeatable; empty value: remove it)",
    )
    p.set_defaults(func=cmd_users_update)
    p = _with_tables(
        users.add_parser("migrate", help="give users created before opaque user ids their user_id"), *TABLES
    )
    p.set_defaults(func=cmd_users_migrate)
    p = _with_tables(users.add_parser("set-password", help="set a new password (ends sessions)"), *TABLES)
    p.add_argument("username")
    p.add_argument("--keep-sessions", action="store_true", help="do not log the user out everywhere")
    p.set_defaults(func=cmd_users_set_password)

    clients = subparsers.add_parser("clients", help="OAuth clients").add_subparsers(
        dest="command", required=True
    )
    p = _with_tables(clients.add_parser("create", help="register a client (prints its secret once)"), *TABLES)
    p.add_argument("client_id")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--confidential", action="store_true", help="generate a client secret")
    kind.add_argument(
        "--public",
        action="store_true",
        help="no secret (a browser or mobile app; the default): authorization_code and refresh_token only",
    )
    p.add_argument(
        "--grants",
        nargs="+",
        default=[],
        help=f"grant types the client may use (of: {', '.join(GRANT_TYPES)}; default with "
        "--redirect-uri: authorization_code refresh_token, else required; password only when named)",
    )
    p.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        default=[],
        metavar="URI",
        help="where /authorize may send codes (repeatable): https, http://127.0.0.1 or [::1] "
        "(any port), or a private-use scheme (com.example.app:/cb)",
    )
    p.add_argument(
        "--post-logout-redirect-uri",
        dest="post_logout_redirect_uris",
        action="append",
        default=[],
        metavar="URI",
        help="where /logout may send the browser afterwards (repeatable)",
    )
    p.add_argument("--first-party", action="store_true", help="this deployment's own app: no consent page")
    p.add_argument(
        "--require-par",
        action="store_true",
        help="authorization requests only through POST /par (RFC 9126)",
    )
    p.add_argument(
        "--require-dpop",
        action="store_true",
        help="every token request carries a DPoP proof: tokens bound to the client's key (RFC 9449)",
    )
    p.add_argument(
        "--mfa",
        choices=("off", "optional", "required"),
        default="optional",
        help="second factor for its sign-ins (the user's setting may be stricter; default optional)",
    )
    p.add_argument("--scopes", nargs="*", default=[], help="scopes the client may request (default: none)")
    p.add_argument(
        "--default-scopes",
        nargs="*",
        default=[],
        help="scopes granted when a request names none (a subset of --scopes; default: none)",
    )
    p.add_argument("--access-token-ttl", type=int, help="override ACCESS_TOKEN_TTL for this client")
    p.add_argument("--refresh-max-age", type=int, help="override REFRESH_SESSION_MAX_AGE")
    p.add_argument("--refresh-idle-timeout", type=int, help="override REFRESH_IDLE_TIMEOUT")
    p.add_argument(
        "--introspect-any",
        action="store_true",
        help="may introspect every client's tokens at POST /introspect (needs --confidential)",
    )
    p.add_argument(
        "--allow-signup",
        action="store_true",
        help="people may create accounts from its sign-in page (/account/signup)",
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
    p = _with_tables(
        sessions.add_parser(
            "end-all",
            help="EMERGENCY: end every session and refuse every access token issued until now",
        ),
        *TABLES,
    )
    p.add_argument("--yes", action="store_true", help="confirm: every user and client signs in again")
    p.set_defaults(func=cmd_sessions_end_all)
    return {"users": users, "clients": clients, "sessions": sessions}
