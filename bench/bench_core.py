"""Benchmark of the signing core: sign and verify per algorithm against the raw
``cryptography`` floor and PyJWT, plus the import cost of the verifier.

Not a test (machines are noisy): it prints a table (``--json`` for JSON). Method: every round
visits every (op, alg) block in a fresh random order and runs its three candidates (floor,
core, PyJWT) back to back, also in random order, each as a batch of N calls sized to
``--batch-ms`` with the garbage collector disabled inside the batch. Batches are timed with the
process CPU clock (``time.process_time_ns``), so time spent descheduled on a shared machine
is not counted. Figures are medians over rounds; ratios are the median of the per-round
ratios of candidates measured side by side, which cancels slow drifts in machine speed.

    .venv/bin/python bench/bench_core.py            # ~30-60 s
    .venv/bin/python bench/bench_core.py --json --rounds 15

Targets (issue #2): RS256 verify ≤ 2× floor and ≥ 2× faster than PyJWT; ES256/EdDSA verify
≤ 1.5× floor; RSA signing ≤ 1.1× floor; ``import auth_core.tokens`` ≤ 60 ms above a bare
interpreter.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "auth_core"))

import jwt as pyjwt  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from auth_core._b64 import b64url_decode  # noqa: E402
from auth_core.jwk import JWKSet, generate_signing_key  # noqa: E402
from auth_core.tokens import AccessTokenIssuer, AccessTokenVerifier, ClaimsPolicy  # noqa: E402

ALGS = ("RS256", "PS256", "ES256", "EdDSA")
ISS, AUD = "https://auth.example.com", "https://api.example.com"
TARGETS = {  # (op, alg) -> (max × floor, min × faster than PyJWT)
    ("verify", "RS256"): (2.0, 2.0),
    ("verify", "PS256"): (2.0, None),
    ("verify", "ES256"): (1.5, None),
    ("verify", "EdDSA"): (1.5, None),
    ("sign", "RS256"): (1.1, None),
    ("sign", "PS256"): (1.1, None),
}
IMPORT_TARGET_MS = 60.0


def raw_ops(alg: str, key, token: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """The floor: one cryptography call on the same signing input, parameter objects prebuilt."""
    private = key._key
    public = key.public_key()._key
    signing_input, _, sig_segment = token.rpartition(".")
    data = signing_input.encode()
    sig = b64url_decode(sig_segment)
    if alg in ("RS256", "PS256"):
        pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        sha = hashes.SHA256()
        return (lambda: private.sign(data, pad, sha)), (lambda: public.verify(sig, data, pad, sha))
    if alg == "ES256":
        ecdsa = ec.ECDSA(hashes.SHA256())
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        return (lambda: private.sign(data, ecdsa)), (lambda: public.verify(der, data, ecdsa))
    return (lambda: private.sign(data)), (lambda: public.verify(sig, data))


def build_candidates() -> dict[tuple[str, str, str], Callable[[], object]]:
    candidates: dict[tuple[str, str, str], Callable[[], object]] = {}
    now = time.time()
    for alg in ALGS:
        key = generate_signing_key(alg)
        issuer = AccessTokenIssuer(ISS, AUD, 900)
        grant = {"subject": "user-123", "client_id": "client-abc", "scope": ["read", "write"],
                 "roles": ["reader", "writer", "auditor"]}
        token = issuer.issue(key, **grant).token
        verifier = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_keys([key.public_key()]))
        verifier.verify(token)

        raw_sign, raw_verify = raw_ops(alg, key, token)
        raw_verify()
        py_private = pyjwt.PyJWK(key.to_private_jwk()).key
        py_public = pyjwt.PyJWK(key.to_public_jwk()).key
        py_claims = {"iss": ISS, "sub": "user-123", "aud": AUD, "exp": int(now) + 900, "iat": int(now),
                     "jti": "bench", "client_id": "client-abc", "scope": "read write",
                     "roles": ["reader", "writer", "auditor"]}
        py_headers = {"kid": key.kid, "typ": "at+jwt"}
        py_options = {"require": ["exp", "iat", "iss", "aud", "sub", "jti"]}

        def py_verify(token=token, key=py_public, alg=alg, options=py_options):
            pyjwt.get_unverified_header(token)["kid"]  # a JWKS-based verifier must read the kid
            return pyjwt.decode(token, key, algorithms=[alg], audience=AUD, issuer=ISS, options=options)

        def py_sign(key=py_private, alg=alg, claims=py_claims, headers=py_headers):
            return pyjwt.encode(claims, key, algorithm=alg, headers=headers)

        def core_sign(issuer=issuer, key=key, grant=grant):
            return issuer.issue(key, **grant)

        py_verify()
        candidates[("sign", alg, "floor")] = raw_sign
        candidates[("sign", alg, "core")] = core_sign
        candidates[("sign", alg, "pyjwt")] = py_sign
        candidates[("verify", alg, "floor")] = raw_verify
        candidates[("verify", alg, "core")] = lambda verifier=verifier, token=token: verifier.verify(token)
        candidates[("verify", alg, "pyjwt")] = py_verify
    return candidates


def calibrate(func: Callable[[], object], batch_ms: float) -> int:
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < 0.02:
        func()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    return max(1, int(batch_ms / 1000 / per_call))


def run_batch(func: Callable[[], object], n: int) -> float:
    gc.disable()
    try:
        start = time.process_time_ns()
        for _ in range(n):
            func()
        return (time.process_time_ns() - start) / n / 1000.0  # µs of CPU per call
    finally:
        gc.enable()


def measure(rounds: int, batch_ms: float) -> dict[tuple[str, str, str], dict[str, float]]:
    candidates = build_candidates()
    sizes = {name: calibrate(func, batch_ms) for name, func in candidates.items()}
    samples: dict[tuple[str, str, str], list[float]] = {name: [] for name in candidates}
    ratios: dict[tuple[str, str, str], list[float]] = {name: [] for name in candidates}
    blocks = sorted({(op, alg) for op, alg, _ in candidates})
    for _ in range(rounds):
        random.shuffle(blocks)
        for op, alg in blocks:
            names = [(op, alg, cand) for cand in random.sample(["floor", "core", "pyjwt"], 3)]
            times = {name[2]: run_batch(candidates[name], sizes[name]) for name in names}
            for name in names:
                samples[name].append(times[name[2]])
            ratios[(op, alg, "core")].append(times["core"] / times["floor"])
            ratios[(op, alg, "pyjwt")].append(times["pyjwt"] / times["core"])
    out = {}
    for name, values in samples.items():
        q = statistics.quantiles(values, n=4)
        out[name] = {"median_us": statistics.median(values), "p25_us": q[0], "p75_us": q[2], "n": sizes[name]}
        if ratios[name]:
            out[name]["ratio"] = statistics.median(ratios[name])
    return out


def _child_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def import_cost(samples: int) -> dict[str, float]:
    """Fresh interpreters importing the verifier, minus bare interpreters (medians).

    CPU time of the child (user + system) is the headline figure, because wall time on a
    shared machine mostly measures the neighbours; wall time is reported alongside.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "auth_core")}
    stmts = {"bare": "pass", "tokens": "import auth_core.tokens"}
    cpu: dict[str, list[float]] = {k: [] for k in stmts}
    wall: dict[str, list[float]] = {k: [] for k in stmts}
    for _ in range(samples):
        for name, stmt in random.sample(list(stmts.items()), 2):
            cpu_start, start = _child_cpu_ms(), time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], env=env, check=True)
            wall[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append(_child_cpu_ms() - cpu_start)
    bare, tokens = statistics.median(cpu["bare"]), statistics.median(cpu["tokens"])
    wall_delta = statistics.median(wall["tokens"]) - statistics.median(wall["bare"])
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, auth_core.tokens; "
         "print(sorted(m for m in sys.modules if m.startswith(('boto', 'aws_lambda_powertools', "
         "'cryptography.x509', 'cryptography.hazmat.primitives.serialization'))))"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    return {"bare_ms": bare, "tokens_ms": tokens, "delta_ms": tokens - bare, "wall_delta_ms": wall_delta,
            "heavy_modules": probe}


def report(results: dict, imports: dict, meta: dict) -> str:
    lines = [
        f"# bench_core: {meta['rounds']} interleaved rounds, ~{meta['batch_ms']} ms batches (CPU time), "
        f"Python {meta['python']}, cryptography {meta['cryptography']}, PyJWT {meta['pyjwt']}",
        "",
        "| op | alg | floor µs | core µs | PyJWT µs | core × floor | PyJWT × core | target | met |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for op in ("verify", "sign"):
        for alg in ALGS:
            floor = results[(op, alg, "floor")]["median_us"]
            core = results[(op, alg, "core")]["median_us"]
            py = results[(op, alg, "pyjwt")]["median_us"]
            core_x_floor = results[(op, alg, "core")]["ratio"]
            py_x_core = results[(op, alg, "pyjwt")]["ratio"]
            max_floor, min_py = TARGETS.get((op, alg), (None, None))
            checks, texts = [], []
            if max_floor is not None:
                checks.append(core_x_floor <= max_floor)
                texts.append(f"≤ {max_floor}× floor")
            if min_py is not None:
                checks.append(py_x_core >= min_py)
                texts.append(f"PyJWT ≥ {min_py}× core")
            met = ("✓" if all(checks) else "✗") if checks else "–"
            cells = [op, alg, f"{floor:.1f}", f"{core:.1f}", f"{py:.1f}", f"{core_x_floor:.2f}",
                     f"{py_x_core:.2f}", ", ".join(texts) or "–", met]
            lines.append("| " + " | ".join(cells) + " |")
    ok = imports["delta_ms"] <= IMPORT_TARGET_MS
    lines += [
        "",
        f"import auth_core.tokens: {imports['tokens_ms']:.1f} ms CPU vs bare interpreter "
        f"{imports['bare_ms']:.1f} ms "
        f"→ +{imports['delta_ms']:.1f} ms (target ≤ {IMPORT_TARGET_MS:.0f} ms) {'✓' if ok else '✗'} "
        f"(wall: +{imports['wall_delta_ms']:.1f} ms); heavy modules loaded: {imports['heavy_modules']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--batch-ms", type=float, default=15.0)
    parser.add_argument("--import-samples", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="emit JSON instead of a table")
    args = parser.parse_args()

    import cryptography

    meta = {"rounds": args.rounds, "batch_ms": args.batch_ms, "python": sys.version.split()[0],
            "cryptography": cryptography.__version__, "pyjwt": pyjwt.__version__}
    results = measure(args.rounds, args.batch_ms)
    imports = import_cost(args.import_samples)
    if args.json:
        rows = [
            {"op": op, "alg": alg, "candidate": cand, **values} for (op, alg, cand), values in results.items()
        ]
        print(json.dumps({"meta": meta, "results": rows, "import": imports}, indent=2))
    else:
        print(report(results, imports, meta))


if __name__ == "__main__":
    main()
