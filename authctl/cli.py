"""``authctl``: the operator CLI (keys, users, clients, sessions).

It talks to one deployment: a running local stack (``--stack .local/stack.json``), a deployed
CloudFormation stack (``--stack-name NAME``: names and settings from its functions'
configuration), or, with neither, the names in flags or exported variables (``USERS_TABLE``...)
and AWS's usual variables (``AWS_REGION``, ``AWS_PROFILE``). Secrets are never read from argv.
Each command group lives in its own module exposing ``register(subparsers)``; the deployment is
resolved in :mod:`authctl.context`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

#: command-group modules; each defines ``register(subparsers: argparse._SubParsersAction) -> None``
GROUPS = ("authctl.keys", "authctl.users")

EPILOG = """\
which deployment:
  --stack FILE         a running local stack: its endpoint, region, names and settings win over
                       every AWS_* variable of this shell
  --stack-name NAME    a deployed stack: names and settings from its functions' configuration
                       (IssueTokenFunction for users/clients/sessions, RotateKeysFunction for
                       keys; CloudFormation DescribeStackResource, Lambda GetFunctionConfiguration)
  --function NAME      the same from one function's configuration
  none of them         names from flags or USERS_TABLE, CLIENTS_TABLE, SESSIONS_TABLE,
                       REVOCATIONS_TABLE, SIGNING_KEYS_SECRET_ID, PUBLIC_JWKS_SECRET_ID; settings
                       are the defaults (said on stderr). A deployment named AND those variables
                       exported is an error: drop one.
  Settings (KEY_CACHE_TTL, MAX_ACCESS_TOKEN_LIFETIME, SIGNING_ALG...) are never read from this shell.
  Before the first write authctl prints where it goes on stderr:
    authctl: writing to <endpoint> (region <region>, account <account>)

errors: one line on stderr, "authctl: error: <what>", and the exit code:
  0  done
  1  it ran and failed: AWS unreachable or throttled, a rotation or revocation that did
     not complete (re-running is safe)
  2  it cannot run as given: usage, a missing name or confirmation (--yes), no region, no or
     refused credentials, access denied, an unknown user, client or key
"""

#: positional identifiers that must not be empty (DynamoDB refuses an empty key)
_IDENTIFIERS = ("username", "client_id", "family_id", "kid")


class CliParser(argparse.ArgumentParser):
    """argparse, with names that begin with ``-`` and no abbreviated options.

    Key ids are base64url thumbprints (about one in 64 begins with ``-``), and usernames and client
    ids may begin with one too: a word that is not exactly one of this command's options is a
    positional argument, not an unknown option. Abbreviations are off so ``--a`` can never mean
    ``--all``. A misspelt option is still refused (as an extra argument).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        """A usage mistake: one line (``authctl: error: ...``) and exit 2, no usage block."""
        self.exit(2, f"authctl: error: {self.prog}: {' '.join(message.split())} (see {self.prog} --help)\n")

    def _parse_optional(self, arg_string: str) -> Any:
        if arg_string == "--" or not arg_string.startswith("-"):
            return super()._parse_optional(arg_string)
        if arg_string in self._option_string_actions:
            return super()._parse_optional(arg_string)
        name, sep, _ = arg_string.partition("=")
        if sep and name in self._option_string_actions:
            return super()._parse_optional(arg_string)
        return None


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="authctl",
        description=(__doc__ or "authctl").splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", help="path to .local/stack.json (a running local stack)")
    parser.add_argument(
        "--stack-name", help="a deployed CloudFormation stack: names and settings from its functions"
    )
    parser.add_argument(
        "--function", help="a deployed function (name or ARN) whose configuration gives names and settings"
    )
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        # a group that does not import is a broken install: say so and stop (never drop its commands)
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise SystemExit(f"authctl: error: command group {name} failed to import ({reason})") from exc
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from authctl.context import EXIT_FAILED, EXIT_USAGE, Context, describe  # noqa: PLC0415

    for name in _IDENTIFIERS:
        value = getattr(args, name, None)
        if isinstance(value, str) and not value.strip():
            print(f"authctl: error: {name.upper()} must not be empty", file=sys.stderr)
            return EXIT_USAGE

    saved = dict(os.environ)  # a --stack run changes AWS_* for itself only
    ctx: Context | None = None
    try:
        ctx = Context.from_args(args)
        args.ctx = ctx
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("authctl: error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        known = describe(exc, ctx)
        if known is None:
            raise
        code, message = known
        print(f"authctl: error: {' '.join(message.split())}", file=sys.stderr)
        return code or EXIT_FAILED
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)


if __name__ == "__main__":
    raise SystemExit(main())
