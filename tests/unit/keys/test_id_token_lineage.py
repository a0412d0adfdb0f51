"""The RS256 ID-token lineage: kept when SIGNING_ALG is not RS256, same life cycle, refused by
access-token key lookups (auth_core.keyset, auth_core.rotation, auth_core.jwk.JWKSet)."""

from __future__ import annotations

import json

import pytest

from auth_core.errors import KeyFormatError, KeyStoreError, KeyStoreUnavailableError, UnknownKeyError
from auth_core.jwa import ALGORITHMS, ID_TOKEN_ALG
from auth_core.jwk import JWKSet
from auth_core.keyset import ID_TOKEN, MAIN, KeyRecord, KeySet
from auth_core.keystore import PublicKeyStore, SigningKeyStore
from auth_core.rotation import RotationPolicy, needs_id_token_lineage, revoke_all, revoke_kids, rotate
from tests.keypool import pooled_key
from tests.unit.keys.fakes import CountingFetch, ManualClock

POLICY = RotationPolicy(cache_ttl=300, max_token_lifetime=3600, leeway=60)
T0 = 1_700_000_000
OTHER_ALGS = [alg for alg in ALGORITHMS if alg != ID_TOKEN_ALG]


def _rot(keyset: KeySet, now: int, alg: str, **kw: object) -> KeySet:
    out = rotate(keyset, alg=alg, now=now, policy=POLICY, generate=pooled_key, **kw)  # type: ignore[arg-type]
    return KeySet.from_json(out.to_json())  # every step survives storage


def _lineages(keyset: KeySet) -> list[tuple[str, str, str]]:
    return [(r.lineage, r.status, r.key.alg) for r in keyset.records]


# --------------------------------------------------------------------------- every algorithm
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_algorithm_always_has_an_rs256_id_token_key(alg):
    keyset = KeySet.empty()
    for i in range(4):
        keyset = _rot(keyset, T0 + i * 1000, alg)
        id_key = keyset.get_id_token_key()
        assert id_key.alg == "RS256"
        assert keyset.get_signing_key().alg == alg
        if alg == "RS256":
            # one lineage serves both: no extra key
            assert keyset.lineage(ID_TOKEN) == ()
            assert id_key is keyset.get_signing_key()
        else:
            assert id_key.kid == keyset.active_of(ID_TOKEN).kid != keyset.get_signing_key().kid
            assert keyset.next_of(ID_TOKEN).key.alg == "RS256"
        published = JWKSet.from_dict(keyset.public_jwks())
        assert id_key.kid in published and id_key.kid in published.id_token_keys()


@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_id_token_lineage_rotates_with_publish_before_use_and_keep_after_use(alg):
    keyset = _rot(KeySet.empty(), T0, alg)
    first_id = keyset.active_of(ID_TOKEN).kid
    young = _rot(keyset, T0 + POLICY.cache_ttl - 1, alg)
    assert young.active_of(ID_TOKEN).kid == first_id  # the next is too young to sign
    t1 = T0 + POLICY.cache_ttl
    second = _rot(keyset, t1, alg, published=frozenset(r.kid for r in keyset.records))
    assert second.active_of(ID_TOKEN).kid == keyset.next_of(ID_TOKEN).kid
    retired = second.get(first_id)
    assert retired.status == "retired" and retired.lineage == ID_TOKEN and not retired.has_private
    assert _rot(second, t1 + POLICY.retention, alg).get(first_id) is not None
    assert _rot(second, t1 + POLICY.retention + 1, alg).get(first_id) is None


@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_an_unpublished_id_token_next_is_not_promoted(alg):
    keyset = _rot(KeySet.empty(), T0, alg)
    published = frozenset(r.kid for r in keyset.records) - {keyset.next_of(ID_TOKEN).kid}
    out = _rot(keyset, T0 + 10_000, alg, published=published)
    assert out.active_of(ID_TOKEN).kid == keyset.active_of(ID_TOKEN).kid
    assert out.next_of(ID_TOKEN).kid == keyset.next_of(ID_TOKEN).kid


# --------------------------------------------------------------------------- old documents
@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_an_old_document_gets_an_id_token_next_first(alg):
    old = KeySet(
        [
            KeyRecord(pooled_key(alg), "active", T0, T0),
            KeyRecord(pooled_key(alg), "next", T0),
        ]
    )
    # an old document loads as it was: one lineage, no lineage member anywhere
    doc = old.to_dict()
    assert all("lineage" not in key for key in doc["keys"])
    assert KeySet.from_dict(doc).lineage(ID_TOKEN) == ()
    with pytest.raises(KeyStoreError) as caught:
        old.get_id_token_key()
    assert caught.value.reason == "no_active_key"
    # the first rotation publishes the ID-token next only: it signs nothing before it was public
    first = _rot(old, T0 + 10, alg)
    assert first.active_of(ID_TOKEN) is None and first.next_of(ID_TOKEN).key.alg == "RS256"
    with pytest.raises(KeyStoreError):
        first.get_id_token_key()
    second = _rot(first, T0 + 10 + POLICY.cache_ttl, alg)
    assert second.get_id_token_key().kid == first.next_of(ID_TOKEN).kid


def test_an_old_rs256_document_needs_no_second_lineage():
    old = KeySet(
        [KeyRecord(pooled_key("RS256"), "active", T0, T0), KeyRecord(pooled_key("RS256"), "next", T0)]
    )
    assert old.get_id_token_key() is old.get_signing_key()
    assert _rot(old, T0 + 1000, "RS256").lineage(ID_TOKEN) == ()


# --------------------------------------------------------------------------- algorithm changes
@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_changing_away_from_rs256_never_leaves_id_tokens_without_a_published_key(alg):
    keyset = _rot(KeySet.empty(), T0, "RS256")
    now = T0
    signer_since: dict[str, int] = {}
    for _ in range(4):
        now += 1000
        before = keyset
        keyset = _rot(keyset, now, alg, published=frozenset(r.kid for r in before.records))
        id_key = keyset.get_id_token_key()
        assert id_key.alg == "RS256"
        # the key that signs ID tokens now was published before this step (or already signed)
        assert before.get(id_key.kid) is not None
        signer_since.setdefault(id_key.kid, now)
    assert keyset.get_signing_key().alg == alg
    assert keyset.active_of(ID_TOKEN) is not None


@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_changing_back_to_rs256_winds_the_id_token_lineage_down(alg):
    keyset = _rot(KeySet.empty(), T0, alg)
    now = T0
    for _ in range(3):
        now += 1000
        before = keyset
        keyset = _rot(keyset, now, "RS256", published=frozenset(r.kid for r in before.records))
        id_key = keyset.get_id_token_key()
        assert id_key.alg == "RS256" and before.get(id_key.kid) is not None
    # the main lineage is RS256 throughout now and signs ID tokens; the old ID-token keys are
    # retired (published until their tokens expired), none can sign
    assert keyset.get_id_token_key() is keyset.get_signing_key()
    assert {(r.status, r.has_private) for r in keyset.lineage(ID_TOKEN)} == {("retired", False)}
    later = _rot(keyset, now + POLICY.retention + 1000, "RS256")
    assert later.lineage(ID_TOKEN) == ()


def test_needs_id_token_lineage():
    rs, es = pooled_key("RS256"), pooled_key("ES256")
    assert needs_id_token_lineage("ES256", [])
    assert not needs_id_token_lineage("RS256", [KeyRecord(rs, "active", T0, T0)])
    assert needs_id_token_lineage("RS256", [KeyRecord(rs, "active", T0, T0), KeyRecord(es, "next", T0)])
    assert not needs_id_token_lineage("RS256", [KeyRecord(es.public_key(), "retired", T0, T0, T0)])


# --------------------------------------------------------------------------- revocation
@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_revoke_all_replaces_both_lineages(alg):
    keyset = _rot(_rot(KeySet.empty(), T0, alg), T0 + 1000, alg)
    out = revoke_all(keyset, alg=alg, now=T0 + 1001, policy=POLICY, generate=pooled_key)
    assert _lineages(out) == [
        (MAIN, "active", alg),
        (MAIN, "next", alg),
        (ID_TOKEN, "active", "RS256"),
        (ID_TOKEN, "next", "RS256"),
    ]
    assert set(out.revoked) == {r.kid for r in keyset.records}
    assert out.get_id_token_key().kid not in keyset.revoked


def test_revoke_all_in_rs256_keeps_one_lineage():
    keyset = _rot(KeySet.empty(), T0, "ES256")
    out = revoke_all(keyset, alg="RS256", now=T0 + 1, policy=POLICY, generate=pooled_key)
    assert _lineages(out) == [(MAIN, "active", "RS256"), (MAIN, "next", "RS256")]


@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_revoking_the_id_token_active_key_moves_id_signing_at_once(alg):
    keyset = _rot(KeySet.empty(), T0, alg)
    compromised = keyset.active_of(ID_TOKEN).kid
    out = revoke_kids(keyset, [compromised], alg=alg, now=T0 + 5, policy=POLICY, generate=pooled_key)
    assert out.get(compromised) is None and compromised in out.revoked
    assert out.get_id_token_key().kid != compromised and out.active_of(ID_TOKEN).activated_at == T0 + 5
    # every other private key sat in the same secret: replaced too
    assert not {r.kid for r in out.records} & {r.kid for r in keyset.records}


@pytest.mark.parametrize("alg", OTHER_ALGS)
def test_revoking_the_id_token_next_replaces_only_it(alg):
    keyset = _rot(KeySet.empty(), T0, alg)
    upcoming = keyset.next_of(ID_TOKEN).kid
    out = revoke_kids(keyset, [upcoming], alg=alg, now=T0 + 5, policy=POLICY, generate=pooled_key)
    assert set(out.revoked) == {upcoming}
    assert out.next_of(ID_TOKEN).kid != upcoming and out.next_of(ID_TOKEN).created_at == T0 + 5
    assert out.active_of(ID_TOKEN).kid == keyset.active_of(ID_TOKEN).kid
    assert out.active.kid == keyset.active.kid and out.next.kid == keyset.next.kid


# --------------------------------------------------------------------------- the document
def _two_lineages() -> KeySet:
    return KeySet(
        [
            KeyRecord(pooled_key("ES256"), "active", T0, T0),
            KeyRecord(pooled_key("ES256"), "next", T0),
            KeyRecord(pooled_key("RS256"), "active", T0, T0, lineage=ID_TOKEN),
            KeyRecord(pooled_key("RS256"), "next", T0, lineage=ID_TOKEN),
        ]
    )


def test_lineage_round_trips_and_is_published():
    keyset = _two_lineages()
    doc = keyset.to_dict()
    assert [key.get("lineage") for key in doc["keys"]] == [None, None, "id_token", "id_token"]
    assert KeySet.from_dict(doc).to_dict() == doc
    public = keyset.public_jwks()["keys"]
    assert [key.get("lineage") for key in public] == [None, None, "id_token", "id_token"]
    assert all("d" not in key and "status" not in key for key in public)
    assert keyset.get_id_token_key().kid == keyset.active_of(ID_TOKEN).kid
    assert keyset.get_signing_key().kid == keyset.active.kid


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda keys: keys[3].update(status="active", activated_at=T0), "more than one active"),
        (lambda keys: keys[2].update(status="next", activated_at=None), "more than one next"),
        (lambda keys: keys[2].update(lineage="access"), "lineage"),
        (lambda keys: keys[2].update(lineage="main"), "lineage"),
        (lambda keys: keys[0].update(lineage="id_token"), "RS256"),  # an ES256 key as ID-token key
        (lambda keys: keys[2].update(lineage=None), "lineage"),
    ],
)
def test_invariants_are_checked_on_load(mutate, message):
    doc = _two_lineages().to_dict()
    mutate(doc["keys"])
    with pytest.raises(KeyFormatError, match=message):
        KeySet.from_dict(doc)


def test_one_active_per_lineage_is_allowed_but_not_two():
    es, rs = pooled_key("ES256"), pooled_key("RS256")
    KeySet([KeyRecord(es, "active", T0, T0), KeyRecord(rs, "active", T0, T0, lineage=ID_TOKEN)])
    with pytest.raises(KeyFormatError):
        KeySet([KeyRecord(es, "active", T0, T0), KeyRecord(rs, "active", T0, T0)])
    with pytest.raises(KeyFormatError):
        KeyRecord(es, "active", T0, T0, lineage="other")


def test_no_id_token_key_is_an_error_like_no_signing_key():
    es = pooled_key("ES256")
    for keyset in (KeySet.empty(), KeySet([KeyRecord(es, "active", T0, T0)])):
        with pytest.raises(KeyStoreError) as caught:
            keyset.get_id_token_key()
        assert caught.value.reason == "no_active_key"


# --------------------------------------------------------------------------- the public set
def test_access_token_lookup_never_returns_an_id_token_key():
    keyset = _two_lineages()
    published = JWKSet.from_json(json.dumps(keyset.public_jwks()))
    id_kid = keyset.active_of(ID_TOKEN).kid
    assert id_kid in published and id_kid in published.kids and id_kid in published.id_token_kids
    with pytest.raises(UnknownKeyError):
        published.get_verification_key(id_kid)
    assert published.get_verification_key(keyset.active.kid).kid == keyset.active.kid
    # the ID-token provider holds the ID-token lineage (and RS256 main keys), never ES256 ones
    id_provider = published.id_token_keys()
    assert id_provider.get_verification_key(id_kid).kid == id_kid
    with pytest.raises(UnknownKeyError):
        id_provider.get_verification_key(keyset.active.kid)
    # what is read back is what was written (the rotation compares published documents)
    assert published.to_dict() == keyset.public_jwks()


@pytest.mark.parametrize("value", ["access", "", None, 1, ["id_token"]])
def test_a_published_key_of_an_unknown_lineage_is_refused(value):
    jwk = {**pooled_key("RS256").to_public_jwk(), "lineage": value}
    with pytest.raises(KeyFormatError):
        JWKSet.from_dict({"keys": [jwk]})


def test_a_published_id_token_key_must_be_rs256():
    jwk = {**pooled_key("ES256").to_public_jwk(), "lineage": "id_token"}
    with pytest.raises(KeyFormatError):
        JWKSet.from_dict({"keys": [jwk]})


# --------------------------------------------------------------------------- the stores
def test_public_key_store_refuses_an_id_token_kid_without_refetching():
    keyset = _two_lineages()
    fetch = CountingFetch({("jwks", "AWSCURRENT"): json.dumps(keyset.public_jwks())})
    store = PublicKeyStore("jwks", fetch=fetch, clock=ManualClock())
    assert store.get_verification_key(keyset.active.kid).kid == keyset.active.kid
    with pytest.raises(UnknownKeyError):
        store.get_verification_key(keyset.active_of(ID_TOKEN).kid)
    assert fetch.count == 1  # known, just not an access-token key: nothing to refetch
    assert store.is_published(keyset.active_of(ID_TOKEN).kid)


def test_signing_key_store_hands_out_the_id_token_key_and_never_a_revoked_one():
    keyset = _two_lineages()
    fetch = CountingFetch({("keys", "AWSCURRENT"): keyset.to_json()})
    revoked: set[str] = set()
    store = SigningKeyStore("keys", fetch=fetch, clock=ManualClock(), is_revoked=revoked.__contains__)
    assert store.get_id_token_key().kid == keyset.active_of(ID_TOKEN).kid
    assert store.get_signing_key().kid == keyset.active.kid
    revoked.add(keyset.active_of(ID_TOKEN).kid)
    with pytest.raises(KeyStoreUnavailableError):
        store.get_id_token_key()  # as get_signing_key: refetched once, still revoked: nothing signed
    assert store.get_signing_key().kid == keyset.active.kid
