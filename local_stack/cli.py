"""``auth-local`` / ``python -m local_stack``: the whole API on 127.0.0.1 without Docker.

* ``serve``  -- moto + the template's tables and secrets + keys (via the rotation function) + a
  demo user and client + every function behind an emulated HTTP API; writes ``.local/stack.json``.
* ``invoke FUNCTION EVENT`` -- one handler call, like ``sam local invoke``.
* ``demo``   -- login, ``/me``, refresh, revoke, ``/me`` refused, against the running stack.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from local_stack.stack import ROOT, LocalStack, StackOptions, parse_assignments

__all__ = ["build_parser", "main"]

_T0 = time.perf_counter()


#: The local stack's ``RouteScopes`` unless ``--param RouteScopes=...``: the sample events' route
#: ``DELETE /orders/{id}`` (not one of this API's routes) requires a scope the demo user lacks, so
#: ``events/*_deny.json`` are denied, as their names say, and every real route is unaffected.
LOCAL_ROUTE_SCOPES = '{"DELETE /orders/{id}": ["orders:admin"]}'


def _stack_options(args: argparse.Namespace) -> StackOptions:
    params = parse_assignments(args.param, "--param")
    try:
        has_route_scopes = "RouteScopes:" in Path(args.template).read_text(encoding="utf-8")
    except OSError:
        has_route_scopes = False  # load_template reports it
    if has_route_scopes:
        params.setdefault("RouteScopes", LOCAL_ROUTE_SCOPES)
    return StackOptions(
        template=Path(args.template),
        port=args.port,
        moto_port=args.moto_port if args.moto_port is not None else (5000 if args.command == "serve" else 0),
        moto_port_fallback=args.moto_port is None,
        params=params,
        env=parse_assignments(args.env, "--env"),
        state_dir=Path(args.state_dir),
        warm=not args.no_warm,
        reset=bool(getattr(args, "reset", False)),
    )


def _check_moto_port(args: argparse.Namespace, host: str = "127.0.0.1") -> None:
    """An explicit ``--moto-port`` that is taken: say which port and which option (make variable)."""
    from local_stack.moto_backend import port_free  # noqa: PLC0415 - standard library only at import

    if args.moto_port and not port_free(host, args.moto_port):
        raise OSError(
            f"moto port {args.moto_port} on {host} is in use: choose another with --moto-port N "
            "(make local MOTO_PORT=N), or 0 for any free port; events/env.json's AWS_ENDPOINT_URL "
            "must then use that port"
        )


def function_log_filter(verbose: bool) -> Callable[[str], None]:
    """The functions' log lines to echo: all with ``--verbose``, else only errors and tracebacks
    (the gateway already logs one line per request)."""

    def echo(line: str) -> None:
        if verbose or _ERROR_LINE.search(line):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    return echo


_ERROR_LINE = re.compile(
    r'"level"\s*:\s*"(ERROR|CRITICAL)"|\bERROR\b|Traceback|Error:'
    r'|^\[\w+\]\s+File "|^\[\w+\]\s+\w+Error\b'
)


def _add_stack_args(p: argparse.ArgumentParser, *, port: int) -> None:
    p.add_argument(
        "--template", default=str(ROOT / "template.yaml"), help="SAM template (default: %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=port, help="HTTP port on 127.0.0.1, 0 = any free (default %(default)s)"
    )
    p.add_argument(
        "--moto-port",
        type=int,
        default=None,
        help="moto server port, 0 = any free (default: 5000 for serve, as events/env.json expects, "
        "else any free)",
    )
    p.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="template parameter override (repeatable)"
    )
    p.add_argument(
        "--env",
        action="append",
        metavar="[FUNCTION.]VAR=VALUE",
        help="environment override for every function, or one function (repeatable)",
    )
    p.add_argument(
        "--state-dir",
        default=str(ROOT / ".local"),
        help="where stack.json and the persisted state (state.json, demo.json) go (default %(default)s)",
    )
    p.add_argument("--no-warm", action="store_true", help="start execution environments on first use only")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auth-local",
        description="The whole API on 127.0.0.1 without Docker: moto plus the SAM template's functions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API on 127.0.0.1 (Ctrl-C stops)")
    _add_stack_args(serve, port=3000)
    serve.add_argument("--quiet-functions", action="store_true", help="do not echo the functions' logs")
    serve.add_argument(
        "--verbose",
        action="store_true",
        help="echo every log line of the functions (default: one line per request, plus errors)",
    )
    serve.add_argument(
        "--reset",
        action="store_true",
        help="forget the users, clients, sessions and keys kept in --state-dir (make local RESET=1)",
    )
    serve.set_defaults(func=cmd_serve)

    invoke = sub.add_parser("invoke", help="invoke one function with an event file (like sam local invoke)")
    invoke.add_argument("function", help="template logical id (IssueTokenFunction) or code dir (issue_token)")
    invoke.add_argument("event", help="event JSON file; {{access_token}}-style placeholders are filled in")
    invoke.add_argument(
        "--keep-domain",
        action="store_true",
        help="keep the event's domainName instead of the local stack's (issuer checks)",
    )
    _add_stack_args(invoke, port=0)
    invoke.set_defaults(func=cmd_invoke)

    demo = sub.add_parser("demo", help="walk login -> /me -> refresh -> revoke -> /me refused")
    demo.add_argument(
        "--state-dir", default=str(ROOT / ".local"), help="where the running stack's stack.json is"
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def _print_banner(stack: LocalStack, info: dict[str, Any]) -> None:
    api = info["api_url"]
    lines = [
        "",
        f"  Local stack ready in {info['startup_seconds']:.2f} s "
        f"(first request served: {info.get('first_request', 'n/a')}; process start to here "
        f"{time.perf_counter() - _T0:.2f} s)",
        f"  API          {api}",
        f"  AWS (moto)   {info['aws_endpoint_url']}   region {info['region']}",
        f"  issuer       {info['issuer']}",
    ]
    if "username" in info:
        lines += [
            f"  demo user    {info['username']} / {info['password']}",
            f"  demo client  {info['client_id']} / {info['client_secret']}",
        ]
    if "spa_client_id" in info:
        lines += [
            f"  browser app  {info['demo_url']}   (public client {info['spa_client_id']}: "
            "code flow with PKCE, no secret)",
        ]
    lines += ["  routes       " + ", ".join(info["routes"])]
    if stack.options.state_dir is not None:
        lines.append(
            f"  written      {stack.options.state_dir / 'stack.json'} (endpoints, names, demo credentials)"
        )
    lines += [
        "",
        "  Try:",
        f"    curl -s {api}/.well-known/openid-configuration",
        f"    curl -s -u '{info.get('client_id', 'CLIENT')}:{info.get('client_secret', 'SECRET')}' "
        f"-d grant_type=password -d username={info.get('username', 'USER')} "
        f"-d password='{info.get('password', 'PASSWORD')}' {api}/token",
        f'    curl -s -H "Authorization: Bearer $ACCESS_TOKEN" {api}/me',
        "    python -m local_stack demo",
        "    python -m local_stack invoke JwksFunction events/<event>.json",
        "  With Docker, SAM runs the same functions against this moto:",
        "    sam build && sam local invoke IssueTokenFunction -e events/<event>.json"
        " --env-vars events/env.json",
        "    (env.json's AWS_ENDPOINT_URL must be "
        f"{info['aws_endpoint_url'].replace('127.0.0.1', 'host.docker.internal')})",
        "  Ctrl-C stops.",
        "",
    ]
    print("\n".join(lines), flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    options = _stack_options(args)
    if args.quiet_functions:
        options.function_log = lambda _line: None
    else:
        options.function_log = function_log_filter(args.verbose)
    _check_moto_port(args, options.host)
    stack = LocalStack(options)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        info = stack.start()
        _print_banner(stack, info)
        while not stop.wait(0.2):
            pass
    finally:
        print("stopping local stack...", file=sys.stderr, flush=True)
        stack.stop()
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from local_stack.apigw import InvocationError  # noqa: PLC0415
    from local_stack.invoke import invoke_command  # noqa: PLC0415 - keeps `serve` start-up lean

    try:
        result = invoke_command(args, _stack_options(args))
    except InvocationError as exc:
        if exc.error_type == "Exception" and exc.message == "Unauthorized":
            # An authorizer's refusal is an answer (API Gateway turns it into a 401), not a crash.
            print(json.dumps({"errorType": "Exception", "errorMessage": "Unauthorized"}, indent=2))
            print("auth-local: the authorizer refused the request (API Gateway answers 401)", file=sys.stderr)
            return 0
        raise
    print(json.dumps(result, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from local_stack.demo import run_demo  # noqa: PLC0415

    return run_demo(Path(args.state_dir))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from local_stack.apigw import InvocationError  # noqa: PLC0415
    from local_stack.cfn import TemplateError  # noqa: PLC0415

    try:
        return int(args.func(args) or 0)
    except (TemplateError, InvocationError, OSError, json.JSONDecodeError) as exc:
        print(f"auth-local: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
