"""Benchmark revocation latency end to end: from a revocation's call returning to the first refusal.

Starts a private local stack (``python -m local_stack serve`` on free 127.0.0.1 ports, its own
state directory) with ``AuthorizerResultTtl=0`` -- so API Gateway's emulated result cache cannot
keep an Allow and what is measured is the authorizer's own bound -- and the template's DEFAULT
``RevocationFeedInterval`` (5 s). For each kind of revocation, ``--runs`` times (cases
interleaved round by round):

* ``access token``  -- ``POST /revoke`` of the access token (``jti#`` entry);
* ``session``       -- ``POST /revoke`` of its refresh token (the family's ``sid#`` entry);
* ``user``          -- ``authctl users logout-all`` (``sub#`` cut-off);
* ``client``        -- ``authctl clients disable`` of a client made for the run (``cli#``);
* ``signing key``   -- ``authctl keys revoke KID --yes`` of the key that signed the token
  (``kid#``; the active key, so the stack rotates to a new one every run). If that command
  fails, the ``kid#`` feed entry is written directly (``RevocationStore.revoke_signing_keys``
  through the stack's moto endpoint) and the row says so.

The token has passed ``GET /me`` before the revocation (the authorizer's verified-token cache
and its feed are warm: the token is the busy kind an attacker would be using), and keeps being
presented every 100 ms for a random pause, uniform over one feed interval, before the revocation:
the feed is read lazily, on the first request at least an interval after the previous read, so
without that pause the bench's own cadence would fix the phase between the feed's reads and the
revocation (and every figure would be the same). Then ``GET /me`` is polled every 100 ms from
the moment the revocation's HTTP or CLI call returned; the figure is the time to the first
401/403. Three more requests follow it: any 200 among them is counted as a flap (another warm
authorizer environment still accepting).

Expected: about uniform over the feed's interval, plus the index's propagation (none in moto), so
at most ~5 s here; the target is <= 10 s.

Usage: ``python bench/bench_revocation.py [--runs N] [--json]``. Stops by itself (bounded loops,
a startup timeout, a per-measurement cap); the stack subprocess is always terminated.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local_stack.process import running_stack

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "auth_core"), str(ROOT)]

PARAMS = {"AuthorizerResultTtl": "0"}  # and the template's default RevocationFeedInterval
STARTUP_TIMEOUT = 90.0
POLL = 0.1
#: A measurement that has not seen a refusal after this long stops (reported as a miss).
CAP = 30.0
TARGET = 10.0
REFUSED = (401, 403)
CASES = ("access token", "session", "user", "client", "signing key")


# ----------------------------------------------------------------------------- the stack
@contextmanager
def local_stack(state_dir: Path) -> Iterator[dict[str, Any]]:
    """Run the stack as a subprocess until the block ends; yields its ``stack.json``."""
    with running_stack(state_dir, PARAMS, extra_args=["--quiet-functions"]) as (info, _proc):
        for url in (info["api_url"], info["aws_endpoint_url"]):
            host = urlsplit(url).hostname
            if host not in {"127.0.0.1", "localhost", "::1"}:
                raise RuntimeError(f"not a loopback endpoint: {url}")
        yield info


# ----------------------------------------------------------------------------- clients
class Api:
    def __init__(self, info: dict[str, Any], stack_file: Path) -> None:
        self.info = info
        self.url = str(info["api_url"])
        self.basic = (str(info["client_id"]), str(info["client_secret"]))
        self.stack_file = stack_file
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, form: dict[str, str], auth: tuple[str, str] | None = None) -> requests.Response:
        return self.http.post(self.url + path, data=form, auth=auth or self.basic, timeout=30)

    def me(self, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.get(self.url + "/me", headers=headers, timeout=30).status_code

    def authctl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "authctl.cli", "--stack", str(self.stack_file), *args],
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def authctl_ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.authctl(*args, stdin=stdin)
        if result.returncode != 0:
            raise RuntimeError(f"authctl {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def token(self, form: dict[str, str], auth: tuple[str, str] | None = None) -> dict[str, Any]:
        """A token response; retried while the issuer answers 503 (after a revoked active key it
        refuses to sign until it may refetch the key set, at most KEY_REFRESH_MIN_INTERVAL)."""
        deadline = time.monotonic() + 30
        while True:
            response = self.post("/token", form, auth)
            if response.status_code == 200:
                return response.json()
            if response.status_code != 503 or time.monotonic() > deadline:
                raise RuntimeError(f"POST /token: {response.status_code} {response.text[:300]}")
            time.sleep(0.25)

    def known(self, token: str) -> str:
        """Present ``token`` until it passes once (a new key may need the JWKS refetched)."""
        deadline = time.monotonic() + 30
        while (status := self.me(token)) != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET /me never accepted the fresh token ({status})")
            time.sleep(0.25)
        return token


# ----------------------------------------------------------------------------- the cases
Case = Callable[[Api, "Fixtures"], tuple[str, Callable[[], str]]]


class Fixtures:
    """The bench's own user (its password) and the notes cases leave for the report."""

    def __init__(self, api: Api) -> None:
        self.username = f"bench-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        api.authctl_ok(
            "users", "create", self.username, "--scopes", "openid", "read", stdin=self.password + "\n"
        )
        self.notes: set[str] = set()

    def login(self, api: Api) -> dict[str, Any]:
        return api.token(
            {
                "grant_type": "password",
                "username": self.username,
                "password": self.password,
                "scope": "openid read",
            }
        )


def case_access(api: Api, fx: Fixtures) -> tuple[str, Callable[[], str]]:
    token = fx.login(api)["access_token"]

    def revoke() -> str:
        response = api.post("/revoke", {"token": token, "token_type_hint": "access_token"})
        if response.status_code != 200:
            raise RuntimeError(f"/revoke: {response.status_code}")
        return "POST /revoke (access token)"

    return token, revoke


def case_session(api: Api, fx: Fixtures) -> tuple[str, Callable[[], str]]:
    pair = fx.login(api)

    def revoke() -> str:
        response = api.post("/revoke", {"token": pair["refresh_token"], "token_type_hint": "refresh_token"})
        if response.status_code != 200:
            raise RuntimeError(f"/revoke: {response.status_code}")
        return "POST /revoke (refresh token)"

    return pair["access_token"], revoke


def case_user(api: Api, fx: Fixtures) -> tuple[str, Callable[[], str]]:
    token = fx.login(api)["access_token"]

    def revoke() -> str:
        api.authctl_ok("users", "logout-all", fx.username)
        return "authctl users logout-all"

    return token, revoke


def case_client(api: Api, fx: Fixtures) -> tuple[str, Callable[[], str]]:
    client_id = f"bench-client-{secrets.token_hex(4)}"
    created = api.authctl_ok(
        "clients", "create", client_id, "--confidential", "--grants", "client_credentials", "--scopes", "read"
    )
    secret = json.loads(created)["client_secret"]
    token = api.token({"grant_type": "client_credentials", "scope": "read"}, auth=(client_id, secret))[
        "access_token"
    ]

    def revoke() -> str:
        api.authctl_ok("clients", "disable", client_id)
        return "authctl clients disable"

    return token, revoke


def case_key(api: Api, fx: Fixtures) -> tuple[str, Callable[[], str]]:
    token = fx.login(api)["access_token"]
    kid = _kid(token)

    def revoke() -> str:
        result = api.authctl("keys", "revoke", kid, "--yes")
        if result.returncode == 0:
            return "authctl keys revoke"
        fx.notes.add(
            f"authctl keys revoke failed ({result.returncode}: {result.stderr.strip()[-200:]}); "
            "signing key rows wrote the kid# feed entry directly"
        )
        _revoke_key_in_feed(api.info, kid)
        return "RevocationStore.revoke_signing_keys (fallback)"

    return token, revoke


def _kid(token: str) -> str:
    from auth_core._b64 import b64url_decode_unchecked

    return str(json.loads(b64url_decode_unchecked(token.split(".")[0]))["kid"])


def _revoke_key_in_feed(info: dict[str, Any], kid: str) -> None:
    import boto3

    from auth_core.stores.revocations import MAX_CLOCK_LEEWAY, RevocationStore

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    until = int(time.time()) + int(info["params"]["MaxAccessTokenLifetime"]) + MAX_CLOCK_LEEWAY
    RevocationStore(info["revocations_table"], client=ddb).revoke_signing_keys([kid], until=until)


CASE_FUNCS: dict[str, Case] = {
    "access token": case_access,
    "session": case_session,
    "user": case_user,
    "client": case_client,
    "signing key": case_key,
}


def measure(api: Api, fx: Fixtures, case: str, pause: float) -> dict[str, Any]:
    token, revoke = CASE_FUNCS[case](api, fx)
    api.known(token)  # verified once: cached by the authorizer, its feed read
    busy_until = time.monotonic() + pause  # a busy token, and a random phase of the feed's reads
    while time.monotonic() < busy_until:
        if (status := api.me(token)) != 200:
            raise RuntimeError(f"{case}: GET /me answered {status} before the revocation")
        time.sleep(POLL)
    t0 = time.monotonic()
    how = revoke()
    returned = time.monotonic()
    first: float | None = None
    statuses: list[int] = []
    while time.monotonic() - returned < CAP:
        status = api.me(token)
        if status in REFUSED:
            first = time.monotonic() - returned
            break
        if status != 200:
            statuses.append(status)
        time.sleep(POLL)
    flaps = sum(api.me(token) == 200 for _ in range(3)) if first is not None else 0
    return {
        "case": case,
        "how": how,
        "pause_s": pause,
        "call_s": returned - t0,
        "refused_after_s": first,
        "flaps": flaps,
        "other_statuses": statuses,
    }


# ----------------------------------------------------------------------------- report
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measurements per case (interleaved)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress (stderr) and table stay in order
    rng = random.Random()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-revocation-") as tmp:
        state_dir = Path(tmp)
        header = sys.stderr if args.json else sys.stdout  # --json: stdout is one JSON document
        args_shown = [f"--param {name}={value}" for name, value in PARAMS.items()]
        command = "python -m local_stack serve --port 0 --moto-port 0 --quiet-functions "
        command += " ".join(args_shown)
        print("$ " + command, file=header, flush=True)
        with local_stack(state_dir) as info:
            params = info["params"]
            print(
                f"stack: {info['api_url']}  RevocationFeedInterval={params['RevocationFeedInterval']} s  "
                f"AuthorizerResultTtl={params['AuthorizerResultTtl']} s  "
                f"(startup {info['startup_seconds']} s)",
                file=header,
                flush=True,
            )
            api = Api(info, state_dir / "stack.json")
            try:
                fx = Fixtures(api)
                samples: list[dict[str, Any]] = []
                for run in range(args.runs):
                    for case in CASES:
                        interval = float(params["RevocationFeedInterval"])
                        sample = measure(api, fx, case, rng.uniform(0, interval))
                        samples.append(sample)
                        shown = sample["refused_after_s"]
                        shown = f"{shown:.2f} s" if shown is not None else f"not refused in {CAP:.0f} s"
                        print(f"  run {run + 1}/{args.runs}  {case:<13} {shown}", file=sys.stderr, flush=True)
            finally:
                api.close()
    total = time.monotonic() - started
    rows = []
    for case in CASES:
        mine = [s for s in samples if s["case"] == case]
        found = [s["refused_after_s"] for s in mine if s["refused_after_s"] is not None]
        missing = len(mine) - len(found)
        rows.append(
            {
                "case": case,
                "how": sorted({s["how"] for s in mine}),
                "median_s": statistics.median(found) if found else None,
                "max_s": max(found) if found else None,
                "call_median_s": statistics.median(s["call_s"] for s in mine),
                "not_refused": missing,
                "flaps": sum(s["flaps"] for s in mine),
                "other_statuses": sorted({x for s in mine for x in s["other_statuses"]}),
                "ok": not missing and bool(found) and max(found) <= TARGET,
            }
        )
    doc = {
        "command": command,
        "feed_interval_s": float(params["RevocationFeedInterval"]),
        "authorizer_result_ttl_s": float(params["AuthorizerResultTtl"]),
        "runs": args.runs,
        "target_s": TARGET,
        "rows": rows,
        "notes": sorted(fx.notes),
        "total_s": total,
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0 if all(r["ok"] for r in rows) else 1
    print()
    print(
        f"Revocation -> first refused GET /me (s after the call returned; poll {POLL * 1000:.0f} ms; "
        f"N={args.runs} per case; token verified and cached before the revocation)"
    )
    print(f"{'case':<14}{'median':>8}{'max':>8}{'call':>8}{'flaps':>7}  {'target':<10}  revoked with")
    for r in rows:
        median = f"{r['median_s']:.2f}" if r["median_s"] is not None else "-"
        worst = f"{r['max_s']:.2f}" if r["max_s"] is not None else "-"
        verdict = "ok" if r["ok"] else "MISS"
        print(
            f"{r['case']:<14}{median:>8}{worst:>8}{r['call_median_s']:>8.2f}{r['flaps']:>7}  "
            f"<= {TARGET:.0f} s {verdict:<4}  {', '.join(r['how'])}"
            + (f"  (not refused: {r['not_refused']})" if r["not_refused"] else "")
            + (f"  (other statuses: {r['other_statuses']})" if r["other_statuses"] else "")
        )
    print("call: median duration of the revocation's own HTTP/CLI call (not part of the figure)")
    for note in sorted(fx.notes):
        print(f"note: {note}")
    print(f"total {total:.0f} s")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
