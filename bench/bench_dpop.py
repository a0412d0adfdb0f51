"""Benchmark the authorizer's DPoP path against its bearer path (RFC 9449 §7), CPU per call.

Same authorizer engine, same event type as the template (HTTP API payload 2.0, IAM response), the
default RS256 access tokens, ES256 proofs (what browsers' Web Crypto and most clients make):

* ``bearer, first sight``   -- a new token per call (signature, claims, context, policy);
* ``DPoP, first sight``     -- a new bound token and a new proof per call: the bearer work plus
  the proof's parse, signature (ES256), checks, thumbprint and the replay records;
* ``DPoP, repeated token``  -- one bound token, a new proof per call (the token comes from the
  verified-token cache; the proof is always new work: DPoP requests have no answer shortcut).

The shared replay record is a conditional ``PutItem`` in DynamoDB (one network round trip per DPoP
request, ~5-10 ms on AWS, none of it CPU here); in this bench an in-memory stand-in takes its place
so that the figure is the authorizer's own work. Tokens and proofs are made before the clock starts.
Target: DPoP first sight <= 2.2x bearer first sight.

Usage: ``python bench/bench_dpop.py [--rounds N] [--batch N] [--json]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "auth_core"), str(ROOT)]

from auth_core.authorizer.dpop import DPoPCheck  # noqa: E402
from auth_core.authorizer.service import Authorizer  # noqa: E402
from auth_core.authorizer.telemetry import DecisionLog  # noqa: E402
from auth_core.dpop import DPoPVerifier, MemoryReplayCache  # noqa: E402
from auth_core.jwk import JWKSet, generate_signing_key  # noqa: E402
from auth_core.settings import Settings  # noqa: E402
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy  # noqa: E402

ISSUER, AUDIENCE, HOST = "https://auth.example.com", "https://api.example.com", "api.example.com"
URL = f"https://{HOST}/orders"


class _NullLog(DecisionLog):
    def emit_prepared(self, *args: Any, **kwargs: Any) -> None:  # the log line is not DPoP's cost
        return None


def _event(authorization: str, proof: str | None) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "authorizer_http_v2_allow.json").read_text())
    event["routeArn"] = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/orders"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /orders"
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/orders"
    event["requestContext"]["domainName"] = HOST
    event["headers"] = {"authorization": authorization, **({"dpop": proof} if proof else {})}
    return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--proof-alg", default="ES256", choices=["ES256", "EdDSA", "RS256", "PS256"])
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "bench")
    from tests.dpop_client import DPoPKey

    signing = generate_signing_key("RS256")
    jwks = JWKSet.from_keys([signing.public_key()])
    issuer = AccessTokenIssuer(ISSUER, AUDIENCE, 900)
    settings = Settings(
        issuer=ISSUER, audience=AUDIENCE, authorizer_response_format="iam", authorizer_dpop="optional"
    )
    verifier = AccessTokenVerifier(ClaimsPolicy.from_settings(settings, ISSUER), jwks)

    def authorizer() -> Authorizer:
        check = DPoPCheck(DPoPVerifier(), shared=MemoryReplayCache(capacity=10**6), local=MemoryReplayCache())
        return Authorizer(
            settings, verifier_for=lambda _i: verifier, revocation=None, log=_NullLog("bench"), dpop=check
        )

    key = DPoPKey(args.proof_alg)
    now = int(time.time())
    n = args.batch
    samples: dict[str, list[float]] = {
        "bearer, first sight": [],
        "DPoP, first sight": [],
        "DPoP, repeated token": [],
    }
    for _round in range(args.rounds):
        bearer_tokens = [
            issuer.issue(signing, subject="alice", client_id="c", scope="read").token for _ in range(n)
        ]
        bound_tokens = [
            issuer.issue(signing, subject="alice", client_id="c", scope="read", confirmation=key.jkt).token
            for _ in range(n)
        ]
        bearer_events = [_event(f"Bearer {t}", None) for t in bearer_tokens]
        dpop_events = [
            _event(f"DPoP {t}", key.proof("GET", URL, iat=now, access_token=t)) for t in bound_tokens
        ]
        one = bound_tokens[0]
        repeated_events = [
            _event(f"DPoP {one}", key.proof("GET", URL, iat=now, access_token=one)) for _ in range(n)
        ]
        for name, events in (
            ("bearer, first sight", bearer_events),
            ("DPoP, first sight", dpop_events),
            ("DPoP, repeated token", repeated_events),
        ):
            engine = authorizer()
            if name == "DPoP, repeated token":
                engine(copy.deepcopy(_event(f"DPoP {one}", key.proof("GET", URL, iat=now, access_token=one))))
            started = time.perf_counter()
            for event in events:
                engine(event)
            samples[name].append((time.perf_counter() - started) / n * 1e6)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["bearer, first sight"]
    if args.json:
        sys.stdout.write(
            json.dumps(
                {"us_per_call": medians, "x_bearer_first_sight": {k: v / base for k, v in medians.items()}}
            )
            + "\n"
        )
        return 0
    out = [
        "Authorizer, DPoP vs bearer: HTTP API payload 2.0 event, IAM response, RS256 tokens, "
        f"{args.proof_alg} proofs (median µs/call, {args.rounds}x{n}; "
        "the replay record's DynamoDB write not included)",
        f"{'candidate':<26}{'µs':>10}{'x bearer first sight':>24}",
    ]
    out += [f"{name:<26}{value:>10.1f}{value / base:>24.2f}" for name, value in medians.items()]
    ratio = medians["DPoP, first sight"] / base
    out.append(
        f"[{'OK' if ratio <= 2.2 else 'MISS'}] DPoP first sight <= 2.2x bearer first sight ({ratio:.2f}x)"
    )
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
