"""``authctl keys``: rotate, list and revoke signing keys.

* ``keys rotate``: asks Secrets Manager to rotate the signing-key secret (``RotateSecret``: the
  rotation function runs the four steps), then watches the new version for up to ``--wait``
  seconds and says what happened: the promoted kid, or why nothing was promoted and from when it
  can be. ``--direct`` runs the four steps in this process instead (local stack / moto, or a
  break-glass rotation with the operator's credentials), with the deployment's settings.
* ``keys list``: kid, lineage (``main``, or ``id_token`` for the RS256 keys kept for ID tokens
  when ``SIGNING_ALG`` is not RS256), algorithm, status, dates, and whether the kid is
  published. Never key material.
* ``keys revoke KID --yes``: emergency revocation of one compromised key: it leaves both
  secrets and enters the revocation feed; revoking the active key also replaces ``next`` (see
  :meth:`auth_core.secrets_rotation.KeyRotator.revoke`).
* ``keys revoke --all --yes``: whole-secret compromise: every private key is replaced, every
  old kid leaves the JWKS and enters the feed, and every session and token ends
  (:meth:`~auth_core.secrets_rotation.KeyRotator.revoke_all`).

Secret ids come from ``--signing-secret`` / ``--jwks-secret``, else the deployment
(``--stack .local/stack.json``, ``--stack-name`` or ``--function``: the rotation function's
configuration), else (no deployment named) ``SIGNING_KEYS_SECRET_ID`` / ``PUBLIC_JWKS_SECRET_ID``;
the revocations table likewise (``--revocations-table``, ``REVOCATIONS_TABLE``). Settings
(``KEY_CACHE_TTL``, ``SIGNING_ALG``, ``MAX_ACCESS_TOKEN_LIFETIME``...) are the deployed
rotation function's, never the operator's shell (see :mod:`authctl.context`).

Every failure prints one line and exits non-zero (never a traceback); a failed revocation is
completed by running the same command again, or by the next rotation.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from auth_core import aws
from auth_core.errors import AuthError
from auth_core.keyset import ID_TOKEN, KeySet
from auth_core.keystore import CURRENT, PENDING
from auth_core.secrets_rotation import KeyRotator, RevocationOutcome
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from authctl.clock import aws_clock
from authctl.context import EXIT_FAILED, EXIT_USAGE, CliError, context, describe

#: seconds ``keys rotate`` watches the rotation function by default
DEFAULT_WAIT = 30.0
_POLL = 1.0

ROTATE_HELP = """\
Without --direct: RotateSecret, then watch the new version for up to --wait seconds (default
30; 0: do not watch) and say what happened: the promoted kid, or why nothing was promoted
(the next key is younger than the deployment's KEY_CACHE_TTL) and from when it can be.
Exit 0 when the rotation finished (promoted or not), 1 when it failed or did not finish in
time (check: authctl keys list, and the RotateKeysFunction's logs).

With --direct: the four steps run here, with the deployed rotation function's settings
(SIGNING_ALG, KEY_CACHE_TTL...: from --stack, --stack-name or --function; the defaults, said
on stderr, when none is given), never this shell's.
"""

# indirections for tests
_sleep = time.sleep
_monotonic = time.monotonic


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keys`` command group."""
    keys = subparsers.add_parser("keys", help="signing keys: rotate, list, revoke")
    keys.add_argument("--signing-secret", help="signing-key secret id (default: from the deployment)")
    keys.add_argument("--jwks-secret", help="public JWKS secret id (default: from the deployment)")
    keys.add_argument("--stack", default=argparse.SUPPRESS, help="path to .local/stack.json")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    rotate = sub.add_parser(
        "rotate",
        help="rotate now (next -> active -> retired)",
        description=ROTATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate.add_argument(
        "--direct", action="store_true", help="run the four rotation steps here instead of RotateSecret"
    )
    rotate.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help="how long to watch a RotateSecret rotation finish (default %(default)s; 0: do not watch)",
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
        "--revocations-table",
        help="the revocations table (default: from the deployment, or $REVOCATIONS_TABLE)",
    )
    revoke.set_defaults(func=cmd_revoke)


# --------------------------------------------------------------------------- configuration
def _settings(args: argparse.Namespace, *, need_jwks: bool, need_revocations: bool = False) -> Settings:
    """The deployed rotation function's settings, with the secret ids and table resolved."""
    ctx = context(args)
    signing = ctx.name("signing_keys_secret_id", args.signing_secret, flag="--signing-secret")
    jwks = ctx.name("public_jwks_secret_id", args.jwks_secret, flag="--jwks-secret", required=need_jwks)
    revocations = ctx.name(
        "revocations_table",
        getattr(args, "revocations_table", None),
        flag="--revocations-table",
        required=need_revocations,
    )
    settings: Settings = ctx.settings(
        "keys", signing_keys_secret_id=signing, public_jwks_secret_id=jwks, revocations_table=revocations
    )
    return settings


def _date(value: float | None) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


def _published_kids(settings: Settings) -> frozenset[str] | None:
    if not settings.public_jwks_secret_id:
        return None
    text = aws.client("secretsmanager").get_secret_value(
        SecretId=settings.public_jwks_secret_id, VersionStage=CURRENT
    )["SecretString"]
    return frozenset(str(key.get("kid")) for key in json.loads(text).get("keys", []))


def _current(settings: Settings) -> KeySet:
    text = aws.client("secretsmanager").get_secret_value(
        SecretId=settings.signing_keys_secret_id, VersionStage=CURRENT
    )["SecretString"]
    return KeySet.from_json(text)


def _print_keys(keyset: KeySet, published: frozenset[str] | None) -> None:
    rows = [("KID", "LINEAGE", "ALG", "STATUS", "CREATED", "ACTIVATED", "RETIRED", "PUBLISHED")]
    for record in keyset.records:
        shown = "?" if published is None else ("yes" if record.kid in published else "NO")
        rows.append(
            (
                record.kid,
                record.lineage,
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
    keyset = _current(settings)
    published = _published_kids(settings)
    if args.json:
        doc = [
            {
                "kid": r.kid,
                "lineage": r.lineage,
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
    """Rotate through Secrets Manager, or run the four steps here with ``--direct``; say what
    happened (see :data:`ROTATE_HELP`)."""
    settings = _settings(args, need_jwks=args.direct)
    before = _current(settings)
    context(args).announce_write("secretsmanager")
    secret_id = settings.signing_keys_secret_id
    if args.direct:
        try:
            version = KeyRotator.from_settings(settings).rotate_direct(secret_id)
        except Exception as exc:
            error = _failed("the rotation", exc, "The keys in use are unchanged; re-run it")
            if error is None:
                raise
            raise error from exc
        print(f"rotated (direct): new AWSCURRENT version {version}")
        _report_rotation(before, _current(settings), settings)
        return 0
    response = aws.client("secretsmanager").rotate_secret(SecretId=secret_id)
    version = str(response.get("VersionId") or "")
    print(f"rotation requested: version {version or '?'} (the rotation function runs it)")
    if args.wait <= 0 or not version:
        print("not watched (--wait 0): check with authctl keys list, or the rotation function's logs")
        return 0
    state = _watch(secret_id, version, args.wait)
    if state == "failed":
        raise CliError(
            f"the rotation of version {version} did not complete: it was refused or abandoned (another "
            "key operation may have won); the keys are unchanged. Check the rotation function's logs and "
            "run authctl keys rotate again",
            EXIT_FAILED,
        )
    if state != "current":
        raise CliError(
            f"the rotation of version {version} had not finished after {args.wait:g} s: check "
            "authctl keys list in a moment, and the rotation function's (RotateKeysFunction) logs",
            EXIT_FAILED,
        )
    _report_rotation(before, _current(settings), settings)
    return 0


def _watch(secret_id: str, version: str, wait: float) -> str:
    """``current`` once ``version`` holds AWSCURRENT, ``failed`` when it lost AWSPENDING without
    becoming current, else ``pending`` after ``wait`` seconds."""
    sm = aws.client("secretsmanager")
    deadline = _monotonic() + wait
    while True:
        stages = sm.describe_secret(SecretId=secret_id).get("VersionIdsToStages") or {}
        labels = stages.get(version) or []
        if CURRENT in labels:
            return "current"
        if PENDING not in labels:
            return "failed"
        left = deadline - _monotonic()
        if left <= 0:
            return "pending"
        _sleep(min(_POLL, left))


def _report_rotation(before: KeySet, after: KeySet, settings: Settings) -> None:
    """What the rotation did: the promoted kid, or why nothing was promoted and from when."""
    ttl = settings.key_cache_ttl
    now = time.time()
    _report_id_token_key(after)
    active, upcoming = after.active, after.next
    if before.active is None:
        print(
            f"first keys: {active.kid if active else '-'} is active, {upcoming.kid if upcoming else '-'} "
            "is next"
        )
        return
    if active is not None and active.kid != before.active.kid:
        print(f"promoted: {active.kid} is now the active key ({before.active.kid} retired)")
        fresh = upcoming.kid if upcoming else "-"
        print(f"new next: {fresh} (it can be promoted from {_ready(upcoming, ttl)})")
        return
    print(f"nothing promoted: {before.active.kid} stays the active key")
    old = before.next
    if old is None:
        print(
            f"why: there was no next key; this rotation created {upcoming.kid if upcoming else '-'}, "
            f"which can be promoted from {_ready(upcoming, ttl)} (KEY_CACHE_TTL {ttl} s after its "
            "creation): run authctl keys rotate again then"
        )
    elif now - old.created_at < ttl:
        print(
            f"why: the next key {old.kid} is {max(0, int(now - old.created_at))} s old, younger than the "
            f"deployment's KEY_CACHE_TTL ({ttl} s): verifiers may not hold it yet. It can be promoted "
            f"from {_ready(old, ttl)}: run authctl keys rotate again then (the scheduled rotation will too)"
        )
    else:
        print(
            f"why: the next key {old.kid} was not in the public JWKS; this rotation published it. "
            f"It can be promoted from {_date(now + ttl)}: run authctl keys rotate again then"
        )


def _report_id_token_key(keyset: KeySet) -> None:
    """Which key signs ID tokens (RS256 whatever SIGNING_ALG is), or why none does yet."""
    try:
        kid = keyset.get_id_token_key().kid
    except AuthError:
        upcoming = keyset.next_of(ID_TOKEN)
        print(
            "ID tokens: no RS256 key can sign them yet; the ID-token key "
            f"{upcoming.kid if upcoming else '-'} is published and the next rotation promotes it"
        )
        return
    where = "the ID-token lineage" if keyset.active_of(ID_TOKEN) is not None else "the active key"
    print(f"ID tokens: signed by {kid} ({where})")


def _ready(record: Any, ttl: int) -> str:
    return _date(record.created_at + ttl) if record is not None else "-"


_RERUN = "No valid token was refused; re-run the same command to complete it"


def _failed(what: str, exc: BaseException, hint: str) -> CliError | None:
    """``exc`` as one line that says ``what`` did not complete (``None``: a bug, let it raise)."""
    known = describe(exc)
    if known is None:
        return None
    code, text = known
    return CliError(f"{what} did not complete: {text.rstrip('.')}. {hint}", code)


def _bound(settings: Settings) -> str:
    return (
        f"verifiers and signers stop accepting/using it within the revocation feed interval "
        f"(REVOCATION_FEED_INTERVAL, {settings.revocation_feed_interval} s) plus API Gateway's "
        f"authorizer result TTL (AuthorizerResultTtl)"
    )


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke ``KID`` (or ``--all``) in both secrets and the revocation feed."""
    if bool(args.kid) == bool(args.all):
        raise CliError("name one KID to revoke, or --all (not both)", EXIT_USAGE)
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
        raise CliError("not confirmed: nothing was revoked (re-run with --yes)", EXIT_USAGE)
    context(args).announce_write("secretsmanager", "dynamodb")
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
            unknown = f"no key {args.kid} in the signing key set (see: authctl keys list)"
            raise CliError(unknown, EXIT_USAGE) from exc
        error = _failed(f"revoking {what}", exc, _RERUN)
        if error is None:
            raise
        raise error from exc
    except Exception as exc:
        error = _failed(f"revoking {what}", exc, _RERUN)
        if error is None:
            raise
        raise error from exc
    _report(outcome, settings, everything=args.all)
    return 0


def _report(outcome: RevocationOutcome, settings: Settings, *, everything: bool) -> None:
    keyset = outcome.keyset
    until = _date(outcome.until)
    print(f"revoked: {', '.join(outcome.kids) or '(nothing new)'} (in the revocation feed until {until})")
    print(f"now active: {keyset.active.kid if keyset.active else '-'}")
    print(f"now next:   {keyset.next.kid if keyset.next else '-'}")
    if keyset.lineage(ID_TOKEN):
        id_active, id_next = keyset.active_of(ID_TOKEN), keyset.next_of(ID_TOKEN)
        print(f"now ID-token active: {id_active.kid if id_active else '-'}")
        print(f"now ID-token next:   {id_next.kid if id_next else '-'}")
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
