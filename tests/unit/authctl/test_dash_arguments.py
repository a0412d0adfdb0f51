"""Key ids, usernames and client ids may begin with ``-``: authctl takes them as the names they are.

A kid is a base64url thumbprint, so about one key in 64 has an id that starts with ``-``; argparse
took such an id for an unknown option and ``authctl keys revoke <kid>`` could not revoke that key.
"""

from __future__ import annotations

import pytest

from authctl import cli

KID = "-Qmk4fO3qbgCPTdRWM7V4RSLBXqpBQG6fXN2rhk2bHg"


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["keys", "revoke", KID, "--yes"], "kid", KID),
        (["keys", "revoke", "--yes", KID], "kid", KID),
        (["keys", "revoke", "--" + KID[1:], "--yes"], "kid", "--" + KID[1:]),
        (["keys", "revoke", "-h" + KID[2:]], "kid", "-h" + KID[2:]),
        (["users", "disable", "-alice"], "username", "-alice"),
        (["clients", "disable", "-web"], "client_id", "-web"),
        (["--stack-name", "auth", "sessions", "revoke", "-fam"], "family_id", "-fam"),
    ],
)
def test_a_name_that_begins_with_a_dash_is_a_name(argv: list[str], field: str, value: str) -> None:
    args = cli.build_parser().parse_args(argv)
    assert getattr(args, field) == value


def test_options_are_still_options() -> None:
    args = cli.build_parser().parse_args(["keys", "revoke", "--all", "--yes"])
    assert args.all and args.yes and args.kid is None


def test_an_abbreviated_option_is_not_taken_for_another(capsys: pytest.CaptureFixture[str]) -> None:
    # "--a" once meant "--all" (revoke every key); it is now just an unknown key id
    args = cli.build_parser().parse_args(["keys", "revoke", "--a", "--yes"])
    assert args.kid == "--a" and not args.all


def test_a_misspelt_option_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(["users", "create", "alice", "--scope", "read"])
    assert info.value.code == 2
    assert "unrecognized arguments: --scope read" in capsys.readouterr().err
