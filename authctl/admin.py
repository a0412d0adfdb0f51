"""``authctl users list|show|delete`` and ``clients list|show|update|delete|rotate-secret``.

Reads never print a password hash or a client-secret hash. Lists are pages: ``--limit N`` (1 to
:data:`MAX_LIMIT`, default :data:`DEFAULT_LIMIT`) and ``--next TOKEN``, the opaque token the
previous page printed. Output is text unless ``--json``. Each change is said first on stderr
(``authctl: will ...``, :func:`authctl.audit.plan`) and audited after (:mod:`authctl.audit`).
Ending access goes through the same code as ``users disable`` and ``clients disable``
(:class:`~auth_core.oauth.revocation.SessionRevoker`, :func:`~auth_core.oauth.revocation.set_client_enabled`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import secrets
import time
from dataclasses import replace
from typing import Any

from auth_core.errors import InvalidRequestError
from auth_core.grant_types import AUTHORIZATION_CODE, check_client_grants

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_OVERLAP",
    "MAX_LIMIT",
    "MAX_OVERLAP",
    "register_clients",
    "register_users",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
#: how long a rotated-out client secret keeps working by default, and at most (seconds)
DEFAULT_OVERLAP = 3600
MAX_OVERLAP = 7 * 86400


# ----------------------------------------------------------------------------- output
def emit(args: argparse.Namespace, doc: dict[str, Any]) -> int:
    """``doc`` as JSON (``--json``) or as ``key: value`` lines (lists of rows as a table)."""
    if getattr(args, "json", False):
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    for key, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            print(f"{key}:")
            for row in value:
                print("  " + "  ".join(f"{k}={_text(v)}" for k, v in row.items()))
        else:
            print(f"{key}: {_text(value)}")
    return 0


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value) or "-"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _when(epoch: int) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else None


def audit(args: argparse.Namespace) -> Any:
    """The run's :class:`authctl.audit.OperatorAudit` (one per run)."""
    from authctl.audit import OperatorAudit  # noqa: PLC0415
    from authctl.context import context  # noqa: PLC0415

    found = getattr(args, "_audit", None)
    if found is None:
        found = OperatorAudit(
            command=f"{getattr(args, 'group', '')} {getattr(args, 'command', '')}".strip(),
            deployment=context(args).source,
        )
        args._audit = found
    return found


# ----------------------------------------------------------------------------- paging
def _limit(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_LIMIT}, not {value}")
    return value


def _seconds(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def _token(kind: str, after: str | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps({"k": kind, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(kind: str, token: str | None) -> str | None:
    """The key a ``--next`` token continues after. :raises InvalidRequestError: not one of ours."""
    if token is None:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        doc = None
    if not isinstance(doc, dict) or doc.get("k") != kind or not isinstance(doc.get("after"), str):
        raise InvalidRequestError(f"--next: not a token printed by '{kind} list'")
    return str(doc["after"]) or None


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        help=f"at most this many (1-{MAX_LIMIT}; default {DEFAULT_LIMIT})",
    )
    parser.add_argument(
        "--next", dest="next_token", metavar="TOKEN", help="the next page (printed by the last one)"
    )


def _confirm(args: argparse.Namespace, what: str) -> None:
    from authctl.context import EXIT_USAGE, CliError  # noqa: PLC0415

    if not args.yes:
        raise CliError(f"not confirmed: nothing was {what} (re-run with --yes)", EXIT_USAGE)


# ----------------------------------------------------------------------------- users
def _user_store(args: argparse.Namespace) -> Any:
    """The users table for reading (no write banner)."""
    from auth_core.stores.users import UserStore  # noqa: PLC0415
    from authctl.users import _table  # noqa: PLC0415

    return UserStore(_table(args, "users_table"))


def _user_row(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "user_id": user.user_id or None,
        "enabled": user.enabled,
        "roles": list(user.roles),
        "scopes": list(user.scopes),
        "created": _when(user.created_at),
    }


def _active_sessions(args: argparse.Namespace, user: Any) -> int:
    from auth_core.stores.sessions import ACTIVE, SessionStore  # noqa: PLC0415
    from authctl.users import _table  # noqa: PLC0415

    store = SessionStore(_table(args, "sessions_table"))
    now = int(time.time())
    subjects = dict.fromkeys(filter(None, (user.subject, user.legacy_subject)))
    return sum(1 for s in subjects for f in store.families_of(s) if f.status == ACTIVE and f.expires_at > now)


def cmd_users_list(args: argparse.Namespace) -> int:
    users, after = _user_store(args).page(args.limit, _after("users", args.next_token))
    audit(args).record("OperatorUsersListed", count=len(users))
    doc: dict[str, Any] = {"users": [_user_row(u) for u in users]}
    doc["next"] = _token("users", after)
    return emit(args, doc)


def cmd_users_show(args: argparse.Namespace) -> int:
    from authctl.users import _username  # noqa: PLC0415

    username = _username(args.username)
    user = _user_store(args).get(username)
    if user is None:
        raise InvalidRequestError("no such user")
    audit(args).record("OperatorUserShown", username=username, user_id=user.user_id)
    doc = _user_row(user)
    doc.update(
        email=user.email or None,
        email_verified=user.email_verified,
        name=user.name or None,
        given_name=user.given_name or None,
        family_name=user.family_name or None,
        attributes=dict(user.attributes),
    )
    doc["sessions"] = _active_sessions(args, user)
    if user.tokens_valid_after_ms:
        doc["tokens_valid_after"] = _when(user.not_before)
    from authctl.mfa import mfa_state  # noqa: PLC0415

    doc["mfa"] = mfa_state(args, username)
    return emit(args, doc)


def cmd_users_delete(args: argparse.Namespace) -> int:
    from authctl.audit import plan  # noqa: PLC0415
    from authctl.users import _revoker, _username  # noqa: PLC0415

    username = _username(args.username)
    user = _user_store(args).get(username)
    if user is None:
        raise InvalidRequestError("no such user")
    plan(
        f"delete user {username} (user_id {user.user_id or '-'}): disable it, end its "
        f"{_active_sessions(args, user)} session(s) and every access token, then delete the item"
        + (f" and release its verified address {user.email}" if user.email and user.email_verified else "")
    )
    _confirm(args, "deleted")
    from auth_core.stores.accounts import AccountStore  # noqa: PLC0415
    from authctl.users import _table  # noqa: PLC0415

    revoker = _revoker(args)
    revoker.audit = audit(args)
    # the item and its claim on a verified address go together: the address is free again
    accounts = AccountStore(_table(args, "sessions_table"), revoker.users)
    revoked = revoker.delete_user(username, delete=accounts.delete_user)
    audit(args).record("OperatorUserDeleted", username=username, user_id=user.user_id, families=revoked)
    return emit(
        args,
        {
            "deleted": username,
            "user_id": user.user_id or None,
            "families_revoked": revoked,
            "note": "the user_id is never given again (128 random bits); a new user of this name is a "
            "new subject",
        },
    )


def register_users(users: Any, with_tables: Any) -> None:
    p = with_tables(users.add_parser("list", help="list users, a page at a time (never a password hash)"))
    _paging(p)
    p.set_defaults(func=cmd_users_list)
    p = with_tables(users.add_parser("show", help="one user: roles, scopes, state, id, sessions"))
    p.add_argument("username")
    p.set_defaults(func=cmd_users_show)
    p = with_tables(users.add_parser("delete", help="end every session of a user, then delete it"))
    p.add_argument("username")
    p.add_argument("--yes", action="store_true", help="confirm")
    p.set_defaults(func=cmd_users_delete)
    from authctl.mfa import register_mfa  # noqa: PLC0415

    register_mfa(users, with_tables)


# ----------------------------------------------------------------------------- clients
def _client_store(args: argparse.Namespace) -> Any:
    """The clients table for reading (no write banner, no cache)."""
    from auth_core.stores.clients import ClientStore  # noqa: PLC0415
    from authctl.users import _table  # noqa: PLC0415

    return ClientStore(_table(args, "clients_table"), cache_ttl=0)


def _client_doc(client: Any, *, full: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "client_id": client.client_id,
        "enabled": client.enabled,
        "confidential": client.confidential,
        "grants": list(client.grant_types),
        "scopes": list(client.scopes),
    }
    if not full:
        return doc
    doc.update(
        {
            "default_scopes": list(client.default_scopes),
            "redirect_uris": list(client.redirect_uris),
            "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
            "first_party": client.first_party,
            "require_par": client.require_par,
            "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
            "allow_signup": client.allow_signup,
            "introspect_any": client.introspect_any,
            "access_token_ttl": client.access_token_ttl,
            "refresh_max_age": client.refresh_max_age,
            "refresh_idle_timeout": client.refresh_idle_timeout,
            "mfa": client.mfa,
            "version": client.version,
        }
    )
    if client.previous_secret_hash and client.previous_secret_valid_until > time.time():
        doc["previous_secret_valid_until"] = _when(client.previous_secret_valid_until)
    return doc


def _get_client(args: argparse.Namespace) -> Any:
    client = _client_store(args).get_fresh(args.client_id)
    if client is None:
        raise InvalidRequestError("no such client")
    return client


def cmd_clients_list(args: argparse.Namespace) -> int:
    clients, after = _client_store(args).page(args.limit, _after("clients", args.next_token))
    audit(args).record("OperatorClientsListed", count=len(clients))
    return emit(
        args, {"clients": [_client_doc(c, full=False) for c in clients], "next": _token("clients", after)}
    )


def cmd_clients_show(args: argparse.Namespace) -> int:
    client = _get_client(args)
    audit(args).record("OperatorClientShown", client_id=client.client_id)
    return emit(args, _client_doc(client, full=True))


#: ``clients update`` option -> the client field it replaces
_UPDATES = {
    "scopes": "scopes",
    "default_scopes": "default_scopes",
    "grants": "grant_types",
    "redirect_uris": "redirect_uris",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "first_party": "first_party",
    "require_par": "require_par",
    "require_dpop": "dpop_bound_access_tokens",
    "allow_signup": "allow_signup",
    "introspect_any": "introspect_any",
    "access_token_ttl": "access_token_ttl",
    "refresh_max_age": "refresh_max_age",
    "refresh_idle_timeout": "refresh_idle_timeout",
    "mfa": "mfa",
}


def _updated(args: argparse.Namespace, client: Any) -> Any:
    """``client`` with the options given, checked as ``clients create`` checks a new one.

    :raises InvalidRequestError: nothing to change, or the result is not a valid client.
    """
    from auth_core.redirect_uris import check_redirect_uris  # noqa: PLC0415
    from authctl.users import _known, _settings  # noqa: PLC0415

    given = {
        field: getattr(args, option)
        for option, field in _UPDATES.items()
        if getattr(args, option) is not None
    }
    if not given:
        raise InvalidRequestError(
            f"nothing to change: give one of --{', --'.join(o.replace('_', '-') for o in _UPDATES)}"
        )
    for name in ("access_token_ttl", "refresh_max_age", "refresh_idle_timeout"):
        if given.get(name) == 0:
            given[name] = None  # 0: back to the deployment's setting
    new = replace(client, **{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    redirect_uris = check_redirect_uris(list(new.redirect_uris))
    post_logout = check_redirect_uris(list(new.post_logout_redirect_uris))
    grants = check_client_grants(new.grant_types, confidential=new.confidential, redirect_uris=redirect_uris)
    scopes = _known(list(new.scopes), _settings(args).scopes_supported, "scopes")
    defaults = _known(list(new.default_scopes), scopes, "default scopes (they must be among the scopes)")
    browser = [
        flag
        for flag, on in (
            ("post-logout redirect URIs", post_logout),
            ("--first-party", new.first_party),
            ("--require-par", new.require_par),
            ("--allow-signup", new.allow_signup),
            ("redirect URIs", redirect_uris),
        )
        if on
    ]
    if browser and AUTHORIZATION_CODE not in grants:
        raise InvalidRequestError(
            f"{', '.join(browser)}: only for clients with the {AUTHORIZATION_CODE} grant"
        )
    if new.introspect_any and not new.confidential:
        raise InvalidRequestError("--introspect-any needs a confidential client")
    return replace(
        new,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        grant_types=grants,
        scopes=scopes,
        default_scopes=defaults,
    )


def cmd_clients_update(args: argparse.Namespace) -> int:
    from auth_core.stores.clients import EDITABLE  # noqa: PLC0415
    from authctl.audit import plan  # noqa: PLC0415
    from authctl.users import _clients  # noqa: PLC0415

    client = _get_client(args)
    new = _updated(args, client)
    changes = {
        name: {"from": _jsonable(getattr(client, name)), "to": _jsonable(getattr(new, name))}
        for name in EDITABLE
        if getattr(client, name) != getattr(new, name)
    }
    if not changes:
        raise InvalidRequestError(f"nothing to change: client {client.client_id} already has these settings")
    plan(
        f"update client {client.client_id}: "
        + "; ".join(f"{name} {_text(c['from'])} -> {_text(c['to'])}" for name, c in changes.items())
    )
    if not _clients(args).update(new):
        raise InvalidRequestError("the client changed or went away meanwhile: nothing written; re-run")
    audit(args).record(
        "OperatorClientUpdated",
        client_id=client.client_id,
        changed=sorted(changes),
        version=client.version + 1,
    )
    return emit(
        args,
        {
            "updated": client.client_id,
            "changes": changes,
            "version": client.version + 1,
            "note": "warm functions see it within the client cache's lifetime; session writes re-check "
            "the version at once",
        },
    )


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def cmd_clients_delete(args: argparse.Namespace) -> int:
    from authctl.audit import plan  # noqa: PLC0415
    from authctl.users import _clients, _disable_client  # noqa: PLC0415

    client = _get_client(args)
    plan(
        f"delete client {client.client_id}: disable it first (its access tokens refused through the "
        "revocation feed, its sessions ended), then delete the item"
    )
    _confirm(args, "deleted")
    _disable_client(args, client.client_id)
    if not _clients(args).delete(client.client_id):
        raise InvalidRequestError(
            "the client was enabled again or went away meanwhile: not deleted (it was disabled)"
        )
    audit(args).record("OperatorClientDeleted", client_id=client.client_id)
    return emit(
        args,
        {
            "deleted": client.client_id,
            "note": "the revocation feed keeps this id disabled: a client registered again under it "
            "needs 'clients enable' (tokens issued before stay refused)",
        },
    )


def cmd_clients_rotate_secret(args: argparse.Namespace) -> int:
    from auth_core import aws  # noqa: PLC0415
    from auth_core.stores.clients import hash_client_secret  # noqa: PLC0415
    from authctl.audit import plan  # noqa: PLC0415
    from authctl.clock import aws_clock  # noqa: PLC0415
    from authctl.users import _clients, _table  # noqa: PLC0415

    if args.overlap > MAX_OVERLAP:
        raise InvalidRequestError(f"--overlap: at most {MAX_OVERLAP} seconds, not {args.overlap}")
    client = _get_client(args)
    if not client.confidential:
        raise InvalidRequestError(f"client {client.client_id} is public: it has no secret to rotate")
    plan(
        f"replace the secret of client {client.client_id}; the current one keeps working for "
        f"{args.overlap} s, then never again"
        + (" (the secret replaced before it stops now)" if client.previous_secret_hash else "")
    )
    store = _clients(args)
    clock = aws_clock(aws.client("dynamodb"), _table(args, "clients_table"))  # AWS's time, not the laptop's
    until = int(clock()) + args.overlap
    secret = secrets.token_urlsafe(32)
    if not store.rotate_secret(client, hash_client_secret(secret), previous_valid_until=until):
        raise InvalidRequestError("the client changed meanwhile: nothing written; re-run")
    audit(args).record("OperatorClientSecretRotated", client_id=client.client_id, overlap=args.overlap)
    return emit(
        args,
        {
            "client_id": client.client_id,
            "client_secret": secret,
            "previous_secret_valid_until": _when(until),
            "note": "shown once; only its hash is stored",
        },
    )


def register_clients(clients: Any, with_tables: Any) -> None:
    p = with_tables(clients.add_parser("list", help="list clients, a page at a time (never a secret)"))
    _paging(p)
    p.set_defaults(func=cmd_clients_list)
    p = with_tables(clients.add_parser("show", help="one client's settings (never its secret)"))
    p.add_argument("client_id")
    p.set_defaults(func=cmd_clients_show)

    p = with_tables(
        clients.add_parser("update", help="change a client's scopes, grants, URIs, flags or lifetimes")
    )
    p.add_argument("client_id")
    p.add_argument("--scopes", nargs="*", help="replace the scopes it may request")
    p.add_argument("--default-scopes", nargs="*", help="replace its default scopes (among its scopes)")
    p.add_argument("--grants", nargs="+", help="replace its grant types (checked as at creation)")
    p.add_argument("--redirect-uris", nargs="*", metavar="URI", help="replace its redirect URIs")
    p.add_argument(
        "--post-logout-redirect-uris", nargs="*", metavar="URI", help="replace its post-logout redirect URIs"
    )
    for flag, help_ in (
        ("first-party", "the deployment's own app: no consent page"),
        ("require-par", "authorization requests only through POST /par"),
        ("require-dpop", "every token request carries a DPoP proof (RFC 9449)"),
        ("allow-signup", "people may create accounts from its sign-in page"),
        ("introspect-any", "may introspect every client's tokens (confidential only)"),
    ):
        p.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None, help=help_)
    for flag in ("access-token-ttl", "refresh-max-age", "refresh-idle-timeout"):
        p.add_argument(f"--{flag}", type=_seconds, metavar="SECONDS", help="override (0: the deployment's)")
    p.add_argument("--mfa", choices=("off", "optional", "required"), help="second factor for its sign-ins")
    p.set_defaults(func=cmd_clients_update)

    p = with_tables(
        clients.add_parser("delete", help="disable a client (its tokens refused), then delete it")
    )
    p.add_argument("client_id")
    p.add_argument("--yes", action="store_true", help="confirm")
    p.set_defaults(func=cmd_clients_delete)

    p = with_tables(
        clients.add_parser(
            "rotate-secret", help="a new secret, printed once; the old one works for --overlap seconds"
        )
    )
    p.add_argument("client_id")
    p.add_argument(
        "--overlap",
        type=_seconds,
        default=DEFAULT_OVERLAP,
        metavar="SECONDS",
        help=f"how long the old secret keeps working (default {DEFAULT_OVERLAP}; 0: not at all; "
        f"at most {MAX_OVERLAP})",
    )
    p.set_defaults(func=cmd_clients_rotate_secret)
