"""``authctl keys``: rotate, list and revoke signing keys.

* ``keys rotate``: asks Secrets Manager to rotate the signing-key secret (``RotateSecret``: the
  rotation function runs the four steps). ``--direct`` runs the four steps in this process
  instead (local stack / moto, or a break-glass rotation with the operator's credentials).
* ``keys list``: kid, algorithm, status, dates, and whether the kid is published. Never key
  material.
* ``keys revoke KID --yes``: emergency removal of a compromised key from both secrets at once
  (see :meth:`auth_core.secrets_rotation.KeyRotator.revoke`).

Secret ids come from ``--signing-secret`` / ``--jwks-secret``, else ``SIGNING_KEYS_SECRET_ID`` /
``PUBLIC_JWKS_SECRET_ID``, else ``--stack .local/stack.json`` (``signing_keys_secret_id``,
``public_jwks_secret_id``, ``aws_endpoint_url``, ``region``).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime

from auth_core import aws
from auth_core.errors import ConfigurationError
from auth_core.keyset import KeySet
from auth_core.secrets_rotation import KeyRotator
from auth_core.settings import Settings
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

    revoke = sub.add_parser("revoke", help="EMERGENCY: remove a compromised key from the JWKS now")
    revoke.add_argument("kid")
    revoke.add_argument("--yes", action="store_true", help="confirm: tokens signed by KID stop verifying")
    revoke.set_defaults(func=cmd_revoke)


# --------------------------------------------------------------------------- configuration
def _settings(args: argparse.Namespace, *, need_jwks: bool) -> Settings:
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
    return Settings.from_env(signing_keys_secret_id=signing, public_jwks_secret_id=jwks)


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


def cmd_revoke(args: argparse.Namespace) -> int:
    """Remove ``KID`` from both secrets now; signing moves to a fresh key."""
    settings = _settings(args, need_jwks=True)
    if not args.yes:
        print(
            f"Revoking {args.kid} removes it from the public JWKS now: every access token it signed "
            f"stops verifying within KEY_CACHE_TTL ({settings.key_cache_ttl} s). Re-run with --yes."
        )
        return 1
    keyset = KeyRotator.from_settings(settings).revoke(settings.signing_keys_secret_id, args.kid)
    print(f"revoked {args.kid}; tokens it signed stop verifying within {settings.key_cache_ttl} s.")
    print("Also consider bumping tokens_valid_after for affected users (authctl users ...).")
    _print_keys(keyset, frozenset(r.kid for r in keyset.records))
    return 0
