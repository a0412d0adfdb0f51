"""``authctl users mfa reset USER`` and ``users mfa policy USER off|optional|required``.

``reset`` removes the user's TOTP secret and every recovery code, and ends all the user's
sessions (the same code as ``users logout-all``): a reset follows a lost or stolen device, and
sessions whose ``amr`` names a factor that no longer exists should not outlive it. The user
enrols again at the next sign-in where their or the client's policy is ``required`` (or signs
in with the password alone where it is ``optional``). It says its plan first, needs ``--yes``,
and is audited like every changing command. ``users show`` prints the MFA state (policy,
enrolled, recovery codes left), never the secret.
"""

from __future__ import annotations

import argparse
from typing import Any

from auth_core.errors import InvalidRequestError

__all__ = ["mfa_state", "register_mfa"]

LEVELS = ("off", "optional", "required")


def _store(args: argparse.Namespace) -> Any:
    from auth_core.stores.mfa import MfaStore  # noqa: PLC0415
    from authctl.users import _table  # noqa: PLC0415

    return MfaStore(_table(args, "users_table"))


def mfa_state(args: argparse.Namespace, username: str) -> dict[str, object]:
    """What ``users show`` prints of the user's second factor."""
    from auth_core.oauth.second_factor import describe  # noqa: PLC0415

    return dict(describe(_store(args).get(username)))


def cmd_users_mfa(args: argparse.Namespace) -> int:
    from authctl.admin import _confirm, _user_store, audit, emit  # noqa: PLC0415
    from authctl.audit import plan  # noqa: PLC0415
    from authctl.users import _revoker, _username  # noqa: PLC0415

    username = _username(args.username)
    user = _user_store(args).get(username)
    if user is None:
        raise InvalidRequestError("no such user")
    store = _store(args)
    if args.action == "policy":
        if args.level not in LEVELS:
            raise InvalidRequestError(f"users mfa policy: give one of {', '.join(LEVELS)}")
        plan(f"set the MFA policy of user {username} to {args.level}")
        if not store.set_policy(username, args.level):
            raise InvalidRequestError("the user went away meanwhile: nothing written")
        audit(args).record("OperatorUserMfaPolicySet", username=username, policy=args.level)
        return emit(args, {"username": username, "mfa_policy": args.level})
    if args.level is not None:
        raise InvalidRequestError("users mfa reset: takes no level")
    state = store.get(username)
    plan(
        f"reset MFA of user {username}: remove its TOTP secret ({'enrolled' if state.enrolled else 'none'}) "
        f"and its {state.recovery_left} recovery code(s), and end all its sessions"
    )
    _confirm(args, "reset")
    if not store.reset(username):
        raise InvalidRequestError("the user went away meanwhile: nothing written")
    revoker = _revoker(args)
    revoker.audit = audit(args)
    ended = revoker.logout_all(username)
    audit(args).record("OperatorUserMfaReset", username=username, user_id=user.user_id, families=ended)
    return emit(
        args,
        {
            "mfa_reset": username,
            "families_revoked": ended,
            "note": "the user enrols again at the next sign-in that requires a second factor",
        },
    )


def register_mfa(users: Any, with_tables: Any) -> None:
    p = with_tables(
        users.add_parser("mfa", help="a user's second factor: reset it, or set the user's MFA policy")
    )
    p.add_argument("action", choices=("reset", "policy"))
    p.add_argument("username")
    p.add_argument("level", nargs="?", help="for policy: off, optional or required")
    p.add_argument("--yes", action="store_true", help="confirm a reset")
    p.set_defaults(func=cmd_users_mfa)
