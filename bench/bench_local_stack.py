"""The local stack (``python -m local_stack serve``) under load, over real HTTP on loopback.

Starts a private stack as a subprocess (free ports, own state dir, stops it at the end), then:

* ``POST /token`` client_credentials and ``GET /me`` from 16 concurrent clients for a duration
  (kept-alive connections, one per client): requests, errors, 5xx, latency;
* 50 sessions each refreshing in a loop (every refresh answer replaces the session's token);
* refresh races: 20 threads present the same refresh token at once; a round is right when exactly
  one gets a pair (200) and the winner's new token still refreshes (session intact);
* refresh latency as the sessions table grows (password logins), and the stack process's RSS
  (moto runs in it) over those logins and refreshes.

Prints a table; asserts nothing.

    .venv/bin/python bench/bench_local_stack.py --quick      # a few seconds per phase
    .venv/bin/python bench/bench_local_stack.py              # 60 s phases, up to 10,000 sessions
    .venv/bin/python bench/bench_local_stack.py --memory-only  # the stack's growth over 10,000 requests
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from local_stack.process import running_stack

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 120.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int | None, seconds: float) -> None:
        with self.lock:
            if status is None:
                self.errors += 1
            else:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.latencies.append(seconds)

    @property
    def count(self) -> int:
        return sum(self.statuses.values()) + self.errors

    @property
    def five_xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


class Client:
    """One kept-alive HTTP/1.1 connection to the stack."""

    def __init__(self, api: str, basic: tuple[str, str]) -> None:
        url = urlsplit(api)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.auth = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": self.auth}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            try:
                return response.status, json.loads(data) if data else None
            except ValueError:
                return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def timed(tally: Tally, call: Callable[[], tuple[int, Any]]) -> tuple[int, Any] | None:
    started = time.perf_counter()
    try:
        status, body = call()
    except Exception:  # noqa: BLE001 - counted
        tally.add(None, 0.0)
        return None
    tally.add(status, time.perf_counter() - started)
    return status, body


class Bench:
    def __init__(self, info: dict[str, Any], pid: int) -> None:
        self.info = info
        self.api = str(info["api_url"])
        self.basic = (str(info["client_id"]), str(info["client_secret"]))
        self.pid = pid
        self.rows: list[tuple[str, str]] = []
        self.login_failure = ""
        self.users = [str(info["username"])]
        self.next_user = 0
        self.filled = 0
        self.lock = threading.Lock()

    def client(self) -> Client:
        return Client(self.api, self.basic)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def ddb(self) -> Any:
        import boto3

        return boto3.client(
            "dynamodb",
            endpoint_url=str(self.info["aws_endpoint_url"]),
            region_name=str(self.info["region"]),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def make_users(self, count: int) -> None:
        """``count`` users sharing the demo user's password (one production Argon2id hash, reused):
        the login throttle allows a user ~20 quick logins, so load is spread over users."""
        sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "auth_core")]
        from auth_core.passwords import PasswordHasher
        from auth_core.stores.users import User, UserStore

        store = UserStore(str(self.info["users_table"]), client=self.ddb())
        hashed = PasswordHasher().hash(str(self.info["password"]))
        scopes = tuple(str(self.info.get("scopes", "openid read")).split())
        for i in range(count):
            store.create(User(username=f"bench{i}", password_hash=hashed, roles=("user",), scopes=scopes))
        self.users = [f"bench{i}" for i in range(count)]

    def fill_sessions(self, count: int) -> None:
        """``count`` more items in the sessions table (expiring in a day, like real sessions): what
        makes a transaction on that table slower on moto is how many items it holds."""
        ddb = self.ddb()
        expires = str(int(time.time()) + 86400)
        table = str(self.info["sessions_table"])
        for start in range(0, count, 25):
            batch = [
                {"PutRequest": {"Item": {"pk": {"S": f"bench#{self.filled + i}"},
                                         "expires_at": {"N": expires},
                                         "payload": {"S": "x" * 200}}}}
                for i in range(start, min(count, start + 25))
            ]  # fmt: skip
            ddb.batch_write_item(RequestItems={table: batch})
        self.filled += count

    def login(self, client: Client, tally: Tally | None = None) -> dict[str, Any] | None:
        with self.lock:
            self.next_user = (self.next_user + 1) % len(self.users)
            username = self.users[self.next_user]
        form = {
            "grant_type": "password",
            "username": username,
            "password": str(self.info["password"]),
            "scope": "openid read",
        }
        result = timed(tally or Tally(), lambda: client.request("POST", "/token", form))
        if result and result[0] == 200:
            return dict(result[1])
        if result and not self.login_failure:
            self.login_failure = f"login -> {result[0]} {str(result[1])[:200]}"
            print(self.login_failure, flush=True)
        return None

    def refresh(self, client: Client, token: str) -> tuple[int, Any]:
        return client.request("POST", "/refresh", {"grant_type": "refresh_token", "refresh_token": token})

    def report(self, name: str, tally: Tally, seconds: float, extra: str = "") -> None:
        self.rows.append(
            (
                name,
                f"{tally.count:7d} req {tally.count / seconds:7.1f}/s  errors {tally.errors}  "
                f"5xx {tally.five_xx}  p50 {tally.pct(0.5):7.1f} ms  p95 {tally.pct(0.95):7.1f} ms  "
                f"p99 {tally.pct(0.99):7.1f} ms  statuses {dict(sorted(tally.statuses.items()))}{extra}",
            )
        )
        print(f"{name}: {self.rows[-1][1]}", flush=True)

    # ------------------------------------------------------------------ phases
    def concurrent(
        self, name: str, seconds: float, clients: int, make: Callable[[Client], Callable[[], tuple[int, Any]]]
    ) -> None:
        tally = Tally()
        deadline = time.monotonic() + seconds

        def run() -> None:
            client = self.client()
            call = make(client)
            while time.monotonic() < deadline:
                timed(tally, call)
            client.close()

        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(clients):
                pool.submit(run)
        self.report(name, tally, time.monotonic() - started)

    def client_credentials(self, seconds: float) -> None:
        form = {"grant_type": "client_credentials", "scope": "read"}
        self.concurrent(
            "POST /token client_credentials x16",
            seconds,
            16,
            lambda c: lambda: c.request("POST", "/token", form),
        )

    def me(self, seconds: float) -> None:
        tokens = self.login(self.client())
        if not tokens:
            raise SystemExit("login failed")
        access = str(tokens["access_token"])
        self.concurrent("GET /me x16", seconds, 16, lambda c: lambda: c.request("GET", "/me", token=access))

    def refresh_loop(self, seconds: float, sessions: int = 50) -> None:
        with ThreadPoolExecutor(16) as pool:
            pairs = [p for p in pool.map(lambda _: self.login(self.client()), range(sessions)) if p]
        tally = Tally()
        lost = [0]
        deadline = time.monotonic() + seconds

        def run(pair: dict[str, Any]) -> None:
            client = self.client()
            token = str(pair["refresh_token"])
            while time.monotonic() < deadline:
                result = timed(tally, lambda token=token: self.refresh(client, token))
                if result and result[0] == 200:
                    token = str(result[1]["refresh_token"])
                elif result:
                    lost[0] += 1
                    break
            client.close()

        started = time.monotonic()
        with ThreadPoolExecutor(len(pairs)) as pool:
            list(pool.map(run, pairs))
        self.report(
            f"POST /refresh loop, {len(pairs)} sessions",
            tally,
            time.monotonic() - started,
            f"  sessions lost {lost[0]}",
        )

    def races(self, rounds: int, width: int = 20) -> None:
        tally = Tally()
        right = 0
        started = time.monotonic()
        for _ in range(rounds):
            pair = self.login(self.client())
            if not pair:
                raise SystemExit("login failed")
            token = str(pair["refresh_token"])
            clients = [self.client() for _ in range(width)]
            barrier = threading.Barrier(width)

            def go(
                client: Client, token: str = token, barrier: threading.Barrier = barrier
            ) -> tuple[int, Any] | None:
                barrier.wait()
                return timed(tally, lambda: self.refresh(client, token))

            with ThreadPoolExecutor(width) as pool:
                results = list(pool.map(go, clients))
            # within RefreshGraceSeconds every concurrent presenter gets the *same* pair replayed
            winners = [r[1] for r in results if r and r[0] == 200]
            pairs = {str(w["refresh_token"]) for w in winners}
            intact = False
            if len(pairs) == 1:
                status, _ = self.refresh(self.client(), pairs.pop())
                intact = status == 200
            right += intact
            for client in clients:
                client.close()
        self.report(
            f"refresh race x{width}", tally, time.monotonic() - started, f"  rounds right {right}/{rounds}"
        )

    def growth(self, steps: list[int], samples: int) -> None:
        """Refresh latency as the sessions table grows (filler items, see :meth:`fill_sessions`)."""
        for target in steps:
            self.fill_sessions(target - self.filled)
            pair = self.login(self.client())
            if not pair:
                raise SystemExit("login failed")
            client = self.client()
            token = str(pair["refresh_token"])
            latencies = []
            for _ in range(samples):
                started = time.perf_counter()
                status, body = self.refresh(client, token)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    break
                token = str(body["refresh_token"])
            client.close()
            self.rows.append(
                (
                    f"refresh, sessions table ~{target} items",
                    f"median {statistics.median(latencies) * 1000:7.1f} ms  "
                    f"p95 {sorted(latencies)[int(0.95 * len(latencies))] * 1000:7.1f} ms "
                    f"over {len(latencies)}",
                )
            )
            print(f"{self.rows[-1][0]}: {self.rows[-1][1]}", flush=True)

    def memory(self, logins: int, refreshes: int) -> None:
        """The stack process's RSS (moto runs in it) before and after many logins and refreshes."""
        rss0 = self.rss_mb()
        tally = Tally()
        started = time.monotonic()
        per_login = max(1, refreshes // max(1, logins))

        def one(_: int) -> None:
            client = self.client()
            pair = self.login(client, tally)
            if pair:
                token = str(pair["refresh_token"])
                for _ in range(per_login):
                    result = timed(tally, lambda token=token: self.refresh(client, token))
                    if not result or result[0] != 200:
                        break
                    token = str(result[1]["refresh_token"])
            client.close()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(logins)))
        rss1 = self.rss_mb()
        self.report(
            f"{logins} logins + {logins * per_login} refreshes",
            tally,
            time.monotonic() - started,
            f"  stack RSS {rss0:.0f} -> {rss1:.0f} MB ({rss1 - rss0:+.1f} MB)",
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds per phase, fewer logins")
    parser.add_argument(
        "--memory-only", action="store_true", help="only the memory phase (10,000 requests, twice)"
    )
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 60.0
    steps = [100, 1000, 10000] if args.quick else [100, 1000, 5000, 10000]
    with tempfile.TemporaryDirectory(prefix="bench-local-stack-") as tmp:
        state_dir = Path(tmp)
        started = time.perf_counter()
        with running_stack(state_dir) as (info, proc):
            print(f"stack up in {time.perf_counter() - started:.1f} s at {info['api_url']}", flush=True)
            bench = Bench(info, proc.pid)
            bench.make_users(200)
            bench.client_credentials(min(seconds, 3.0))  # warm-up: the functions' environments start
            bench.me(min(seconds, 3.0))
            bench.refresh_loop(min(seconds, 3.0))
            bench.rows.clear()
            print("-- measured --", flush=True)
            if not args.memory_only:
                bench.client_credentials(seconds)
                bench.me(seconds)
                bench.refresh_loop(seconds)
                bench.races(5 if args.quick else 20)
                bench.growth(steps, 20 if args.quick else 50)
            for _ in range(2):  # the second round shows growth once warm
                if args.quick:
                    bench.memory(200, 1000)
                else:
                    bench.memory(2000, 8000)
        problems = [
            line
            for line in (state_dir / "stack.log").read_text(errors="replace").splitlines()
            if "error" in line.lower() or "Traceback" in line
        ]
        if problems:
            print(f"\nstack log: {len(problems)} error lines; the first ones:")
            for line in list(dict.fromkeys(problems))[:3]:
                print("  " + line[:3000])
        width = max(len(name) for name, _ in bench.rows)
        print("\n" + "=" * 100)
        for name, figures in bench.rows:
            print(f"{name:<{width}}  {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
