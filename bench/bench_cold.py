"""Cold start of the HTTP functions and the authorizer: import, then first request, in fresh interpreters.

Each sample is a new interpreter started as Lambda starts one: isolated (``-I -S``: no site, no
editable-install hooks), with only the function's directory, the layer and the dependencies'
site-packages on ``sys.path`` (``/var/task`` and ``/opt/python`` in Lambda). It times

* ``import app`` -- wall and CPU (``process_time``, less sensitive to neighbours on a shared
  machine), the figure of issue 11 (target: <= 100 ms);
* the first request -- ``lambda_handler`` on the function's sample event (``events/``) against a
  moto server on 127.0.0.1 seeded with the four tables, both secrets, a user and two clients.
  Whatever the import defers and the first request needs shows up here, so no cost is merely moved.

Baseline rows, measured in the same run and the same way: a bare interpreter, ``import boto3``,
Powertools' whole ``event_handler`` package and Powertools ``Logger`` + ``Metrics``.
``--also DIR`` measures another checkout's functions and layer interleaved with this one (e.g.
``git archive <rev> functions layers | tar -x -C DIR`` for a before/after table).
``--tracing`` adds, interleaved, every function with ``TRACING=true`` as Lambda runs it with
active tracing (``LAMBDA_TASK_ROOT`` and a sampled ``_X_AMZN_TRACE_ID`` set, so the Powertools
Tracer is enabled, patches botocore and sends its segments over UDP to 127.0.0.1:2000, where
nothing listens), and a baseline row for the tracer alone: the cost of TracingEnabled=true.

Samples are interleaved (one of each per round) and medians are printed; nothing is asserted.

    PYTHONPATH=$PWD/layers/auth_core:$PWD .venv/bin/python bench/bench_cold.py [--samples 7] \
        [--also DIR] [--tracing]

The first request of ``/token`` is a ``client_credentials`` grant (a login adds one Argon2id
verification, ~the same in every version); ``/refresh`` rotates a token minted in this process.
The authorizer's runs on scoped routes (``AUTHORIZER_ENV``), and its answer must allow the sample
event's route as API Gateway would judge it (``authorizer_status``), or the bench stops.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import sysconfig
import time
import types  # noqa: F401 - CONTEXT is evaluated here too
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "auth_core")]

from tests.functional.authorizer.conftest import evaluate_policy, event_arn  # noqa: E402
from tests.functional.oauth.conftest import AUD, ISS, TABLES  # noqa: E402 - needs sys.path

#: function -> (sample event, its placeholders: filled per sample by ``_event``)
FUNCTIONS = {
    "issue_token": "issue_token_client_credentials.json",
    "refresh_token": "refresh_token_rotate.json",
    "revoke_token": "revoke_token_access.json",
    "introspect_token": "introspect_token_access.json",
    "me": "me_authorized.json",
    "jwks": "jwks_jwks.json",
    "authorize": "authorize_sign_in_page.json",
    "userinfo": "userinfo_unauthorized.json",
    "account": "account_verify_refused.json",
    "authorizer": "authorizer_http_v2_allow.json",
}
#: Functions whose sample event is a refusal, and its status: the request still runs the whole
#: path (settings, stores, the pending sign-up's read) before it refuses.
REFUSED = {"account": 400}
BASELINES = {
    "python (bare interpreter)": "pass",
    "import boto3": "import boto3",
    "Powertools event_handler (whole package)": "import aws_lambda_powertools.event_handler",
    "Powertools Logger + Metrics": "from aws_lambda_powertools import Logger, Metrics",
}
#: The handlers' environment (tables and secrets as ``tests/functional/oauth/conftest.py`` makes them).
ENV = {
    **dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "testing"),
    **dict.fromkeys(("AWS_REGION", "AWS_DEFAULT_REGION"), "us-east-1"),
    **{setting.upper(): table for setting, (table, _key) in TABLES.items()},
    "ISSUER": ISS,
    "AUDIENCE": AUD,
    "SIGNING_KEYS_SECRET_ID": "jwt/signing-keys",
    "PUBLIC_JWKS_SECRET_ID": "jwt/public-jwks",
    # The template's LogLevel (INFO), as Lambda passes it: every function logs what it would deployed.
    "AWS_LAMBDA_LOG_LEVEL": "INFO",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "LANG": "C.UTF-8",
    # The template's authorizer answer (EnableSimpleResponses: false on the HTTP API authorizer).
    "AUTHORIZER_RESPONSE_FORMAT": "iam",
}
#: The authorizer's scoped routes (the template's ``RouteScopes``), so its first request takes the
#: scoped path and answers with the policy shape of a deployment that uses scopes: the sample
#: event's ``GET /me`` needs ``read``, which the measured token holds (a password grant with
#: ``scope=read``, see ``Seeder.event``); ``POST /orders`` needs ``write``, which it lacks, so the
#: policy carries a Deny statement too. ``authorizer_status`` then checks the route is allowed.
AUTHORIZER_ENV = {"ROUTE_SCOPES": json.dumps({"GET /me": ["read"], "POST /orders": ["write"]})}
#: What Lambda sets with active tracing (a sampled trace header); the daemon address is loopback.
TRACING_ENV = {
    "TRACING": "true",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}
TRACER_BASELINE = (
    "Powertools Tracer (X-Ray SDK, patching)",
    "from aws_lambda_powertools import Tracer; Tracer(service='bench')",
)
#: A Lambda context: what Logger.inject_lambda_context and the deadline read.
CONTEXT = (
    "types.SimpleNamespace(function_name='bench', function_version='$LATEST', memory_limit_in_mb=512, "
    "invoked_function_arn='arn:aws:lambda:us-east-1:123456789012:function:bench', aws_request_id='bench', "
    "get_remaining_time_in_millis=lambda: 10_000)"
)

#: Runs in the fresh interpreter. Prints one JSON line on stdout's last line.
CHILD = """
import json, sys, time, types
sys.path[:0] = {path!r}
w0, c0 = time.perf_counter(), time.process_time()
{statement}
w1, c1 = time.perf_counter(), time.process_time()
out = {{"import_ms": (w1 - w0) * 1000, "import_cpu_ms": (c1 - c0) * 1000}}
event = {event!r}
if event is not None:
    response = app.lambda_handler(event, {context})
    w2, c2 = time.perf_counter(), time.process_time()
    # The authorizer answers with a policy or a simple answer, not an HTTP response: the parent
    # judges it (``authorizer_status``).
    status = response.get("statusCode")
    out.update(first_ms=(w2 - w1) * 1000, first_cpu_ms=(c2 - c1) * 1000, status=status,
               answer=None if status is not None else response, boto3="boto3" in sys.modules)
sys.stdout.write("\\n" + json.dumps(out) + "\\n")
"""


def authorizer_status(response: dict[str, Any], event: dict[str, Any]) -> int:
    """The status API Gateway answers for ``event``'s route given the authorizer's ``response``:
    200 when it allows the route, 403 when it refuses it.

    An IAM answer always has a ``principalId``: a token lacking the route's scope gets the same
    policy shape, whose Deny covers the route. So the policy is evaluated for the event's
    ``routeArn``/``methodArn`` as API Gateway does it (an explicit Deny wins, then an Allow), by
    the tests' own evaluator. A simple answer allows only with ``isAuthorized: true``. (A 401 is
    the authorizer raising ``Unauthorized``: the child fails, and the bench with it.)
    """
    if "policyDocument" in response:
        return 200 if evaluate_policy(response, event_arn(event)) == "allow" else 403
    return 200 if response.get("isAuthorized") is True else 403


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    path: list[str], statement: str, event: dict[str, Any] | None, env: dict[str, str]
) -> dict[str, Any]:
    code = CHILD.format(path=path, statement=statement, event=event, context=CONTEXT)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{statement!r} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


class Seeder:
    """The moto server's state and fresh tokens for the events that need one (minted in-process
    by the real handlers, so every sample gets an unused refresh token)."""

    def __init__(self) -> None:
        from auth_core.passwords import PasswordHasher
        from tests.functional.oauth.conftest import BACKEND_SECRET, make_stack

        with contextlib.redirect_stdout(io.StringIO()):
            stack = make_stack()
            stack.add_user(hasher=PasswordHasher())
            # the sample /authorize event's client: the code flow, with the loopback redirect
            stack.add_client(
                grants=("password", "refresh_token", "authorization_code"),
                redirect_uris=("http://127.0.0.1/demo/",),
                scopes=("openid", "profile", "read", "write"),
            )
            stack.add_client(
                "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",)
            )
            import functions.issue_token.app as issue

        self.issue = issue
        self.backend_secret = BACKEND_SECRET

    def _token(self, event_name: str, scope: str | None = None, **values: str) -> dict[str, Any]:
        from tests.functional.oauth.helpers import sample_event

        request = sample_event(event_name, **values)
        if scope is not None:
            request["body"] = request["body"].replace("scope=read", "scope=" + scope.replace(" ", "+"))
        with contextlib.redirect_stdout(io.StringIO()):
            response = self.issue.lambda_handler(request, eval(CONTEXT))  # noqa: S307
        if response["statusCode"] != 200:
            raise RuntimeError(f"seeding: {response}")
        return dict(json.loads(response["body"]))

    def event(self, function: str) -> dict[str, Any]:
        from tests.functional.oauth.helpers import load_event, sample_event

        backend = {"client_id": "backend-svc", "client_secret": self.backend_secret}
        if function == "issue_token":
            return sample_event(FUNCTIONS[function], **backend)
        if function == "refresh_token":
            pair = self._token("issue_token_password.json")
            return sample_event(FUNCTIONS[function], refresh_token=pair["refresh_token"])
        if function in ("revoke_token", "introspect_token"):
            access = self._token("issue_token_client_credentials.json", **backend)["access_token"]
            return sample_event(FUNCTIONS[function], access_token=access, **backend)
        if function == "authorizer":  # the sample's {{access_token}}: a real token of this stack
            access = self._token("issue_token_password.json")["access_token"]
            text = json.dumps(load_event(FUNCTIONS[function]))
            return dict(json.loads(text.replace("{{access_token}}", access)))
        if function == "userinfo":  # the sample is the refusal; measure an answer with a real token
            event = dict(load_event(FUNCTIONS[function]))
            access = self._token("issue_token_password.json", scope="openid")["access_token"]
            event["headers"] = {**event["headers"], "authorization": f"Bearer {access}"}
            return event
        return dict(load_event(FUNCTIONS[function]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=7, help="fresh interpreters per row")
    parser.add_argument(
        "--also", type=Path, help="another checkout (functions/, layers/) to measure alongside"
    )
    parser.add_argument("--functions", nargs="*", default=list(FUNCTIONS), choices=list(FUNCTIONS))
    parser.add_argument("--tracing", action="store_true", help="also measure TRACING=true (X-Ray)")
    args = parser.parse_args()

    import logging
    import warnings

    from moto.server import ThreadedMotoServer

    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(ENV, AWS_ENDPOINT_URL=endpoint, KEY_FETCH_STRATEGY="auto")
    child_env = {**ENV, "AWS_ENDPOINT_URL": endpoint, "PATH": os.environ.get("PATH", "")}
    site = sysconfig.get_paths()["purelib"]
    trees = {"this checkout": ROOT, **({str(args.also): args.also.resolve()} if args.also else {})}
    # label -> (tree, extra environment): each tree as deployed, and with tracing on if asked
    variants = {label: (tree, {}) for label, tree in trees.items()}
    if args.tracing:
        variants["tracing on"] = (ROOT, TRACING_ENV)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    try:
        seeder = Seeder()
        for _ in range(args.samples):
            for name, statement in BASELINES.items():
                runs.setdefault(("baseline", name), []).append(_run([site], statement, None, child_env))
            if args.tracing:
                name, statement = TRACER_BASELINE
                env = {**child_env, **TRACING_ENV, "LAMBDA_TASK_ROOT": str(ROOT)}
                runs.setdefault(("baseline", name), []).append(_run([site], statement, None, env))
            for function in args.functions:
                for label, (tree, extra) in variants.items():
                    path = [str(tree / "functions" / function), str(tree / "layers" / "auth_core"), site]
                    env = {**child_env, **(AUTHORIZER_ENV if function == "authorizer" else {}), **extra}
                    if extra:  # the Tracer traces only inside Lambda: LAMBDA_TASK_ROOT says so
                        env["LAMBDA_TASK_ROOT"] = path[0]
                    event = seeder.event(function)
                    result = _run(path, "import app", event, env)
                    answer = result.pop("answer", None)
                    if answer is not None:
                        result["status"] = authorizer_status(answer, event)
                    expected = REFUSED.get(function)
                    if expected is not None and result["status"] != expected:
                        raise RuntimeError(f"{label} {function}: HTTP {result['status']}, not {expected}")
                    if expected is None and result["status"] >= 300 and function != "jwks":
                        refused = " (its answer does not allow the route)" if answer is not None else ""
                        raise RuntimeError(f"{label} {function}: HTTP {result['status']}{refused}")
                    runs.setdefault((label, function), []).append(result)
    finally:
        server.stop()

    def med(rows: list[dict[str, Any]], key: str) -> str:
        values = [r[key] for r in rows if key in r]
        return f"{statistics.median(values):8.1f}" if values else f"{'':>8}"

    print(
        f"\nCold start, fresh isolated interpreters (-I -S), median of {args.samples}, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    header = (
        f"{'tree':16} {'function / baseline':42} {'import ms':>9} {'import CPU':>10} "
        f"{'1st req ms':>10} {'1st CPU':>8}  boto3 after 1st"
    )
    print(header)
    print("-" * len(header))
    for (label, name), rows in runs.items():
        boto = "" if label == "baseline" else ("yes" if rows[0]["boto3"] else "no")
        print(
            f"{label[:16]:16} {name:42} {med(rows, 'import_ms')}  {med(rows, 'import_cpu_ms')}   "
            f"{med(rows, 'first_ms')}   {med(rows, 'first_cpu_ms')}  {boto}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
