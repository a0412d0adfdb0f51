"""OAuth endpoint figures: in-process latency of /token and /refresh under moto, DynamoDB calls.

Runs the real Lambda handlers (``functions/*/app.py``) on the sample events against in-process moto
(``mock_aws``), with the production Argon2id parameters. DynamoDB calls are counted with a botocore
``before-call.dynamodb.*`` hook on the shared client. Prints a table; asserts nothing about time.

    .venv/bin/python bench/bench_oauth.py [--runs 30]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "auth_core")]

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "ISSUER": "https://auth.example.com",
    "AUDIENCE": "https://api.example.com",
    "SIGNING_KEYS_SECRET_ID": "jwt/signing-keys",
    "PUBLIC_JWKS_SECRET_ID": "jwt/public-jwks",
    "KEY_FETCH_STRATEGY": "sdk",
    "USERS_TABLE": "users",
    "CLIENTS_TABLE": "clients",
    "SESSIONS_TABLE": "sessions",
    "REVOCATIONS_TABLE": "revocations",
    "LOGIN_MAX_FAILURES": "1000",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
}.items():
    os.environ[name] = value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import warnings

    warnings.filterwarnings("ignore")
    from moto import mock_aws

    quiet = io.StringIO()  # EMF metric lines and logs go to stdout in Lambda; keep the table readable
    with mock_aws(), contextlib.redirect_stdout(quiet):
        from auth_core import aws
        from auth_core.passwords import PasswordHasher
        from tests.functional.oauth.conftest import BACKEND_SECRET, make_stack
        from tests.functional.oauth.helpers import sample_event

        stack = make_stack()
        hasher = PasswordHasher()
        # One user per run: the login throttle lets one username log in ~20 times at once (then
        # 100 an hour, issue 10); the bench measures logins, not the throttle.
        usernames = [f"bench-user-{i}" for i in range(args.runs + 1)]
        stack.add_user(hasher=hasher)
        for username in usernames:
            stack.add_user(username, hasher=hasher)
        stack.add_client()
        stack.add_client(
            "backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",)
        )

        import functions.issue_token.app as issue
        import functions.refresh_token.app as refresh
        import functions.revoke_token.app as revoke

        calls: list[str] = []
        aws.client("dynamodb").meta.events.register(
            "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
        )
        ctx = Context()

        def invoke(module, event):
            calls.clear()
            start = time.perf_counter()
            response = module.lambda_handler(event, ctx)
            elapsed = time.perf_counter() - start
            if response["statusCode"] != 200:
                raise RuntimeError(f"unexpected response: {response['statusCode']}")
            return elapsed, json.loads(response["body"]), list(calls)

        def refresh_event(token):
            return sample_event("refresh_token_rotate.json", refresh_token=token)

        password_events = [sample_event("issue_token_password.json", username=u) for u in usernames]
        cc_event = sample_event(
            "issue_token_client_credentials.json", client_id="backend-svc", client_secret=BACKEND_SECRET
        )
        invoke(issue, copy.deepcopy(password_events[-1]))  # warm: key fetch, client cache, imports
        invoke(issue, copy.deepcopy(cc_event))

        rows: dict[str, tuple[list[float], list[str]]] = {}

        def record(name, elapsed, ops):
            times, _ = rows.setdefault(name, ([], ops))
            times.append(elapsed)
            rows[name] = (times, ops)

        for run in range(args.runs):
            elapsed, doc, ops = invoke(issue, copy.deepcopy(password_events[run]))
            record("POST /token password", elapsed, ops)
            elapsed, _, ops = invoke(issue, copy.deepcopy(cc_event))
            record("POST /token client_credentials", elapsed, ops)
            event = refresh_event(doc["refresh_token"])
            elapsed, child, ops = invoke(refresh, copy.deepcopy(event))
            record("POST /refresh (rotation)", elapsed, ops)
            elapsed, _, ops = invoke(refresh, copy.deepcopy(event))
            record("POST /refresh (grace retry)", elapsed, ops)
            revoke_event = sample_event("revoke_token_refresh.json", refresh_token=child["refresh_token"])
            elapsed, _, ops = invoke(revoke, revoke_event)
            record("POST /revoke (refresh token)", elapsed, ops)

        # Unknown user vs known user with a wrong password: interleaved pairs through the token
        # service (no login throttle in the way), production Argon2id on both paths.
        from auth_core.errors import InvalidGrantError
        from auth_core.oauth.factories import issuer_factory
        from auth_core.oauth.grants import TokenService
        from auth_core.stores.throttle import LoginThrottle, ThrottleLimits
        from tests.functional.oauth.conftest import ISS
        from tests.functional.oauth.helpers import password_request

        settings = stack.settings()
        service = TokenService.from_settings(settings, keys=stack.keyset, hasher=hasher)
        # Limits high enough for the pairs; both paths still take the throttle, as in production.
        unlimited = ThrottleLimits(per_address=1_000_000, user_rate=1_000_000, user_burst=1_000_000)
        service.throttle = LoginThrottle(settings.require("sessions_table"), limits=unlimited)
        issuers = issuer_factory(settings, ISS)
        failing = {
            "known": password_request(password="wrong password"),
            "unknown": password_request(username="nobody-here", password="wrong password"),
        }

        def refused(name: str) -> float:
            start = time.perf_counter()
            try:
                service.token(failing[name], issuers)
            except InvalidGrantError:
                return time.perf_counter() - start
            raise RuntimeError(f"{name}: the login was not refused")

        pair_ratios = []
        refused("known"), refused("unknown")  # warm-up: the dummy hash is made once
        for i in range(args.runs):
            order = ("known", "unknown") if i % 2 == 0 else ("unknown", "known")
            got = {name: refused(name) for name in order}
            pair_ratios.append(got["unknown"] / got["known"])

        hash_times = []
        encoded = hasher.hash("correct horse battery staple")
        for _ in range(args.runs):
            start = time.perf_counter()
            hasher.verify("correct horse battery staple", encoded)
            hash_times.append(time.perf_counter() - start)

    print(
        f"\nOAuth endpoints, in-process handlers over moto mock_aws, {args.runs} runs each "
        f"(Argon2id {hasher.parameters}, 16-byte salt, 32-byte hash; signing ES256)\n"
    )
    print(f"{'operation':34} {'median ms':>10} {'p90 ms':>8}  {'DynamoDB calls':>14}  calls")
    for name, (times, ops) in rows.items():
        times_sorted = sorted(times)
        p90 = times_sorted[int(0.9 * (len(times_sorted) - 1))]
        print(
            f"{name:34} {statistics.median(times) * 1000:10.1f} {p90 * 1000:8.1f}  {len(ops):>14}  "
            f"{', '.join(ops)}"
        )
    print(f"{'Argon2id verify alone':34} {statistics.median(hash_times) * 1000:10.1f}")
    print(
        f"\nunknown user / known user with a wrong password: median time ratio of {args.runs} "
        f"interleaved pairs {statistics.median(pair_ratios):.2f} (1.00 = indistinguishable)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
