"""``authctl``: the operator CLI (keys, users, clients, sessions).

It talks to real AWS or to the local stack through the standard AWS environment variables
(``AWS_REGION``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL``). Secrets are never read from argv.
Each command group lives in its own module exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: command-group modules; each defines ``register(subparsers: argparse._SubParsersAction) -> None``
GROUPS = ("authctl.keys", "authctl.users")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authctl", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="path to .local/stack.json (local stack endpoints and names)")
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from auth_core.errors import AuthError  # noqa: PLC0415

    try:
        return int(args.func(args) or 0)
    except AuthError as exc:
        print(f"authctl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
