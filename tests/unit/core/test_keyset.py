"""The private key-set document: round trip, invariants, strict loading."""

from __future__ import annotations

import copy
import json

import pytest

from auth_core.errors import KeyFormatError, KeyStoreError
from auth_core.jwk import JWKSet
from auth_core.keyset import KeyRecord, KeySet


@pytest.fixture
def keyset(signing_keys) -> KeySet:
    return KeySet(
        [
            KeyRecord(signing_keys["RS256"], "retired", 100, 200, 300),
            KeyRecord(signing_keys["ES256"], "active", 200, 300),
            KeyRecord(signing_keys["EdDSA"], "next", 300),
        ]
    )


def test_round_trip_through_json(keyset):
    text = keyset.to_json()
    again = KeySet.from_json(text)
    assert again.to_dict() == keyset.to_dict()
    assert [r.kid for r in again.records] == [r.kid for r in keyset.records]
    doc = json.loads(text)
    assert doc["version"] == 1
    assert doc["keys"][0]["status"] == "retired" and doc["keys"][0]["retired_at"] == 300
    assert doc["keys"][2]["activated_at"] is None


def test_active_next_and_signing_key(keyset, signing_keys):
    assert keyset.active is not None and keyset.active.kid == signing_keys["ES256"].kid
    assert keyset.next is not None and keyset.next.kid == signing_keys["EdDSA"].kid
    assert keyset.get_signing_key() is signing_keys["ES256"]
    assert keyset.get(signing_keys["RS256"].kid).status == "retired"
    assert keyset.get("nope") is None


def test_public_jwks_holds_every_key_without_private_material(keyset):
    jwks = keyset.public_jwks()
    assert len(jwks["keys"]) == 3
    assert all("d" not in k and k["use"] == "sig" for k in jwks["keys"])
    assert JWKSet.from_dict(jwks).kids == {r.kid for r in keyset.records}


def test_empty_key_set_has_no_signing_key():
    empty = KeySet.empty()
    assert empty.active is None and empty.next is None and empty.public_jwks() == {"keys": []}
    with pytest.raises(KeyStoreError):
        empty.get_signing_key()
    assert KeySet.from_json(empty.to_json()).records == ()


def test_with_records_and_status_changes(keyset):
    promoted = keyset.with_records(
        [
            keyset.records[0],
            keyset.active.with_status("retired", 400),
            keyset.next.with_status("active", 400),
        ]
    )
    assert promoted.active.kid == keyset.next.kid and promoted.active.activated_at == 400
    assert promoted.next is None
    assert promoted.records[1].retired_at == 400
    assert keyset.active.status == "active"  # the original is unchanged
    with pytest.raises(KeyFormatError):
        keyset.with_records([keyset.active, keyset.next.with_status("active", 1)])
    with pytest.raises(KeyFormatError):
        keyset.active.with_status("revoked", 1)


def _doc(keyset):
    return json.loads(keyset.to_json())


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["keys"].append(dict(d["keys"][0])), id="duplicate-kid"),
        pytest.param(lambda d: d["keys"][0].update(status="active"), id="two-active"),
        pytest.param(lambda d: d["keys"][1].update(status="next"), id="two-next"),
        pytest.param(lambda d: d["keys"][0].update(status="revoked"), id="unknown-status"),
        pytest.param(lambda d: d["keys"][0].pop("status"), id="missing-status"),
        pytest.param(lambda d: d["keys"][0].pop("created_at"), id="missing-created_at"),
        pytest.param(lambda d: d["keys"][0].update(created_at="100"), id="string-timestamp"),
        pytest.param(lambda d: d["keys"][0].update(created_at=True), id="bool-timestamp"),
        pytest.param(lambda d: d["keys"][0].update(retired_at=-1), id="negative-timestamp"),
        pytest.param(lambda d: d["keys"][1].pop("d"), id="active-without-private-material"),
        pytest.param(lambda d: d["keys"][2].pop("d"), id="next-without-private-material"),
        pytest.param(lambda d: d["keys"][0].pop("d"), id="retired-with-leftover-private-members"),
        pytest.param(lambda d: d.update(revoked={}), id="revoked-not-list"),
        pytest.param(lambda d: d.update(revoked=[{"kid": "x"}]), id="revoked-without-until"),
        pytest.param(lambda d: d.update(revoked=[{"kid": "x", "until": True}]), id="revoked-bool-until"),
        pytest.param(lambda d: d.update(revoked=[{"kid": "", "until": 1}]), id="revoked-empty-kid"),
        pytest.param(
            lambda d: d.update(revoked=[{"kid": d["keys"][1]["kid"], "until": 1}]), id="revoked-kid-present"
        ),
        pytest.param(lambda d: d.update(grace_secret="c2hvcnQ"), id="grace-secret-short"),
        pytest.param(lambda d: d.update(grace_secret=5), id="grace-secret-not-string"),
        pytest.param(lambda d: d.update(grace_secret="A" * 42 + "+"), id="grace-secret-not-base64url"),
        pytest.param(lambda d: d.update(based_on=1), id="based-on-not-string"),
        pytest.param(lambda d: d["keys"][1].pop("kid"), id="missing-kid"),
        pytest.param(lambda d: d["keys"][1].pop("alg"), id="missing-alg"),
        pytest.param(lambda d: d["keys"][1].update(use="enc"), id="use-enc"),
        pytest.param(lambda d: d.update(version=2), id="version-2"),
        pytest.param(lambda d: d.update(version=True), id="version-bool"),
        pytest.param(lambda d: d.pop("version"), id="no-version"),
        pytest.param(lambda d: d.update(keys={}), id="keys-not-list"),
        pytest.param(lambda d: d["keys"].append("x"), id="entry-not-object"),
    ],
)
def test_strict_loading(keyset, mutate):
    doc = _doc(keyset)
    mutate(doc)
    with pytest.raises(KeyFormatError):
        KeySet.from_dict(doc)


@pytest.mark.parametrize("text", ["", "[]", "{", '{"version":1,"version":1,"keys":[]}', '{"version":NaN}'])
def test_from_json_rejects_invalid_json(text):
    with pytest.raises(KeyFormatError):
        KeySet.from_json(text)


def test_missing_optional_timestamps_default_to_null(keyset):
    doc = _doc(keyset)
    del doc["keys"][2]["activated_at"], doc["keys"][2]["retired_at"]
    loaded = KeySet.from_dict(doc)
    assert loaded.next.activated_at is None and loaded.next.retired_at is None


def test_keyset_repr_and_json_never_confused(keyset):
    assert keyset.records[0].key.to_private_jwk()["d"] not in repr(keyset)


def test_retired_record_may_be_public_only(keyset):
    doc = _doc(keyset)
    retired = doc["keys"][0]
    public = keyset.records[0].key.to_public_jwk()
    doc["keys"][0] = {
        **public,
        **{k: retired[k] for k in ("status", "created_at", "activated_at", "retired_at")},
    }
    loaded = KeySet.from_dict(doc)
    record = loaded.records[0]
    assert record.status == "retired" and not record.has_private
    assert loaded.public_jwks() == keyset.public_jwks()  # the public JWKS does not change
    assert "d" not in loaded.to_dict()["keys"][0]
    assert KeySet.from_json(loaded.to_json()).to_dict() == loaded.to_dict()
    assert keyset.records[0].has_private  # old documents (private retired keys) still load
    assert keyset.records[0].public_only().to_dict() == loaded.records[0].to_dict()


def test_public_only_key_cannot_be_active_or_next(keyset):
    public = keyset.records[0].public_only()
    with pytest.raises(KeyFormatError):
        public.with_status("active", 1)
    with pytest.raises(KeyFormatError):
        KeyRecord(public.key, "next", 1)


def test_a_record_is_an_immutable_value_and_its_copies_are_validated(keyset, signing_keys):
    record = keyset.records[1]
    with pytest.raises(AttributeError):
        record.status = "retired"
    with pytest.raises(AttributeError):
        del record.status
    same = KeyRecord(signing_keys["ES256"], "active", 200, 300)
    assert record == same and hash(record) == hash(same) and record != record.with_status("retired", 400)
    assert record != (record.key, "active", 200, 300, None, "main")  # a record is not a tuple
    moved = record._replace(status="retired", retired_at=400)
    assert (moved.status, moved.activated_at, moved.retired_at) == ("retired", 300, 400)
    assert record.status == "active"
    with pytest.raises(KeyFormatError):  # the copy goes through the constructor's checks
        moved.public_only()._replace(status="active")
    with pytest.raises(TypeError):
        record._replace(kid="other")


def test_revoked_grace_secret_and_based_on_round_trip(keyset):
    grace = bytes(range(32))
    doc = keyset.evolve(revoked={"gone": 1234}, grace_secret=grace, based_on="v1").to_dict()
    assert doc["revoked"] == [{"kid": "gone", "until": 1234}]
    assert doc["grace_secret"] == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    loaded = KeySet.from_dict(doc)
    assert loaded.revoked == {"gone": 1234} and loaded.is_revoked("gone") and not loaded.is_revoked("x")
    assert loaded.grace_secret == grace and loaded.based_on == "v1"
    assert loaded.with_records(loaded.records[1:]).grace_secret == grace  # kept by with_records
    assert grace.hex() not in repr(loaded) and doc["grace_secret"] not in repr(loaded)
    assert "revoked" not in loaded.public_jwks() and len(loaded.public_jwks()) == 1
    assert loaded.same_content(loaded.evolve(based_on="v2"))
    assert not loaded.same_content(loaded.evolve(revoked={}))


def test_documents_without_the_new_members_load(keyset):
    doc = _doc(keyset)
    assert set(doc) == {"version", "keys"}
    loaded = KeySet.from_dict(doc)
    assert loaded.revoked == {} and loaded.grace_secret is None and loaded.based_on is None


def test_a_record_copies_matches_and_replaces_as_the_dataclass_did(keyset, signing_keys):
    record = keyset.records[1]
    assert copy.copy(record) == record
    assert copy.deepcopy(record).kid == record.kid  # the key object is copied, not shared
    moved = copy.replace(record, status="retired", retired_at=400)  # Python 3.13's protocol
    assert (moved.status, moved.retired_at, record.status) == ("retired", 400, "active")
    with pytest.raises(KeyFormatError):  # validated like the constructor
        copy.replace(moved.public_only(), status="active")
    match record:
        case KeyRecord(key, "active", created_at):
            assert key is signing_keys["ES256"] and created_at == 200
        case _:
            pytest.fail("no positional match")
