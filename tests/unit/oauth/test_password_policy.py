"""Password policy (NIST SP 800-63B): lengths, username, patterns, the shipped blocklist."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

import auth_core
from auth_core.errors import ConfigurationError, InvalidRequestError
from auth_core.password_policy import (
    BLOCKLIST_PATH,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MIN_LENGTH,
    MAX_LENGTH_CEILING,
    PasswordPolicy,
    fold,
    load_blocklist,
)
from auth_core.settings import Settings

#: The count scripts/build_password_blocklist.py wrote for Django 6.1.3's list (entries >= 8).
EXPECTED_ENTRIES = 8354

STRONG = "correct horse battery staple"
policy = PasswordPolicy()


def refused(password: str, *, username: str | None = None, p: PasswordPolicy = policy) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        p.check(password, username=username)
    exc = info.value
    # A message a person can act on, never an echo of what they typed.
    message = str(exc)
    assert message == exc.description and len(message) > 20
    if password.strip() and fold(password).strip() not in _MESSAGE_WORDS:
        assert password not in message
        assert password.strip() not in message
        assert fold(password).strip() not in message
    return exc


#: Words the messages use themselves ("the password is too common"): no echo when they match.
_MESSAGE_WORDS = {"password", "passwords"}


# --------------------------------------------------------------------------- defaults, settings
def test_defaults_follow_sp_800_63b_and_the_settings() -> None:
    assert (policy.min_length, policy.max_length) == (8, 64)
    settings = Settings()
    assert (settings.password_min_length, settings.password_max_length) == (
        DEFAULT_MIN_LENGTH,
        DEFAULT_MAX_LENGTH,
    )
    assert PasswordPolicy.from_settings(settings) == PasswordPolicy()


def test_from_settings_reads_the_environment() -> None:
    settings = Settings.from_env({"PASSWORD_MIN_LENGTH": "15", "PASSWORD_MAX_LENGTH": "128"})
    p = PasswordPolicy.from_settings(settings)
    assert (p.min_length, p.max_length) == (15, 128)
    refused("x7#kq-Lm2pZ", p=p)  # 11: fine by default, too short here
    p.check("x7#kq-Lm2pZ wv9.Tr")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_MIN_LENGTH", "7"),
        ("PASSWORD_MIN_LENGTH", "65"),
        ("PASSWORD_MAX_LENGTH", "63"),
        ("PASSWORD_MAX_LENGTH", "1025"),
        ("PASSWORD_MIN_LENGTH", "eight"),
    ],
)
def test_out_of_range_settings_are_configuration_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(("lo", "hi"), [(7, 64), (8, 63), (8, 1025), (65, 64)])
def test_out_of_range_bounds_are_programming_errors(lo: int, hi: int) -> None:
    with pytest.raises(ValueError, match="length"):
        PasswordPolicy(min_length=lo, max_length=hi)


def test_hand_built_settings_out_of_range_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="PASSWORD_MIN_LENGTH"):
        PasswordPolicy.from_settings(Settings(password_min_length=4))


def test_ceiling_is_the_hashers_cap() -> None:
    from auth_core.passwords import MAX_PASSWORD_LENGTH

    assert MAX_LENGTH_CEILING == MAX_PASSWORD_LENGTH


# --------------------------------------------------------------------------- length
def test_length_boundaries() -> None:
    long64 = "".join(chr(0x4E00 + i * 7) for i in range(64))  # 64 distinct CJK ideographs
    policy.check(long64)
    exc = refused(long64 + "x")
    assert exc.reason == "password_length" and "at most 64" in str(exc)
    exc = refused("x7#kq-L")
    assert exc.reason == "password_length" and "at least 8" in str(exc) and "7 characters" in str(exc)


def test_empty_and_non_strings_are_refused() -> None:
    assert refused("").reason == "password_length"
    with pytest.raises(InvalidRequestError):
        policy.check(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        policy.check(b"correct horse battery staple")  # type: ignore[arg-type]


def test_length_counts_code_points_after_nfc() -> None:
    decomposed = "e\u0301"  # é as two code points; NFC makes it one
    assert len(decomposed * 8) == 16
    exc = refused("ĸ#z" + decomposed * 4)  # 3 + 4 = 7 after NFC, 11 before
    assert exc.reason == "password_length"
    policy.check("ĸ#z" + decomposed * 5)  # 8 after NFC
    # Astral characters are one code point each (two UTF-16 units, four UTF-8 bytes).
    emoji = "🐢🚲🌵🎻🍋🧭🪁🦉"
    assert len(emoji) == 8 and len(emoji.encode("utf-16-le")) == 32
    policy.check(emoji)
    refused(emoji[:7])
    # 64 code points of four UTF-8 bytes each are allowed; 65 are not.
    astral = "".join(chr(0x1F300 + 3 * i) for i in range(65))
    policy.check(astral[:64])
    assert refused(astral).reason == "password_length"
    # A skin-tone modifier is a code point of its own: 👍🏽 counts as two.
    assert len(unicodedata.normalize("NFC", "👍🏽")) == 2


def test_huge_input_is_refused_before_unicode_work() -> None:
    def no_unicode_work(*_args: object) -> str:
        raise AssertionError("a huge input reached Unicode normalisation")

    # Patched only around the call: the module object is shared with pytest's own output code.
    with pytest.MonkeyPatch.context() as patch, pytest.raises(InvalidRequestError) as info:
        patch.setattr(unicodedata, "normalize", no_unicode_work)
        policy.check("x" * 1_000_000)
    assert info.value.reason == "password_length"
    assert refused("x" * 1_000_000).reason == "password_length"  # and the message is a proper one


def test_spaces_and_unicode_are_allowed_no_composition_rules() -> None:
    for password in (
        STRONG,
        "mañana está lejos",
        "пароль для почты дома",
        "tout le monde à Paris",
        "ALL CAPS LONG WORDS",
    ):
        policy.check(password)


def test_control_characters_are_refused_with_their_own_reason() -> None:
    for password in (
        "correct\thorse battery",
        "correct horse\nbattery",
        "correct\x00horse battery",
        "abc\ud800defgh",
    ):
        exc = refused(password)
        assert exc.reason == "password_format"


# --------------------------------------------------------------------------- username
@pytest.mark.parametrize(
    "password",
    [
        "alice.smith",
        "Alice.Smith",
        "ALICE.SMITH",
        "ａｌｉｃｅ.ｓｍｉｔｈ",
        " alice.smith ",
        "alice.smith2024!",
        "2024alice.smith",
        "alice.smithalice.smith",
        "alice.smith 1",
    ],
)
def test_the_username_and_trivial_variants_are_refused(password: str) -> None:
    exc = refused(password, username="alice.smith")
    assert exc.reason == "weak_password" and "username" in str(exc)
    assert "alice" not in str(exc).lower()


def test_a_password_merely_containing_the_username_is_fine() -> None:
    policy.check("alice in wonderland forever", username="alice")
    policy.check("bob is not my password", username="bob")
    # very short usernames are only compared for equality
    policy.check("al capone rides again", username="al")
    policy.check("x7#kq-Lm2pZ", username=None)
    policy.check("x7#kq-Lm2pZ", username="")


# --------------------------------------------------------------------------- patterns
@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaa",
        "ZZZZZZZZZZ",
        "        ",
        "abababab",
        "abcabcabc",
        "x7#kx7#kx7#k",
        "passwordpassword",
        "Tr0ub4dor&3Tr0ub4dor&3",
        "12345678",
        "23456789",
        "abcdefghij",
        "87654321",
        "zyxwvutsrq",
        "ＡＢＣＤＥＦＧＨ",
        "aaaaaaa ",
    ],
)
def test_repetitive_and_sequential_passwords_are_refused(password: str) -> None:
    exc = refused(password)
    assert exc.reason == "weak_password"


def test_near_patterns_are_not_patterns() -> None:
    policy.check("aaaaaaab1 x")
    policy.check("12345679qx")
    policy.check("acegikmoqs")  # step 2: not a run of consecutive characters


# --------------------------------------------------------------------------- blocklist
@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Password",
        "PASSWORD",
        "pAsSwOrD1",
        "ｐａｓｓｗｏｒｄ",
        "iloveyou",
        "ILoveYou",
        "qwertyuiop",
        "1q2w3e4r5t",
        "trustno1",
        "sunshine",
        "p@ssw0rd",
        " password1 ",
        "baseball",
        "superman",
    ],
)
def test_common_passwords_are_refused_case_insensitively(password: str) -> None:
    exc = refused(password)
    assert exc.reason == "weak_password" and "common" in str(exc)


def test_issue_examples_are_refused() -> None:
    assert refused("password").reason == "weak_password"
    assert refused("12345678").reason == "weak_password"


def test_strong_passphrases_are_accepted() -> None:
    for password in (STRONG, "x7#kq-Lm2pZ", "violet tractor under seven moons", "Gr8-Unknown-Bagel-Fjord"):
        policy.check(password, username="alice")


def test_a_custom_blocklist_is_folded_and_replaces_the_shipped_one() -> None:
    p = PasswordPolicy(blocklist=frozenset({"Company2024!", "ACME widgets"}))
    assert refused("company2024!", p=p).reason == "weak_password"
    assert refused("Acme Widgets", p=p).reason == "weak_password"
    p.check("password1234")  # on the shipped list, not on this one


def _everything_said(password: str, username: str = "alice.smith") -> str:
    with pytest.raises(InvalidRequestError) as info:
        policy.check(password, username=username)
    return f"{info.value} {info.value.description} {info.value!r} {info.value.args}"


def test_messages_never_contain_the_password() -> None:
    for password in (
        "hunter2",
        "Password1",
        "12345678",
        "alice.smith",
        "x" * 70,
        "tab\there!!",
        "qqqqqqqqq",
        "iloveyou",
        "ＰＡＳＳＷＯＲＤ１",
    ):
        text = _everything_said(password)
        assert password not in text
        assert fold(password) not in text


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("password", "sunshine"),
        ("aaaaaaaa", "12345678"),
        ("alice.smith", "Alice.Smith99"),
        ("x" * 70, "y" * 99),
        ("tab\there!!", "new\nline!!"),
    ],
)
def test_a_rule_says_the_same_whatever_the_password(one: str, other: str) -> None:
    """The message depends on the rule broken, not on what was typed: nothing can leak."""
    assert _everything_said(one) == _everything_said(other)


def test_requirements_sentence() -> None:
    text = PasswordPolicy(min_length=12, max_length=128).requirements()
    assert "12 to 128 characters" in text and "username" in text and "common" in text


# --------------------------------------------------------------------------- the shipped file
def test_the_blocklist_ships_inside_the_package() -> None:
    package_dir = Path(auth_core.__file__).resolve().parent
    assert BLOCKLIST_PATH.is_file()
    assert BLOCKLIST_PATH.parent == package_dir / "data"
    # Layers copy the package directory as is (layers/auth_core/Makefile: cp -R auth_core).
    assert package_dir == Path(__file__).resolve().parents[3] / "layers" / "auth_core" / "auth_core"
    size = BLOCKLIST_PATH.stat().st_size
    print(f"\nblocklist file: {size} bytes")
    assert size < 150_000


def test_the_blocklist_loads_once_and_has_the_expected_count() -> None:
    load_blocklist.cache_clear()
    entries = load_blocklist()
    assert load_blocklist() is entries  # cached
    assert isinstance(entries, frozenset)
    assert len(entries) == EXPECTED_ENTRIES
    header = BLOCKLIST_PATH.read_text(encoding="utf-8").partition("\n\n")[0]
    assert f"# Entries: {EXPECTED_ENTRIES}" in header.splitlines()
    assert "BSD" in header and "Django Software Foundation" in header
    assert all(line.startswith("#") for line in header.splitlines())


def test_every_entry_is_folded_and_long_enough() -> None:
    entries = load_blocklist()
    assert all(fold(e) == e and e == e.strip() and len(e) >= 8 for e in entries)
    assert {"password", "12345678", "iloveyou", "michael1", "jennifer"} <= entries


def test_importing_the_module_reads_nothing() -> None:
    import subprocess
    import sys

    code = (
        "import auth_core.password_policy as m, sys;"
        "assert m.load_blocklist.cache_info().currsize == 0;"
        "assert 'cryptography' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=root,
        env={"PYTHONPATH": str(root / "layers" / "auth_core")},
    )
