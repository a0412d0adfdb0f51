"""The store seam's value records (``stores/interfaces.py``, ``stores/revocations.py``) behave as
the frozen dataclasses they replaced: equal by kind and fields, immutable, readable.

They are not dataclasses (the authorizer's cold path imports them). The transaction outcomes are
compared with ``==`` all over the OAuth layer (``outcome == CheckFailed(Checked.USER)``) and
the tests (``== LostRace()``): were they tuples, every field-less outcome would be ``()`` -- a
lost race equal to an ended family, and false -- and a refresh could take one for the other.
"""

from __future__ import annotations

import copy
import pickle
from itertools import combinations, product

import pytest

from auth_core.stores.interfaces import (
    AlreadyEnded,
    Check,
    Checked,
    CheckFailed,
    Committed,
    FamilyEnded,
    LostRace,
    Write,
)
from auth_core.stores.revocations import RevocationEntry, RevocationFacts

FIELDLESS = (Committed, LostRace, FamilyEnded, AlreadyEnded)


def _outcomes() -> list[Committed | LostRace | FamilyEnded | AlreadyEnded | CheckFailed]:
    return [kind() for kind in FIELDLESS] + [CheckFailed(what) for what in Checked]


def test_outcomes_of_different_kinds_or_fields_are_never_equal() -> None:
    for a, b in combinations(_outcomes(), 2):
        assert (a == b) is False and (a != b) is True, (a, b)


def test_an_outcome_equals_and_hashes_as_another_of_its_kind_and_fields() -> None:
    for a, b in zip(_outcomes(), _outcomes(), strict=True):
        assert a is not b and a == b and hash(a) == hash(b)
    assert len(set(_outcomes() + _outcomes())) == len(_outcomes())


def test_an_outcome_is_not_a_tuple_and_is_true() -> None:
    for outcome in _outcomes():
        assert not isinstance(outcome, tuple) and bool(outcome)
        assert outcome != () and outcome != (getattr(outcome, "what", None),)


def test_only_committed_is_ok() -> None:
    assert [outcome.ok for outcome in _outcomes()] == [True] + [False] * (len(_outcomes()) - 1)


def test_outcomes_are_immutable() -> None:
    failed = CheckFailed(Checked.CLIENT)
    for outcome, name in product((failed, LostRace(), Committed()), ("what", "ok", "other")):
        with pytest.raises(AttributeError):
            setattr(outcome, name, Checked.USER)
        with pytest.raises(AttributeError):
            delattr(outcome, name)
    assert failed.what is Checked.CLIENT and Committed().ok is True


def test_outcomes_show_and_match_like_the_dataclasses_they_were() -> None:
    assert repr(CheckFailed(Checked.MFA)) == "CheckFailed(what=<Checked.MFA: 'mfa'>)"
    assert [repr(kind()) for kind in FIELDLESS] == [
        "Committed()",
        "LostRace()",
        "FamilyEnded()",
        "AlreadyEnded()",
    ]
    match CheckFailed(Checked.SSO_SESSION):
        case CheckFailed(Checked.USER):
            pytest.fail("matched the wrong check")
        case CheckFailed(what):
            assert what is Checked.SSO_SESSION


def test_steps_are_immutable_records() -> None:
    check, write = Check(Checked.USER, {"ConditionCheck": {}}), Write({"Put": {}})
    assert (check.what, check.payload, write.payload) == (Checked.USER, {"ConditionCheck": {}}, {"Put": {}})
    assert Check(what=Checked.USER, payload=1) == Check(Checked.USER, 1) != Check(Checked.CLIENT, 1)
    with pytest.raises(AttributeError):
        check.what = Checked.CLIENT  # type: ignore[misc]
    with pytest.raises(AttributeError):
        write.payload = None  # type: ignore[misc]


def test_revocation_facts_defaults_and_rules() -> None:
    assert RevocationFacts() == RevocationFacts(False, False, False, False, 0)
    assert RevocationFacts().reason(0) is None
    assert RevocationFacts(not_before=10).reason(9.5) == "revoked_subject"
    assert RevocationFacts(not_before=10).reason(10) is None
    every = RevocationFacts(
        jti_revoked=True, session_revoked=True, kid_revoked=True, client_disabled=True, not_before=10
    )
    assert every.reason(0) == "revoked_key"  # the precedence of reason()
    assert every._replace(kid_revoked=False).reason(0) == "revoked"
    assert every._replace(kid_revoked=False, jti_revoked=False).reason(0) == "revoked_session"
    with pytest.raises(AttributeError):
        every.not_before = 0  # type: ignore[misc]


def test_revocation_entry_defaults_key_and_replace() -> None:
    entry = RevocationEntry("cli", "app#1", changed_ms=5, expires_at=None)
    assert (entry.not_before, entry.disabled, entry.cutoff_ms, entry.pk) == (0, False, 0, "cli#app#1")
    moved = entry._replace(disabled=True, changed_ms=6)
    assert moved == RevocationEntry("cli", "app#1", 6, None, 0, True, 0) and entry.disabled is False
    assert RevocationEntry._fields == (
        "kind", "key", "changed_ms", "expires_at", "not_before", "disabled", "cutoff_ms",
    )  # fmt: skip
    with pytest.raises(AttributeError):
        entry.disabled = True  # type: ignore[misc]


def test_outcomes_copy_and_pickle_like_the_dataclasses_they_were() -> None:
    for outcome in _outcomes():
        for twin in (copy.copy(outcome), copy.deepcopy(outcome), pickle.loads(pickle.dumps(outcome))):  # noqa: S301
            assert twin == outcome and type(twin) is type(outcome)
