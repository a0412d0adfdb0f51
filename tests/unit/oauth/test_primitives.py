"""Passwords (Argon2id PHC), the grace-window seal (HKDF + Fernet), scopes, refresh-token format."""

from __future__ import annotations

import pytest

from auth_core.errors import InvalidGrantError, InvalidScopeError
from auth_core.oauth.grace import hkdf_sha256, open_response, seal_response
from auth_core.oauth.refresh import hash_refresh_token, looks_like_refresh_token, new_refresh_token
from auth_core.oauth.scope import format_scope, resolve_scope
from auth_core.passwords import PasswordHasher
from auth_core.stores.clients import Client, hash_client_secret

FAST = PasswordHasher(memory_cost=256, iterations=1)


# ---------------------------------------------------------------- passwords
def test_default_parameters_are_owasp():
    hasher = PasswordHasher()
    assert (hasher.memory_cost, hasher.iterations, hasher.lanes, hasher.salt_length, hasher.hash_length) == (
        19456,
        2,
        1,
        16,
        32,
    )


def test_hash_is_phc_and_salted():
    a, b = FAST.hash("pw"), FAST.hash("pw")
    assert a.startswith("nfkc:$argon2id$v=19$m=256,t=1,p=1$")  # over the NFKC form
    assert a != b
    FAST.verify("pw", a)
    FAST.verify("pw", b)


@pytest.mark.parametrize("password", ["pW", "pw ", "", "x" * 1025, "\ud800"])
def test_verify_rejects_wrong_or_malformed(password):
    with pytest.raises(InvalidGrantError):
        FAST.verify(password, FAST.hash("pw"))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "nfkc:",
        "nfkc:plain",
        "nfkc:$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=16$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ],
)
def test_corrupt_stored_hash_never_verifies(stored):
    with pytest.raises(InvalidGrantError):
        FAST.verify("pw", stored)


def test_unicode_password_round_trip():
    stored = FAST.hash("pässwörd 🔑")
    assert stored.startswith("nfkc:$argon2id$") and "pässwörd" not in stored
    FAST.verify("pässwörd 🔑", stored)  # raises on a mismatch
    with pytest.raises(InvalidGrantError):
        FAST.verify("passwörd 🔑", stored)


def test_needs_rehash_when_parameters_change():
    old = FAST.hash("pw")
    assert not FAST.needs_rehash(old)
    assert PasswordHasher(memory_cost=512, iterations=1).needs_rehash(old)
    assert FAST.needs_rehash("garbage")


def test_verify_dummy_always_fails():
    with pytest.raises(InvalidGrantError) as info:
        FAST.verify_dummy("anything")
    assert info.value.reason == "unknown_user"


# ---------------------------------------------------------------- grace seal
def test_hkdf_rfc5869_test_case_1():
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_seal_opens_only_with_the_parent_token():
    token = new_refresh_token()
    blob = seal_response(token, hash_refresh_token(token), '{"a":1}')
    assert open_response(token, hash_refresh_token(token), blob) == '{"a":1}'
    other = new_refresh_token()
    assert open_response(other, hash_refresh_token(token), blob) is None
    assert open_response(token, hash_refresh_token(token), blob[:-2] + "AA") is None
    assert open_response(token, hash_refresh_token(token), "not a fernet token") is None
    assert '"a"' not in blob


def test_seal_key_is_not_derivable_from_the_stored_hash():
    token = new_refresh_token()
    stored = hash_refresh_token(token)
    blob = seal_response(token, stored, "x")
    assert open_response(stored, stored, blob) is None


# ---------------------------------------------------------------- scopes
@pytest.mark.parametrize(
    ("requested", "allowed", "granted"),
    [
        (None, ("read", "write"), ("read", "write")),
        ("write", ("read", "write"), ("write",)),
        ("write read", ("read", "write"), ("read", "write")),
        ("read read", ("read", "write"), ("read",)),
        (None, (), ()),
    ],
)
def test_resolve_scope(requested, allowed, granted):
    assert resolve_scope(requested, allowed) == granted


@pytest.mark.parametrize(
    "requested", ["admin", "read admin", "Read", " read", "read  write", 'a"b', "a\\b", "é"]
)
def test_resolve_scope_rejects(requested):
    with pytest.raises(InvalidScopeError):
        resolve_scope(requested, ("read", "write"))


def test_format_scope():
    assert format_scope(("a", "b")) == "a b"


# ---------------------------------------------------------------- refresh-token format, client secrets
def test_refresh_token_shape():
    token = new_refresh_token()
    assert looks_like_refresh_token(token)
    assert len(hash_refresh_token(token)) == 64
    for bad in ["", "a.b.c", token + "=", token[:-1], token.replace(token[0], "+", 1), token + "\n"]:
        assert not looks_like_refresh_token(bad)


def test_client_secret_hash_and_compare():
    client = Client("c", secret_hash=hash_client_secret("s3cret"))
    assert client.confidential
    assert client.secret_matches("s3cret")
    assert not client.secret_matches("s3cre")
    assert not Client("p").secret_matches("")


# SP 800-63B §3.1.1.2: the same password typed in another Unicode form is the same password.
EQUIVALENT = [
    ("p\u00e4ssw\u00f6rd", "pa\u0308sswo\u0308rd"),  # precomposed vs combining marks (NFC vs NFD)
    ("ＰＡＳＳｗｏｒｄ１２", "PASSword12"),  # full-width keyboard input vs ASCII
    ("\ufb01nancial plan", "financial plan"),  # the "fi" ligature
    ("Å ångström", "A\u030a a\u030angstro\u0308m"),
]


@pytest.mark.parametrize(("typed_at_set", "typed_at_login"), EQUIVALENT)
def test_equivalent_unicode_forms_are_one_password(typed_at_set, typed_at_login):
    FAST.verify(typed_at_login, FAST.hash(typed_at_set))  # raises on a mismatch
    FAST.verify(typed_at_set, FAST.hash(typed_at_login))


def test_distinct_passwords_stay_distinct_after_normalisation():
    with pytest.raises(InvalidGrantError):
        FAST.verify("pässwörd", FAST.hash("passwörd"))
    with pytest.raises(InvalidGrantError):
        FAST.verify("PASSWORD12", FAST.hash("ＰＡＳＳｗｏｒｄ１２"))  # case still counts


def _legacy_hash(password: str) -> str:
    """A hash as this module made them before normalisation: over the bytes as typed, no prefix."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(salt=b"0123456789abcdef", length=32, iterations=1, lanes=1, memory_cost=256)
    return kdf.derive_phc_encoded(password.encode("utf-8"))


def test_hashes_from_before_normalisation_still_verify_as_typed_and_ask_for_a_rehash():
    nfd = "pa\u0308sswo\u0308rd"
    legacy = _legacy_hash(nfd)
    FAST.verify(nfd, legacy)  # nobody is locked out by the change
    with pytest.raises(InvalidGrantError):
        FAST.verify("p\u00e4ssw\u00f6rd", legacy)  # the old hash knows only the form typed then
    assert FAST.needs_rehash(legacy)  # so the login path stores the normalised hash
    upgraded = FAST.hash(nfd)
    assert not FAST.needs_rehash(upgraded)
    FAST.verify("p\u00e4ssw\u00f6rd", upgraded)
