"""A machine client that uses DPoP (RFC 9449): its tokens are useless to anyone without its key.

    python examples/dpop_client.py --api http://127.0.0.1:3000 --client-id ID --client-secret SECRET
    # or, for a user: --username alice --password ... (the password grant, confidential clients)

What it shows, in ~100 lines of standard ``requests`` + ``cryptography``:

* one P-256 key per client process (never sent; only its public half goes in each proof);
* a proof per request: ``typ: dpop+jwt``, ``jwk``, ``jti`` (random), ``htm``, ``htu``, ``iat``,
  and ``ath`` (the access token's hash) when calling an API;
* the server's nonce (``use_dpop_nonce`` + ``DPoP-Nonce``) taken and the request retried once;
* ``Authorization: DPoP <token>`` at the API (the template's authorizer with ``AuthorizerDpop``
  ``optional`` or ``required``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
import time
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DPoPClient:
    """Token requests and API calls with DPoP proofs by one key."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        self.public_jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
        self._nonce: str | None = None
        self.http = session or requests.Session()

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode("ascii")).digest())
        if self._nonce is not None:
            claims["nonce"] = self._nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk}
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def token(
        self, token_url: str, data: dict[str, str], auth: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """``POST`` to the token endpoint with a proof; retried once with the server's nonce."""
        for _attempt in range(2):
            response = self.http.post(
                token_url, data=data, auth=auth, headers={"DPoP": self.proof("POST", token_url)}, timeout=30
            )
            if response.status_code == 400 and response.json().get("error") == "use_dpop_nonce":
                self._nonce = response.headers["DPoP-Nonce"]
                continue
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            if answer.get("token_type") != "DPoP":
                raise RuntimeError("the server issued a bearer token: is DPoP enabled?")
            return answer
        raise RuntimeError("the token endpoint kept asking for a nonce")

    def get(self, url: str, access_token: str) -> requests.Response:
        """``GET`` a protected API with the bound token and a fresh proof."""
        headers = {"Authorization": f"DPoP {access_token}", "DPoP": self.proof("GET", url, access_token)}
        return self.http.get(url, headers=headers, timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="the API's base URL (the issuer)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument(
        "--username", help="with --password: the password grant instead of client_credentials"
    )
    parser.add_argument("--password")
    parser.add_argument("--path", default="/me", help="the protected route to call (default /me)")
    args = parser.parse_args(argv)
    client = DPoPClient()
    data = {"grant_type": "client_credentials"}
    if args.username:
        data = {"grant_type": "password", "username": args.username, "password": args.password or ""}
    tokens = client.token(args.api + "/token", data, auth=(args.client_id, args.client_secret))
    answer = client.get(args.api + args.path, tokens["access_token"])
    summary = {"token_type": tokens["token_type"], "status": answer.status_code, "body": answer.text[:200]}
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0 if answer.ok else 1


if __name__ == "__main__":
    sys.exit(main())
