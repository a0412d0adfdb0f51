# ruff: noqa: E501 - one catalog case per line reads better than wrapped tables
"""docs/threat-model.md §1-§6, table-driven: each case names the exact error class.

NOW=1700000000, LEEWAY=60, MAX_AT_TTL=900; K_CUR is ES256 ``k-cur`` (see tokenkit.py).
``None`` as the expectation means ACCEPT. Cases the threat model assigns to other layers (JTI
deny-list T-JTI-2, authorizer cache T-TIME-20/T-AWS, refresh tokens) are tested there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from auth_core._b64 import b64url_encode
from auth_core.errors import (
    ExpiredTokenError,
    ForbiddenHeaderError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidSignatureError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    TokenError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
    WrongTokenTypeError,
)

from .tokenkit import (
    AUD,
    CLIENT,
    DROP,
    H0,
    ISS,
    K_ATTACKER,
    K_CUR,
    K_ED,
    K_OLD,
    K_PREV,
    K_PSS,
    K_RSA,
    NOW,
    P0,
    claims,
    header,
    hs256,
    sign,
    signature_of,
    verifier,
    with_signature,
)
from .tokenkit import (
    b64url_encode as b64,
)

N_P256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
GOOD = sign()
GOOD_SIG = signature_of(GOOD)
R, S = int.from_bytes(GOOD_SIG[:32], "big"), int.from_bytes(GOOD_SIG[32:], "big")
H_SEG, P_SEG, S_SEG = GOOD.split(".")


def rs(r: int, s: int, size: int = 32) -> bytes:
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _public_encodings() -> dict[str, bytes]:
    """Every published form of our public keys an attacker could use as an HMAC secret."""
    from auth_core.algorithms import _ECPublicKey, _RSAPublicKey

    rsa_pub = K_RSA.public_key()
    ec_pub = K_CUR.public_key()
    assert isinstance(rsa_pub, _RSAPublicKey) and isinstance(ec_pub, _ECPublicKey)
    r, e = rsa_pub._key, ec_pub._key
    pem, der, fmt = serialization.Encoding.PEM, serialization.Encoding.DER, serialization.PublicFormat
    spki_pem = r.public_bytes(pem, fmt.SubjectPublicKeyInfo)
    return {
        "rsa-spki-pem": spki_pem,
        "rsa-spki-pem-no-newline": spki_pem.rstrip(b"\n"),
        "rsa-spki-pem-crlf": spki_pem.replace(b"\n", b"\r\n"),
        "rsa-pkcs1-pem": r.public_bytes(pem, fmt.PKCS1),
        "rsa-spki-der": r.public_bytes(der, fmt.SubjectPublicKeyInfo),
        "rsa-openssh": r.public_bytes(serialization.Encoding.OpenSSH, fmt.OpenSSH),
        "rsa-jwk-json": json.dumps(K_RSA.to_public_jwk(), separators=(",", ":")).encode(),
        "rsa-n": r.public_numbers().n.to_bytes(256, "big"),
        "ec-spki-pem": e.public_bytes(pem, fmt.SubjectPublicKeyInfo),
        "ec-openssh": e.public_bytes(serialization.Encoding.OpenSSH, fmt.OpenSSH),
        "ec-x962-uncompressed": e.public_bytes(serialization.Encoding.X962, fmt.UncompressedPoint),
        "ed-openssh": K_ED.public_key()._key.public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.OpenSSH, fmt.OpenSSH
        ),
    }


def _confusion_cases() -> list:
    out = []
    for name, secret in _public_encodings().items():
        kid = "k-rsa" if name.startswith("rsa") else ("k-ed" if name.startswith("ed") else "k-cur")
        token = hs256(header(alg="HS256", kid=kid), P0, secret)
        out.append(pytest.param(token, UnsupportedAlgorithmError, id=f"T-CONF HS256 keyed with {name}"))
    return out


def _jwe_like() -> str:
    return ".".join([b64(b'{"alg":"dir","enc":"A128GCM"}'), "", b64(b"iv" * 6), b64(b"ct" * 8), b64(b"t" * 16)])


def _flattened() -> str:
    return json.dumps({"protected": H_SEG, "payload": P_SEG, "signature": S_SEG})


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _resign(signing_input: str) -> str:
    """Sign exactly ``signing_input`` with K_CUR (so only the encoding rules can reject it)."""
    return f"{signing_input}.{b64(K_CUR.sign(signing_input.encode('ascii')))}"


def _padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4 or 4)


def _std_b64(data: bytes) -> str:
    """Standard-alphabet base64 without padding; the test header is chosen to contain '+' and '/'."""
    import base64

    text = base64.b64encode(data).decode().rstrip("=")
    assert "+" in text or "/" in text
    return text


def _eddsa_s_plus_l() -> str:
    """A valid EdDSA token with S replaced by S + L (non-canonical, RFC 8032 §5.1.7)."""
    ell = 2**252 + 27742317777372353535851937790883648493
    token = sign(header(alg="EdDSA", kid="k-ed"), key=K_ED)
    sig = signature_of(token)
    s_plus_l = int.from_bytes(sig[32:], "little") + ell
    return with_signature(token, sig[:32] + s_plus_l.to_bytes(32, "little"))


def _with_raw_member(member: str) -> bytes:
    """P0 without ``sub`` plus one member given as raw JSON text (for escapes json.dumps won't emit)."""
    base = json.dumps(claims(sub=DROP))
    return (base[:-1] + "," + member + "}").encode()


RSA_GOOD = sign(header(alg="RS256", kid="k-rsa"), key=K_RSA)
RSA_SIG = signature_of(RSA_GOOD)


def _noncanonical_last_char(token: str) -> str:
    # ES256 signature: 86 chars, 4 unused bits in the last one; set one of them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    return token[:-1] + alphabet[last | 1]


CASES = [
    # ---------------------------------------------------------------- T-STR, T-B64 structure, base64url
    pytest.param(f"{H_SEG}.{P_SEG}", MalformedTokenError, id="T-STR-1 two segments"),
    pytest.param(f"{H_SEG}.{P_SEG}.", MalformedTokenError, id="T-STR-2 empty signature"),
    pytest.param(GOOD + ".e30", MalformedTokenError, id="T-STR-3 four segments"),
    pytest.param(_jwe_like(), MalformedTokenError, id="T-STR-4 JWE five segments"),
    pytest.param(_flattened(), MalformedTokenError, id="T-STR-5 JSON serialization"),
    pytest.param("", MalformedTokenError, id="T-STR-6 empty string"),
    pytest.param("..", MalformedTokenError, id="T-STR-6 dots only"),
    pytest.param(f".{P_SEG}.{S_SEG}", MalformedTokenError, id="T-STR-6 empty header"),
    pytest.param(f"{H_SEG}..{S_SEG}", MalformedTokenError, id="T-STR-6 detached payload"),
    pytest.param(sign(header(cty="JWT"), GOOD), ForbiddenHeaderError, id="T-STR-7 nested JWT cty"),
    pytest.param(GOOD + "=", MalformedTokenError, id="T-B64-1 padded signature"),
    pytest.param(_resign(f"{H_SEG}.{_padded(P_SEG)}"), MalformedTokenError, id="T-B64-1 padded payload re-signed"),
    pytest.param(GOOD[:-5] + "+" + GOOD[-4:], MalformedTokenError, id="T-B64-2 '+' in signature"),
    pytest.param(GOOD[:-5] + "/" + GOOD[-4:], MalformedTokenError, id="T-B64-2 '/' in signature"),
    pytest.param(
        _resign(f"{_std_b64(json.dumps(header(pad='??>>')).encode())}.{P_SEG}"),
        MalformedTokenError,
        id="T-B64-2 '+/' header re-signed",
    ),
    pytest.param(_noncanonical_last_char(GOOD), MalformedTokenError, id="T-B64-3 non-canonical trailing bits"),
    pytest.param(GOOD[:-10] + " " + GOOD[-10:], MalformedTokenError, id="T-B64-4 space in signature"),
    pytest.param(GOOD + "\n", MalformedTokenError, id="T-B64-4 trailing newline"),
    pytest.param(f"{H_SEG}.\r\n{P_SEG}.{S_SEG}", MalformedTokenError, id="T-B64-4 CRLF between segments"),
    pytest.param(f"{H_SEG}.{P_SEG}\t.{S_SEG}", MalformedTokenError, id="T-B64-4 tab"),
    pytest.param(GOOD[:20] + "?" + GOOD[21:], MalformedTokenError, id="T-B64-5 question mark"),
    pytest.param(GOOD[:20] + "#" + GOOD[21:], MalformedTokenError, id="T-B64-5 hash"),
    pytest.param(f"{H_SEG}%2E{P_SEG}.{S_SEG}", MalformedTokenError, id="T-B64-5 percent-encoded dot"),
    pytest.param(f"{H_SEG}..{P_SEG}.{S_SEG}", MalformedTokenError, id="T-B64-5 doubled dot"),
    pytest.param(GOOD[:20] + "é" + GOOD[21:], MalformedTokenError, id="T-B64-5 non-ASCII"),
    pytest.param(GOOD[:-1], MalformedTokenError, id="T-B64-6 length 1 mod 4"),
    pytest.param(
        sign(b'{"alg":"ES256", "typ":"at+jwt","kid":"k-cur"}'), None, id="T-B64-7 exact header bytes verified"
    ),
    # ---------------------------------------------------------------- T-JSON JSON
    pytest.param(
        sign(b'{"alg":"none","alg":"ES256","typ":"at+jwt","kid":"k-cur"}'),
        MalformedTokenError,
        id="T-JSON-1 duplicate alg none first",
    ),
    pytest.param(
        sign(b'{"alg":"ES256","typ":"at+jwt","kid":"k-cur","alg":"none"}'),
        MalformedTokenError,
        id="T-JSON-1 duplicate alg none last",
    ),
    pytest.param(
        sign(payload=json.dumps(P0)[:-1] + ',"sub":"admin"}'), MalformedTokenError, id="T-JSON-2 duplicate sub"
    ),
    pytest.param(
        sign(payload='{"aud":"other",' + json.dumps(P0)[1:]), MalformedTokenError, id="T-JSON-2 duplicate aud"
    ),
    *[
        pytest.param(sign(payload=body), MalformedTokenError, id=f"T-JSON-3 payload {body}")
        for body in ("[]", '"sub"', "123", "null", "true")
    ],
    *[
        pytest.param(sign(body), MalformedTokenError, id=f"T-JSON-4 header {body}")
        for body in ('["ES256"]', '"ES256"', "null")
    ],
    pytest.param(sign(json.dumps(H0).encode("utf-16-le")), MalformedTokenError, id="T-JSON-5 UTF-16 header"),
    pytest.param(
        sign(payload=json.dumps(P0).encode("utf-16")), MalformedTokenError, id="T-JSON-5 UTF-16 payload"
    ),
    pytest.param(sign(b"\xef\xbb\xbf" + json.dumps(H0).encode()), MalformedTokenError, id="T-JSON-6 BOM header"),
    pytest.param(
        sign(payload=b"\xef\xbb\xbf" + json.dumps(P0).encode()), MalformedTokenError, id="T-JSON-6 BOM payload"
    ),
    pytest.param(sign(json.dumps(H0) + "xyz"), MalformedTokenError, id="T-JSON-7 trailing garbage header"),
    pytest.param(sign(payload=json.dumps(P0) + "{}"), MalformedTokenError, id="T-JSON-7 trailing garbage payload"),
    *[
        pytest.param(
            sign(payload=json.dumps(claims(exp=DROP))[:-1] + f',"exp":{v}}}'),
            MalformedTokenError,
            id=f"T-JSON-8 exp {v}",
        )
        for v in ("NaN", "Infinity", "-Infinity", "1e309", "-1e309")
    ],
    pytest.param(sign(json.dumps(H0)[:-1] + ',"x":NaN}'), MalformedTokenError, id="T-JSON-8 header NaN"),
    pytest.param(
        sign(payload=b'{"a":' + _nested(2000) + b"}"), MalformedTokenError, id="T-JSON-9 deep nesting payload"
    ),
    pytest.param(
        sign(json.dumps(H0)[:-1].encode() + b',"a":' + _nested(2000) + b"}"),
        MalformedTokenError,
        id="T-JSON-9 deep nesting header",
    ),
    pytest.param(
        sign(payload=b'{"a":' + b"[" * 33 + b"]" * 33 + b"}"), MalformedTokenError, id="T-JSON-9 depth 34"
    ),
    pytest.param(
        sign(payload=json.dumps(claims(x=[[["ok"]]]))), None, id="T-JSON-9 control: shallow nesting ok"
    ),
    pytest.param(
        sign(payload=json.dumps(claims(exp=DROP))[:-1].encode() + b',"exp":' + b"9" * 5000 + b"}"),
        MalformedTokenError,
        id="T-JSON-10 5000-digit integer",
    ),
    *[
        pytest.param(
            sign(payload=json.dumps(claims(sub="u")).encode().replace(b'"u"', b'"u' + bad + b'"')),
            MalformedTokenError,
            id=f"T-JSON-11 invalid UTF-8 {bad!r}",
        )
        for bad in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80")
    ],
    pytest.param(
        sign(payload=json.dumps(claims(sub="u")).encode().replace(b'"u"', b'"a\x01b"')),
        MalformedTokenError,
        id="T-JSON-12 raw control character",
    ),
    # ---------------------------------------------------------------- T-ALG, T-CONF alg
    pytest.param(sign(header(alg="none"), sig=b""), MalformedTokenError, id="T-ALG-1 none empty signature"),
    pytest.param(sign(header(alg="none"), sig=b"x"), UnsupportedAlgorithmError, id="T-ALG-1 none with bytes"),
    *[
        pytest.param(sign(header(alg=alg), sig=b"x"), UnsupportedAlgorithmError, id=f"T-ALG-2 {alg}")
        for alg in ("None", "NONE", "nOnE")
    ],
    pytest.param(
        with_signature(sign(header(alg="none"), sig=b"x"), GOOD_SIG),
        UnsupportedAlgorithmError,
        id="T-ALG-3 none with original signature",
    ),
    pytest.param(sign(header(alg=DROP)), UnsupportedAlgorithmError, id="T-ALG-4 alg missing"),
    *[
        pytest.param(sign(header(alg=value)), UnsupportedAlgorithmError, id=f"T-ALG-4 alg {value!r}")
        for value in ("", None, ["ES256"], {"a": 1}, 256)
    ],
    *[
        pytest.param(sign(header(alg=value)), UnsupportedAlgorithmError, id=f"T-ALG-5 alg {value!r}")
        for value in ("es256", "ES256 ", " ES256", "ES256\u0000", "Es256")
    ],
    pytest.param(sign(header(alg="RS256"), key=K_RSA), UnsupportedAlgorithmError, id="T-ALG-6 RS256 on k-cur"),
    pytest.param(sign(header(alg="PS256"), key=K_PSS), UnsupportedAlgorithmError, id="T-ALG-6 PS256 on k-cur"),
    pytest.param(sign(header(alg="EdDSA"), key=K_ED), UnsupportedAlgorithmError, id="T-ALG-6 EdDSA on k-cur"),
    pytest.param(
        sign(header(alg="PS256", kid="k-rsa"), key=K_RSA), UnsupportedAlgorithmError, id="T-ALG-6 PS256 on RS256 key"
    ),
    pytest.param(
        sign(header(alg="RS256", kid="k-pss"), key=K_PSS), UnsupportedAlgorithmError, id="T-ALG-6 RS256 on PS256 key"
    ),
    pytest.param(sign(header(alg="ES384"), sig=b"x" * 96), UnsupportedAlgorithmError, id="T-ALG-6 ES384"),
    pytest.param(sign(header(alg="Ed25519", kid="k-ed"), key=K_ED), UnsupportedAlgorithmError, id="T-ALG-6 Ed25519"),
    *_confusion_cases(),
    # ---------------------------------------------------------------- T-SIG signature shape
    pytest.param(with_signature(GOOD, bytes(64)), InvalidSignatureError, id="T-SIG-1 psychic r=s=0"),
    pytest.param(with_signature(GOOD, rs(N_P256, N_P256)), InvalidSignatureError, id="T-SIG-2 r=s=n"),
    pytest.param(with_signature(GOOD, rs(0, 1)), InvalidSignatureError, id="T-SIG-2 r=0 s=1"),
    pytest.param(with_signature(GOOD, rs(1, 0)), InvalidSignatureError, id="T-SIG-2 r=1 s=0"),
    pytest.param(with_signature(GOOD, rs(N_P256 - 1, N_P256 - 1)), InvalidSignatureError, id="T-SIG-2 r=s=n-1"),
    pytest.param(with_signature(GOOD, rs(R + N_P256, S, 33)), InvalidSignatureError, id="T-SIG-2 r+n wide"),
    pytest.param(with_signature(GOOD, encode_dss_signature(R, S)), InvalidSignatureError, id="T-SIG-3 DER"),
    pytest.param(with_signature(GOOD, GOOD_SIG[:63]), InvalidSignatureError, id="T-SIG-4 63 octets"),
    pytest.param(with_signature(GOOD, GOOD_SIG + b"\0"), InvalidSignatureError, id="T-SIG-4 65 octets"),
    pytest.param(with_signature(GOOD, GOOD_SIG * 2), InvalidSignatureError, id="T-SIG-4 128 octets"),
    pytest.param(with_signature(GOOD, rs(S, R)), InvalidSignatureError, id="T-SIG-5 S||R swapped"),
    pytest.param(
        with_signature(GOOD, (R + N_P256).to_bytes(33, "big") + S.to_bytes(32, "big")),
        InvalidSignatureError,
        id="T-SIG-6 R+n 33 octets",
    ),
    pytest.param(sign(header(alg="ES512"), sig=b"\1" * 131), UnsupportedAlgorithmError, id="T-SIG-7 ES512"),
    pytest.param(
        f"{H_SEG}.{P_SEG[:40]}{'A' if P_SEG[40] != 'A' else 'B'}{P_SEG[41:]}.{S_SEG}",
        InvalidSignatureError,
        id="T-SIG-8 tampered payload",
    ),
    pytest.param(
        f"{b64(json.dumps(header(x=1)).encode())}.{P_SEG}.{S_SEG}", InvalidSignatureError, id="T-SIG-8 other header"
    ),
    pytest.param(with_signature(GOOD, rs(R, N_P256 - S)), None, id="T-SIG-9 ECDSA malleated twin accepted"),
    pytest.param(_eddsa_s_plus_l(), InvalidSignatureError, id="T-SIG-10 EdDSA S+L"),
    pytest.param(
        hs256(header(alg="HS256"), P0, b"k" * 32)[:-22] + b64(b"\1" * 16)[:21],
        UnsupportedAlgorithmError,
        id="T-SIG-11 HS256 truncated MAC",
    ),
    pytest.param(with_signature(RSA_GOOD, b"\0" + RSA_SIG), InvalidSignatureError, id="T-SIG-12 RSA leading 00"),
    pytest.param(with_signature(RSA_GOOD, RSA_SIG[1:]), InvalidSignatureError, id="T-SIG-12 RSA short"),
    pytest.param(with_signature(RSA_GOOD, bytes(256)), InvalidSignatureError, id="T-SIG-12 RSA all zero"),
    pytest.param(sign(header(alg="RS256", kid="k-rsa"), key=K_RSA), None, id="T-SIG-12 control: RS256 ok"),
    pytest.param(sign(header(alg="PS256", kid="k-pss"), key=K_PSS), None, id="control: PS256 ok"),
    pytest.param(sign(header(alg="EdDSA", kid="k-ed"), key=K_ED), None, id="control: EdDSA ok"),
    # ---------------------------------------------------------------- T-KID, T-INJ, T-KEY key selection, injection
    pytest.param(
        sign(header(jwk=K_ATTACKER.to_public_jwk(), kid=DROP), key=K_ATTACKER),
        ForbiddenHeaderError,
        id="T-INJ-1 embedded jwk",
    ),
    pytest.param(
        sign(header(jwk=K_ATTACKER.to_public_jwk(), kid=K_ATTACKER.kid), key=K_ATTACKER),
        ForbiddenHeaderError,
        id="T-INJ-1 embedded jwk with its kid",
    ),
    pytest.param(sign(header(jwk=K_CUR.to_public_jwk())), ForbiddenHeaderError, id="T-INJ-1 embedded own jwk"),
    *[
        pytest.param(sign(header(jku=url)), ForbiddenHeaderError, id=f"T-INJ-2 jku {url}")
        for url in (
            "https://attacker.example/jwks.json",
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost:2773/secretsmanager/get",
        )
    ],
    pytest.param(sign(header(x5u="http://169.254.169.254/")), ForbiddenHeaderError, id="T-INJ-3 x5u"),
    pytest.param(sign(header(x5c=["MIIB"])), ForbiddenHeaderError, id="T-INJ-4 x5c"),
    pytest.param(sign(header(x5t="abc")), ForbiddenHeaderError, id="T-INJ-4 x5t"),
    pytest.param(sign(header(**{"x5t#S256": "abc"})), ForbiddenHeaderError, id="T-INJ-4 x5t#S256"),
    pytest.param(sign(header(kid="does-not-exist")), UnknownKeyError, id="T-KID-1 unknown kid"),
    pytest.param(sign(header(kid="../../../../../../dev/null")), UnknownKeyError, id="T-KID-2 path traversal"),
    pytest.param(sign(header(kid="/proc/self/environ")), UnknownKeyError, id="T-KID-2 proc environ"),
    pytest.param(sign(header(kid="x' UNION SELECT 'AAAA' -- ")), MalformedTokenError, id="T-KID-3 SQL"),
    pytest.param(sign(header(kid={"$ne": None})), MalformedTokenError, id="T-KID-3 NoSQL object"),
    pytest.param(
        sign(header(kid="arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password")),
        UnknownKeyError,
        id="T-KID-4 secret ARN",
    ),
    *[
        pytest.param(sign(header(kid=kid)), MalformedTokenError, id=f"T-KID-5 kid {kid!r:.20}")
        for kid in (123, None, [], {}, "", "k" * 10240, "k-cur\u0000", "k-cur ", "k" * 129, True)
    ],
    pytest.param(sign(header(kid="K-CUR")), UnknownKeyError, id="T-KID-5 kid case"),
    pytest.param(sign(header(kid=DROP)), MalformedTokenError, id="T-KID-6 missing kid"),
    pytest.param(sign(header(kid="k-old"), key=K_OLD), UnknownKeyError, id="T-KEY-1 rotated-out key"),
    pytest.param(sign(header(kid="k-prev"), key=K_PREV), None, id="T-KEY-2 previous key accepted"),
    pytest.param(sign(key=K_PREV), InvalidSignatureError, id="T-KEY-3 kid/key mismatch"),
    # ---------------------------------------------------------------- T-HDR header semantics
    pytest.param(sign(header(crit=["exp"], exp=1)), ForbiddenHeaderError, id="T-HDR-1 crit unknown"),
    pytest.param(sign(header(crit=[])), ForbiddenHeaderError, id="T-HDR-2 crit empty"),
    pytest.param(sign(header(crit=["alg"])), ForbiddenHeaderError, id="T-HDR-3 crit lists alg"),
    pytest.param(sign(header(crit="b64", b64=True)), ForbiddenHeaderError, id="T-HDR-4 crit not array"),
    pytest.param(sign(header(b64=False, crit=["b64"])), ForbiddenHeaderError, id="T-HDR-5 b64 false"),
    pytest.param(sign(header(b64=True)), ForbiddenHeaderError, id="T-HDR-5 b64 true"),
    pytest.param(sign(header(zip="DEF")), ForbiddenHeaderError, id="T-HDR-6 zip"),
    pytest.param(sign(header(enc="A256GCM")), ForbiddenHeaderError, id="T-HDR-7 enc"),
    pytest.param(sign(header(foo="bar")), None, id="T-HDR-8 unknown parameter ignored (policy)"),
    # ---------------------------------------------------------------- T-TIME time
    pytest.param(sign(payload=claims(exp=DROP)), MissingClaimError, id="T-TIME-1 no exp"),
    pytest.param(sign(payload=claims(exp=NOW)), None, id="T-TIME-2 exp now within leeway"),
    pytest.param(sign(payload=claims(exp=NOW - 59)), None, id="T-TIME-3 exp now-59"),
    pytest.param(sign(payload=claims(exp=NOW - 60)), ExpiredTokenError, id="T-TIME-4 exp now-60"),
    pytest.param(sign(payload=claims(exp=NOW - 61)), ExpiredTokenError, id="T-TIME-5 exp now-61"),
    pytest.param(sign(payload=claims(nbf=NOW + 60)), None, id="T-TIME-6 nbf now+60"),
    pytest.param(sign(payload=claims(nbf=NOW + 61)), NotYetValidError, id="T-TIME-7 nbf now+61"),
    pytest.param(sign(payload=claims(iat=NOW + 61)), NotYetValidError, id="T-TIME-8 iat in the future"),
    pytest.param(sign(payload=claims(iat=NOW + 60)), None, id="T-TIME-8 control: iat now+60"),
    pytest.param(sign(payload=claims(iat=DROP)), MissingClaimError, id="T-TIME-9 no iat"),
    pytest.param(sign(payload=claims(exp=NOW + 86400)), InvalidClaimError, id="T-TIME-10 lifetime 24h"),
    pytest.param(sign(payload=claims(exp=NOW + 900)), None, id="T-TIME-10 control: lifetime = max"),
    pytest.param(sign(payload=claims(exp=NOW + 901)), InvalidClaimError, id="T-TIME-10 lifetime max+1"),
    pytest.param(sign(payload=claims(exp=str(NOW + 300))), InvalidClaimError, id="T-TIME-11 exp string"),
    pytest.param(sign(payload=claims(exp=NOW + 300.5)), None, id="T-TIME-12 exp fractional"),
    pytest.param(
        sign(payload=json.dumps(claims(exp=DROP))[:-1] + ',"exp":1.7000003e9}'), None, id="T-TIME-12 exp exponent"
    ),
    *[
        pytest.param(sign(payload=claims(**{name: value})), InvalidClaimError, id=f"T-TIME-13 {name} {value}")
        for name, value in (("exp", True), ("exp", False), ("nbf", False), ("iat", True))
    ],
    *[
        pytest.param(sign(payload=claims(exp=value)), InvalidClaimError, id=f"T-TIME-14 exp {value!r}")
        for value in (None, [], {}, [NOW + 300])
    ],
    pytest.param(sign(payload=claims(nbf=None)), InvalidClaimError, id="T-TIME-14 nbf null"),
    pytest.param(sign(payload=claims(exp=10**20)), InvalidClaimError, id="T-TIME-16 exp 1e20 int"),
    pytest.param(sign(payload=claims(exp=9007199254740993)), InvalidClaimError, id="T-TIME-16 exp 2^53+1"),
    pytest.param(sign(payload=claims(exp=1e300)), InvalidClaimError, id="T-TIME-16 exp 1e300"),
    pytest.param(sign(payload=claims(iat=10**400)), InvalidClaimError, id="T-TIME-16 iat 400 digits"),
    *[
        pytest.param(sign(payload=claims(exp=value)), ExpiredTokenError, id=f"T-TIME-17 exp {value!r}")
        for value in (-1, 0, -0.0)
    ],
    pytest.param(sign(payload=claims(nbf=-1)), None, id="T-TIME-18 nbf -1"),
    pytest.param(sign(payload=claims(iat=-1)), InvalidClaimError, id="T-TIME-19 iat -1 (lifetime)"),
    # ---------------------------------------------------------------- T-ISS, T-AUD, T-SUB, T-JTI, T-SCOPE
    *[
        pytest.param(sign(payload=claims(iss=iss)), InvalidIssuerError, id=f"T-ISS {iss}")
        for iss in (
            "https://evil.example.com",
            ISS + "/",
            ISS.upper(),
            ISS + ".evil.com",
            "auth",
            "https",
            "https://auth.example.com\u0000",
            "https://ａuth.example.com",
        )
    ],
    pytest.param(sign(payload=claims(iss=[ISS])), InvalidClaimError, id="T-ISS-5 iss array"),
    pytest.param(sign(payload=claims(iss=None)), InvalidClaimError, id="T-ISS-5 iss null"),
    pytest.param(sign(payload=claims(iss=DROP)), MissingClaimError, id="T-ISS-5 iss missing"),
    pytest.param(sign(payload=claims(aud=AUD)), None, id="T-AUD-1 string"),
    pytest.param(sign(payload=claims(aud=[AUD])), None, id="T-AUD-2 array"),
    pytest.param(sign(payload=claims(aud=["https://other.example.com", AUD])), None, id="T-AUD-2 array of two"),
    pytest.param(sign(payload=claims(aud=[])), InvalidClaimError, id="T-AUD-3 empty array"),
    pytest.param(sign(payload=claims(aud=DROP)), MissingClaimError, id="T-AUD-3 missing"),
    pytest.param(sign(payload=claims(aud=None)), InvalidClaimError, id="T-AUD-3 null"),
    *[
        pytest.param(sign(payload=claims(aud=aud)), InvalidAudienceError, id=f"T-AUD-4/5/7 {aud}")
        for aud in (AUD + ".evil", "x" + AUD + "x", AUD + "/", AUD.upper(), CLIENT, "https://api.exаmple.com")
    ],
    pytest.param(sign(payload=claims(aud=["x" + AUD + "x"])), InvalidAudienceError, id="T-AUD-4 array substring"),
    *[
        pytest.param(sign(payload=claims(aud=aud)), InvalidClaimError, id=f"T-AUD-6 {aud!r}")
        for aud in ([AUD, 123], {"0": AUD}, 123, [None], True)
    ],
    pytest.param(sign(payload=claims(sub=DROP)), MissingClaimError, id="T-SUB-1 missing"),
    *[
        pytest.param(sign(payload=claims(sub=sub)), InvalidClaimError, id=f"T-SUB-1 sub {sub!r}")
        for sub in ("", 123, None, ["user-123"])
    ],
    pytest.param(sign(payload=claims(client_id=DROP)), MissingClaimError, id="T-SUB-2 client_id missing"),
    pytest.param(sign(payload=claims(client_id="")), InvalidClaimError, id="T-SUB-2 client_id empty"),
    pytest.param(sign(payload=claims(jti=DROP)), MissingClaimError, id="T-JTI-1 missing"),
    pytest.param(sign(payload=claims(jti=123)), InvalidClaimError, id="T-JTI-1 number"),
    pytest.param(sign(payload=claims(scope=["read"])), InvalidClaimError, id="T-SCOPE-1 scope array (policy)"),
    pytest.param(sign(payload=claims(scope=DROP)), None, id="T-SCOPE-1 scope absent: empty scope"),
    pytest.param(sign(payload=claims(roles="admin")), InvalidClaimError, id="roles not an array"),
    pytest.param(sign(payload=claims(roles=["a", 1])), InvalidClaimError, id="roles non-string"),
    pytest.param(sign(payload=claims(x="y")), None, id="T-CLAIM-1 unknown claim ignored"),
    # ---------------------------------------------------------------- T-TYP, T-CONFUSE typ, confusion
    *[
        pytest.param(sign(header(typ=typ)), None, id=f"T-TYP-1 {typ}")
        for typ in ("at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT")
    ],
    *[
        pytest.param(sign(header(typ=typ)), WrongTokenTypeError, id=f"T-TYP-2/3/4 {typ!r}")
        for typ in (
            "JWT",
            "jwt",
            DROP,
            "at+jwt ",
            "at+jwt\u0000",
            ["at+jwt"],
            "application/at+jwt; charset=utf-8",
            "dpop+jwt",
            "logout+jwt",
            "secevent+jwt",
            "rt+jwt",
            "id_token",
            "application/application/at+jwt",
            "text/at+jwt",
            None,
            "reset+jwt",
            "\u0430t+jwt",
        )
    ],
    pytest.param(
        sign(
            header(typ="JWT"),
            {"iss": ISS, "sub": "user-123", "aud": CLIENT, "nonce": "n-0S6", "iat": NOW, "exp": NOW + 300,
             "auth_time": NOW},
        ),
        WrongTokenTypeError,
        id="T-CONFUSE-1 ID token as access token",
    ),
    pytest.param(secrets.token_urlsafe(32), MalformedTokenError, id="T-CONFUSE-2 refresh token as access token"),
    pytest.param(
        sign(payload=claims(aud="https://billing.example.com")), InvalidAudienceError, id="T-CONFUSE-3 other API"
    ),
    pytest.param(
        sign(header(kid="k-old"), claims(iss="https://staging.auth.example.com"), key=K_OLD),
        UnknownKeyError,
        id="T-CONFUSE-4 other environment key",
    ),
    pytest.param(
        sign(payload=claims(iss="https://staging.auth.example.com")), InvalidIssuerError, id="T-CONFUSE-4 issuer"
    ),
    # ---------------------------------------------------------------- T-UNI Unicode
    pytest.param(sign(payload=_with_raw_member('"sub":"\\ud800"')), MalformedTokenError, id="T-UNI-4 lone high"),
    pytest.param(sign(payload=_with_raw_member('"x":["\\udc00"]')), MalformedTokenError, id="T-UNI-4 lone low nested"),
    pytest.param(sign(payload=_with_raw_member('"\\ud800":1')), MalformedTokenError, id="T-UNI-4 lone in a name"),
    pytest.param(sign(payload=json.dumps(claims(sub="\U0001f600"))), None, id="T-UNI-4 control: escaped pair ok"),
]


@pytest.mark.parametrize(("token", "expected"), CASES)
def test_catalog(token, expected):
    v = verifier()
    if expected is None:
        result = v.verify(token)
        assert result.issuer == ISS and AUD in result.audience
    else:
        with pytest.raises(expected) as info:
            v.verify(token)
        assert type(info.value) is expected, f"{type(info.value).__name__} != {expected.__name__}"
        assert isinstance(info.value, TokenError)


def test_header_identity_is_ignored():
    """T-HDR-9: a ``sub`` in the header is never identity."""
    result = verifier().verify(sign(header(sub="admin")))
    assert result.subject == "user-123"


@pytest.mark.parametrize(
    "sub",
    ["user-123\u0000", "user-123\u0000admin", "ad\u200bmin", "ａｄｍｉｎ", "\u0430dmin", "admin\u202e", "user\r\nINFO forged"],
)
def test_unicode_subjects_are_exact(sub):
    """T-UNI-1..3: no truncation, no normalisation: the subject is exactly what was signed."""
    result = verifier().verify(sign(payload=claims(sub=sub)))
    assert result.subject == sub
    assert result.subject not in ("admin", "user-123")


def test_scope_is_never_widened():
    """T-SCOPE-1: the verified scope is exactly the signed string, split on spaces."""
    result = verifier().verify(sign(payload=claims(scope="read  admin")))
    assert result.scope == ("read", "admin")
    assert verifier().verify(sign(payload=claims(scope="read\tadmin"))).scope == ("read\tadmin",)


def test_expiry_boundary_over_time():
    """T-TIME-20 at the core: accepted at NOW+299, rejected from NOW+360 (exp+leeway) on."""
    token = sign()
    assert verifier(now=NOW + 299).verify(token).expires_at == NOW + 300
    assert verifier(now=NOW + 359.999).verify(token).subject == "user-123"
    for now in (NOW + 360, NOW + 361):
        with pytest.raises(ExpiredTokenError):
            verifier(now=now).verify(token)


def test_leeway_zero_rejects_exp_equal_now():
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy

    strict = AccessTokenVerifier(ClaimsPolicy(ISS, AUD, leeway=0, max_lifetime=900), verifier()._keys, lambda: NOW)
    with pytest.raises(ExpiredTokenError):
        strict.verify(sign(payload=claims(exp=NOW)))


def test_malleated_twin_has_the_same_jti():
    """T-SIG-9: the twin verifies, so revocation must key on ``jti`` (same value), not token bytes."""
    twin = with_signature(GOOD, rs(R, N_P256 - S))
    assert twin != GOOD
    assert verifier().verify(twin).jti == verifier().verify(GOOD).jti


class _CountingKeys:
    def __init__(self, inner):
        self.inner, self.kids = inner, []

    def get_verification_key(self, kid):
        self.kids.append(kid)
        return self.inner.get_verification_key(kid)


def test_no_key_lookup_for_refused_headers():
    """Header rules run before the key provider is asked: a hostile kid never reaches it."""
    keys = _CountingKeys(verifier()._keys)
    v = verifier(keys=keys)
    for token in (
        sign(header(kid="k" * 10240)),
        sign(header(kid="x' OR 1=1 --")),
        sign(header(jku="https://attacker.example/")),
        sign(header(alg="HS256")),
        sign(header(typ="JWT")),
    ):
        with pytest.raises(TokenError):
            v.verify(token)
    assert keys.kids == []
    with pytest.raises(UnknownKeyError):
        v.verify(sign(header(kid="arn:aws:secretsmanager:us-east-1:1:secret:x")))
    assert keys.kids == ["arn:aws:secretsmanager:us-east-1:1:secret:x"]  # an in-memory lookup only


def test_no_network_for_url_headers(monkeypatch):
    """T-INJ-2/3: zero outbound connections, whatever the header says."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("jku", "x5u"):
        with pytest.raises(ForbiddenHeaderError):
            verifier().verify(sign(header(**{name: "http://169.254.169.254/latest/meta-data/"})))


def test_oversized_token_is_refused_before_decoding():
    big = sign(payload=claims(pad="x" * 7000))
    assert len(big) > 8192
    with pytest.raises(MalformedTokenError):
        verifier().verify(big)
    assert verifier().verify(sign(payload=claims(pad="x" * 5000))).raw["pad"] == "x" * 5000


@pytest.mark.parametrize("value", [None, b"a.b.c", 123, ["a", "b", "c"]])
def test_non_string_tokens_are_malformed(value):
    with pytest.raises(MalformedTokenError):
        verifier().verify(value)


def test_hmac_helper_is_a_real_hmac():
    """Guards the confusion cases: the helper really computes HMAC-SHA256 over the input."""
    token = hs256(H0, P0, b"secret")
    si, _, _ = token.rpartition(".")
    assert signature_of(token) == hmac.new(b"secret", si.encode(), hashlib.sha256).digest()
    assert b64url_encode(b"\xfb\xff") == "-_8"
