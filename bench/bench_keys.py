"""Key-store and rotation figures (prints a table; asserts nothing about time).

1. Secrets Manager calls made by 1,000 warm verifications (PublicKeyStore over boto3 + moto,
   counted by a wrapping fetch). Target: 0 within the TTL (the one cold load is shown apart).
2. Calls made by 1,000 tokens carrying junk ``kid`` values: in one burst, and spread over 60 s
   of (simulated) time. Target: <= 1 per rate-limit window (10 s).
3. Wall time of one full rotation under moto: ``rotate_secret`` driving the real four steps in
   process, and the ``--direct`` path; per signing algorithm.
4. Cold fetch in a fresh interpreter: ``import auth_core.keystore`` + the first fetch, through
   the Parameters and Secrets Extension API (a localhost fake) vs boto3 (to a moto server on
   127.0.0.1). Shows what the extension path saves on an authorizer's cold start.

    .venv/bin/python bench/bench_keys.py [--rotations 5] [--cold 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "auth_core"), str(ROOT)]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_METRICS_NAMESPACE="Bench",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from auth_core.errors import UnknownKeyError  # noqa: E402
from auth_core.jwk import generate_signing_key  # noqa: E402
from auth_core.keystore import PublicKeyStore, sdk_fetch  # noqa: E402
from auth_core.rotation import RotationPolicy  # noqa: E402
from auth_core.secrets_rotation import KeyRotator  # noqa: E402
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy  # noqa: E402
from tests.functional.keys.rotation_harness import (  # noqa: E402
    MOTO_CONFIG,
    PUBLIC_SECRET,
    SIGNING_SECRET,
    create_key_secrets,
    create_rotation_lambda,
    route_rotation_invokes,
)

ISSUER = "https://issuer.example"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingFetch:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, secret_id: str, stage: str) -> str:
        self.calls += 1
        return sdk_fetch(secret_id, stage)


def _rotator(alg: str, clock: Clock) -> KeyRotator:
    policy = RotationPolicy(cache_ttl=300, max_token_lifetime=3600, leeway=60)
    return KeyRotator(public_secret_id=PUBLIC_SECRET, alg=alg, policy=policy, clock=clock)


def calls_figures() -> list[tuple[str, str, str]]:
    rows = []
    with mock_aws(config=MOTO_CONFIG):
        sm = boto3.client("secretsmanager")
        create_key_secrets(sm)
        clock = Clock()
        _rotator("RS256", clock).rotate_direct(SIGNING_SECRET)
        signing = json.loads(
            sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
        )
        from auth_core.keyset import KeySet

        key = KeySet.from_dict(signing).get_signing_key()
        issuer = AccessTokenIssuer(ISSUER, "api", 900, clock=clock)
        token = issuer.issue(key, subject="u", client_id="c", scope=["read"]).token

        fetch = CountingFetch()
        store = PublicKeyStore(PUBLIC_SECRET, fetch=fetch, clock=clock)
        verifier = AccessTokenVerifier(ClaimsPolicy(ISSUER, "api"), store, clock=clock)
        verifier.verify(token)
        cold = fetch.calls
        for _ in range(1000):
            verifier.verify(token)
            clock.now += 0.25  # 250 s in total: inside the 300 s TTL
        rows.append(("1,000 warm verifications (TTL 300 s, spread over 250 s)", f"{fetch.calls - cold}", "0"))
        rows.append(("  (cold load before them)", f"{cold}", "1"))

        attacker = generate_signing_key("RS256")
        junk = []
        for _ in range(1000):
            forged = AccessTokenIssuer(ISSUER, "api", 900, clock=clock)
            junk_key = _with_kid(attacker, uuid.uuid4().hex)
            junk.append(forged.issue(junk_key, subject="x", client_id="x", scope=["read"]).token)
        for label, spacing in (
            ("1,000 junk-kid tokens in one burst", 0.0),
            ("1,000 junk-kid tokens over 60 s", 0.06),
        ):
            store = PublicKeyStore(PUBLIC_SECRET, fetch=(fetch := CountingFetch()), clock=clock)
            verifier = AccessTokenVerifier(ClaimsPolicy(ISSUER, "api"), store, clock=clock)
            verifier.verify(token)
            clock.now += 11  # past the rate-limit window of the load itself
            start = fetch.calls
            refused = 0
            for bad in junk:
                try:
                    verifier.verify(bad)
                except UnknownKeyError:
                    refused += 1
                clock.now += spacing
            windows = int(1000 * spacing // 10) + 1
            rows.append((f"{label} ({refused} refused)", f"{fetch.calls - start}", f"<= {windows}"))
    return rows


def _with_kid(key: object, kid: str) -> object:
    """The attacker's key presented under an arbitrary kid (a thin signing wrapper)."""

    class Relabelled:
        alg = key.alg  # type: ignore[attr-defined]

        def __init__(self) -> None:
            self.kid = kid

        def sign(self, signing_input: bytes) -> bytes:
            return key.sign(signing_input)  # type: ignore[attr-defined]

    return Relabelled()


def rotation_figures(runs: int) -> list[tuple[str, str, str]]:
    rows = []
    for alg in ("RS256", "ES256"):
        with mock_aws(config=MOTO_CONFIG):
            sm = boto3.client("secretsmanager")
            create_key_secrets(sm)
            arn = create_rotation_lambda()
            clock = Clock()
            rotator = _rotator(alg, clock)

            def handler(event: dict, rotator: KeyRotator = rotator) -> None:
                rotator.handle(event["Step"], event["SecretId"], event["ClientRequestToken"])

            timings = []
            with route_rotation_invokes(handler):
                for _ in range(runs + 1):
                    clock.now += 1800
                    t0 = time.perf_counter()
                    sm.rotate_secret(
                        SecretId=SIGNING_SECRET,
                        RotationLambdaARN=arn,
                        RotationRules={"AutomaticallyAfterDays": 30},
                    )
                    timings.append(time.perf_counter() - t0)
            direct = []
            for _ in range(runs):
                clock.now += 1800
                t0 = time.perf_counter()
                rotator.rotate_direct(SIGNING_SECRET)
                direct.append(time.perf_counter() - t0)
        steady = timings[1:]  # the first one bootstraps two keys
        rows.append(
            (
                f"rotate_secret, 4 steps in process, {alg} (median of {len(steady)})",
                f"{statistics.median(steady) * 1000:.1f} ms",
                f"bootstrap {timings[0] * 1000:.1f} ms",
            )
        )
        rows.append(
            (f"rotate_direct, {alg} (median of {runs})", f"{statistics.median(direct) * 1000:.1f} ms", "")
        )
    return rows


COLD_CHILD = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    sys.path[:0] = [{layer!r}]
    from auth_core.keystore import ExtensionFetch, sdk_fetch
    fetch = ExtensionFetch({port}, host="127.0.0.1") if {extension} else sdk_fetch
    text = fetch("bench/public-jwks", "AWSCURRENT")
    t1 = time.perf_counter()
    print(f"{{(t1 - t0) * 1000:.1f}} {{'boto3' in sys.modules}}")
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cold_figures(samples: int) -> list[tuple[str, str, str]]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines in the table

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    sm = boto3.client("secretsmanager", endpoint_url=endpoint)
    sm.create_secret(Name="bench/public-jwks", SecretString='{"keys":[]}')

    class Extension(BaseHTTPRequestHandler):
        """The extension's API, answered from the moto server (what the real extension does)."""

        def do_GET(self) -> None:
            value = sm.get_secret_value(SecretId="bench/public-jwks", VersionStage="AWSCURRENT")
            body = json.dumps({"SecretString": value["SecretString"]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ext = ThreadingHTTPServer(("127.0.0.1", 0), Extension)
    threading.Thread(target=ext.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    rows = []
    try:
        for label, extension in (("extension (urllib)", True), ("boto3 GetSecretValue", False)):
            times = []
            boto_loaded = ""
            for _ in range(samples):
                code = COLD_CHILD.format(
                    layer=str(ROOT / "layers" / "auth_core"), port=ext.server_address[1], extension=extension
                )
                env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
                out = subprocess.run(
                    [sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                    timeout=60,
                ).stdout.split()
                times.append(float(out[0]))
                boto_loaded = out[1]
            rows.append(
                (
                    f"cold import + first fetch, {label} (best of {samples})",
                    f"{min(times):.0f} ms",
                    f"median {statistics.median(times):.0f} ms; boto3 imported: {boto_loaded}",
                )
            )
    finally:
        ext.shutdown()
        ext.server_close()
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rotations", type=int, default=5)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    rows = [("measure", "value", "target / note")]
    rows += calls_figures()
    rows += rotation_figures(args.rotations)
    rows += cold_figures(args.cold)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
