// Node reference for bench_authorizer.py: aws-jwt-verify's verifySync on the very tokens the
// Python candidates verify, driven round by round from the Python benchmark (interleaved).
// Protocol (stdin/stdout, one JSON document per line):
//   in:  {"jwks": {...}, "issuer": "...", "audience": "...", "tokens": ["..."]}  -> out: {"ready": true}
//   in:  {"from": i, "to": j}  -> verifySync(tokens[i..j)), out: {"us": <µs per call>}
//   in:  EOF -> exit
import { createInterface } from "node:readline";
import { JwtRsaVerifier } from "aws-jwt-verify";

let verifier;
let tokens = [];
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const msg = JSON.parse(line);
  if (msg.jwks) {
    verifier = JwtRsaVerifier.create({ issuer: msg.issuer, audience: msg.audience });
    verifier.cacheJwks(msg.jwks);
    tokens = msg.tokens;
    for (const t of tokens.slice(0, 50)) verifier.verifySync(t); // JIT warm-up, like Python's
    process.stdout.write(JSON.stringify({ ready: true }) + "\n");
    continue;
  }
  const batch = tokens.slice(msg.from, msg.to);
  const t0 = process.hrtime.bigint();
  for (const t of batch) verifier.verifySync(t);
  const ns = Number(process.hrtime.bigint() - t0);
  process.stdout.write(JSON.stringify({ us: ns / 1000 / batch.length }) + "\n");
}
