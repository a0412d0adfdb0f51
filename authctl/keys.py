"""``authctl keys``: rotate, list and revoke signing keys.

* ``keys rotate``: asks Secrets Manager to rotate the signing-key secret (``RotateSecret``: the
  rotation function runs the four steps). ``--direct`` runs the four steps in this process
  instead (local stack / moto, or a break-glass rotation with the operator's credentials).
* ``keys list``: kid, algorithm, status, dates, and whether the kid is published. Never key
  material.
* ``keys revoke KID --yes``: emergency revocation of one compromised key: it leaves both
  secrets and enters the revocation feed; revoking the active key also replaces ``next`` (see
  :meth:`auth_core.secrets_rotation.KeyRotator.revoke`).
* ``keys revoke --all --yes``: whole-secret compromise: every private key is replaced, every
  old kid leaves the JWKS and enters the feed, and every session and token ends
  (:meth:`~auth_core.secrets_rotation.KeyRotator.revoke_all`).

Secret ids come from ``--signing-secret`` / ``--jwks-secret``, else ``SIGNING_KEYS_SECRET_ID`` /
``PUBLIC_JWKS_SECRET_ID``, else ``--stack .local/stack.json`` (``signing_keys_secret_id``,
``public_jwks_secret_id``, ``aws_endpoint_url``, ``region``); the revocations table (``revoke``
only) from ``--revocations-table``, ``REVOCATIONS_TABLE`` or the stack's ``revocations_table``.

A failed revocation prints one line and exits non-zero (never a traceback): running the same
command again, or the next rotation, completes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

from auth_core import aws
from auth_core.errors import AuthError, ConfigurationError
from auth_core.keyset import KeySet
from auth_core.secrets_rotation import KeyRotator, RevocationOutcome
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from authctl.clock import aws_clock
from authctl.stack import load_stack

CURRENT = "AWSCURRENT"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keys`` command group."""
    keys = subparsers.add_parser("keys", help="signing keys: rotate, list, revoke")
    keys.add_argument("--signing-secret", help="signing-key secret id (default: $SIGNING_KEYS_SECRET_ID)")
    keys.add_argument("--jwks-secret", help="public JWKS secret id (default: $PUBLIC_JWKS_SECRET_ID)")
    keys.add_argument("--stack", default=argparse.SUPPRESS, help="path to .local/stack.json")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    rotate = sub.add_parser("rotate", help="rotate now (next -> active -> retired)")
    rotate.add_argument(
        "--direct", action="store_true", help="run the four rotation steps here instead of RotateSecret"
    )
    rotate.set_defaults(func=cmd_rotate)

    listing = sub.add_parser("list", help="kid, alg, status and dates of every key (no key material)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_list)

    revoke = sub.add_parser("revoke", help="EMERGENCY: revoke a compromised key (or --all) now")
    revoke.add_argument("kid", nargs="?", help="the compromised key id (see keys list)")
    revoke.add_argument(
        "--all", action="store_true", help="the whole secret leaked: replace every key and end every session"
    )
    revoke.add_argument(
        "--yes", action="store_true", help="confirm: tokens signed by the key(s) stop working"
    )
    revoke.add_argument(
        "--revocations-table", help="the revocations table (default: $REVOCATIONS_TABLE, or --stack)"
    )
    revoke.set_defaults(func=cmd_revoke)


# --------------------------------------------------------------------------- configuration
def _settings(args: argparse.Namespace, *, need_jwks: bool, need_revocations: bool = False) -> Settings:
    stack = load_stack(args)
    signing = (
        args.signing_secret
        or os.environ.get("SIGNING_KEYS_SECRET_ID", "").strip()
        or stack.get("signing_keys_secret_id", "")
    )
    jwks = (
        args.jwks_secret
        or os.environ.get("PUBLIC_JWKS_SECRET_ID", "").strip()
        or stack.get("public_jwks_secret_id", "")
    )
    if not signing:
        raise ConfigurationError(
            "no signing-key secret: use --signing-secret, SIGNING_KEYS_SECRET_ID or --stack"
        )
    if need_jwks and not jwks:
        raise ConfigurationError("no public JWKS secret: use --jwks-secret, PUBLIC_JWKS_SECRET_ID or --stack")
    revocations = (
        getattr(args, "revocations_table", None)
        or os.environ.get("REVOCATIONS_TABLE", "").strip()
        or stack.get("revocations_table", "")
    )
    if need_revocations and not revocations:
        raise ConfigurationError(
            "no revocations table (the revocation feed): "
            "use --revocations-table, REVOCATIONS_TABLE or --stack"
        )
    return Settings.from_env(
        signing_keys_secret_id=signing, public_jwks_secret_id=jwks, revocations_table=revocations
    )


def _date(value: int | None) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


def _published_kids(settings: Settings) -> frozenset[str] | None:
    if not settings.public_jwks_secret_id:
        return None
    text = aws.client("secretsmanager").get_secret_value(
        SecretId=settings.public_jwks_secret_id, VersionStage=CURRENT
    )["SecretString"]
    return frozenset(str(key.get("kid")) for key in json.loads(text).get("keys", []))


def _print_keys(keyset: KeySet, published: frozenset[str] | None) -> None:
    rows = [("KID", "ALG", "STATUS", "CREATED", "ACTIVATED", "RETIRED", "PUBLISHED")]
    for record in keyset.records:
        shown = "?" if published is None else ("yes" if record.kid in published else "NO")
        rows.append(
            (
                record.kid,
                record.key.alg,
                record.status,
                _date(record.created_at),
                _date(record.activated_at),
                _date(record.retired_at),
                shown,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# --------------------------------------------------------------------------- commands
def cmd_list(args: argparse.Namespace) -> int:
    """Print the key set (public facts only)."""
    settings = _settings(args, need_jwks=False)
    text = aws.client("secretsmanager").get_secret_value(
        SecretId=settings.signing_keys_secret_id, VersionStage=CURRENT
    )["SecretString"]
    keyset = KeySet.from_json(text)
    published = _published_kids(settings)
    if args.json:
        doc = [
            {
                "kid": r.kid,
                "alg": r.key.alg,
                "status": r.status,
                "created_at": r.created_at,
                "activated_at": r.activated_at,
                "retired_at": r.retired_at,
                "published": None if published is None else r.kid in published,
            }
            for r in keyset.records
        ]
        print(json.dumps(doc, indent=2))
    else:
        _print_keys(keyset, published)
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    """Rotate through Secrets Manager, or run the four steps here with ``--direct``."""
    settings = _settings(args, need_jwks=args.direct)
    if args.direct:
        version = KeyRotator.from_settings(settings).rotate_direct(settings.signing_keys_secret_id)
        print(f"rotated (direct): new AWSCURRENT version {version}")
    else:
        response = aws.client("secretsmanager").rotate_secret(SecretId=settings.signing_keys_secret_id)
        print(f"rotation requested: version {response.get('VersionId', '?')} (the rotation function runs it)")
    return 0


_RERUN = "No valid token was refused; re-run the same command to complete it"


def _describe(exc: BaseException) -> str:
    error = (getattr(exc, "response", None) or {}).get("Error") or {}
    if error.get("Code"):
        return f"{error['Code']}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def _bound(settings: Settings) -> str:
    return (
        f"verifiers and signers stop accepting/using it within the revocation feed interval "
        f"(REVOCATION_FEED_INTERVAL, {settings.revocation_feed_interval} s here) plus API Gateway's "
        f"authorizer result TTL (AuthorizerResultTtl)"
    )


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke ``KID`` (or ``--all``) in both secrets and the revocation feed."""
    if bool(args.kid) == bool(args.all):
        raise ConfigurationError("name one KID to revoke, or --all (not both)")
    settings = _settings(args, need_jwks=True, need_revocations=True)
    if not args.yes:
        if args.all:
            print(
                "Revoking --all replaces every signing key (new active and next), removes every old kid "
                "from the public JWKS, puts them in the revocation feed and ends every session and token: "
                f"every user must log in again; {_bound(settings)}. Re-run with --yes."
            )
        else:
            print(
                f"Revoking {args.kid} removes it from both key secrets and puts it in the revocation feed "
                f"(if it is the active key, next is replaced too): every access token it signed is refused; "
                f"{_bound(settings)}. Re-run with --yes."
            )
        return 1
    # revoked kids and the global cut-off are written on AWS's time, not the laptop's
    clock = aws_clock(aws.client("dynamodb"), settings.revocations_table)
    rotator = KeyRotator.from_settings(
        settings, revocations=RevocationStore(settings.revocations_table, clock=clock), clock=clock
    )
    what = "--all" if args.all else args.kid
    try:
        if args.all:
            outcome = rotator.revoke_all(settings.signing_keys_secret_id)
        else:
            outcome = rotator.revoke(settings.signing_keys_secret_id, args.kid)
    except AuthError as exc:
        if exc.reason == "kid_not_found":
            print(
                f"authctl: no key {args.kid} in the signing key set (see: authctl keys list)", file=sys.stderr
            )
        else:
            print(f"authctl: revoking {what} did not complete: {exc}. {_RERUN}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - AWS errors: one clear line, never a traceback
        print(f"authctl: revoking {what} did not complete: {_describe(exc)}. {_RERUN}", file=sys.stderr)
        return 2
    _report(outcome, settings, everything=args.all)
    return 0


def _report(outcome: RevocationOutcome, settings: Settings, *, everything: bool) -> None:
    keyset = outcome.keyset
    until = _date(outcome.until)
    print(f"revoked: {', '.join(outcome.kids) or '(nothing new)'} (in the revocation feed until {until})")
    print(f"now active: {keyset.active.kid if keyset.active else '-'}")
    print(f"now next:   {keyset.next.kid if keyset.next else '-'}")
    print(f"Tokens signed by the revoked keys are refused: {_bound(settings)}.")
    if everything:
        print(
            "Every session and every token issued before now has ended (global cut-off); users log in "
            "again. The refresh retry-cache secret was regenerated."
        )
    else:
        print(
            "If refresh tokens or other secrets may have leaked with it, end the affected users' "
            "sessions: authctl users logout-all USER (or revoke --all for a whole-secret leak)."
        )
    _print_keys(keyset, frozenset(r.kid for r in keyset.records))
