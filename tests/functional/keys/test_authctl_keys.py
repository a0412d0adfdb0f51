"""``authctl keys``: rotate (direct and via RotateSecret), list, revoke."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from auth_core import aws
from auth_core.keyset import KeySet
from authctl.cli import main
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET

IDS = ["--signing-secret", SIGNING_SECRET, "--jwks-secret", PUBLIC_SECRET]


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch):
    monkeypatch.delenv("SIGNING_KEYS_SECRET_ID", raising=False)
    monkeypatch.delenv("PUBLIC_JWKS_SECRET_ID", raising=False)
    monkeypatch.setenv("SIGNING_ALG", "ES256")


def _current(keys_env) -> KeySet:
    text = keys_env.sm.get_secret_value(SecretId=SIGNING_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    return KeySet.from_json(text)


def test_rotate_direct_then_list(keys_env, capsys):
    assert main(["keys", *IDS, "rotate", "--direct"]) == 0
    assert "new AWSCURRENT version" in capsys.readouterr().out
    keyset = _current(keys_env)
    assert main(["keys", *IDS, "list"]) == 0
    out = capsys.readouterr().out
    assert keyset.active.kid in out and keyset.next.kid in out
    rows = [line.split() for line in out.splitlines()[1:]]
    assert sorted(row[2] for row in rows) == ["active", "next"]
    assert all(row[-1] == "yes" for row in rows)  # every kid is published
    for record in keyset.records:
        assert record.key.to_private_jwk()["d"] not in out


def test_list_json(keys_env, capsys):
    main(["keys", *IDS, "rotate", "--direct"])
    capsys.readouterr()
    assert main(["keys", *IDS, "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in rows} == {"active", "next"}
    assert all(row["published"] is True and row["alg"] == "ES256" for row in rows)
    assert all(
        set(row) == {"kid", "alg", "status", "created_at", "activated_at", "retired_at", "published"}
        for row in rows
    )


def test_ids_from_environment_and_stack_file(keys_env, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SIGNING_KEYS_SECRET_ID", SIGNING_SECRET)
    monkeypatch.setenv("PUBLIC_JWKS_SECRET_ID", PUBLIC_SECRET)
    assert main(["keys", "rotate", "--direct"]) == 0
    monkeypatch.delenv("SIGNING_KEYS_SECRET_ID")
    monkeypatch.delenv("PUBLIC_JWKS_SECRET_ID")
    stack = tmp_path / "stack.json"
    stack.write_text(
        json.dumps(
            {
                "signing_keys_secret_id": SIGNING_SECRET,
                "public_jwks_secret_id": PUBLIC_SECRET,
                "region": "us-east-1",
            }
        )
    )
    capsys.readouterr()
    assert main(["--stack", str(stack), "keys", "list"]) == 0
    assert _current(keys_env).active.kid in capsys.readouterr().out
    assert main(["keys", "--stack", str(stack), "list"]) == 0


def test_missing_secret_ids_is_a_clear_error(keys_env, capsys):
    assert main(["keys", "list"]) == 2
    assert "SIGNING_KEYS_SECRET_ID" in capsys.readouterr().err


def test_revoke_needs_confirmation_then_removes_the_kid(keys_env, capsys):
    main(["keys", *IDS, "rotate", "--direct"])
    victim = _current(keys_env).active.kid
    assert main(["keys", *IDS, "revoke", victim]) == 1
    assert _current(keys_env).get(victim) is not None
    capsys.readouterr()
    assert main(["keys", *IDS, "revoke", victim, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "tokens_valid_after" in out
    after = _current(keys_env)
    assert after.get(victim) is None and after.active is not None
    public = json.loads(
        keys_env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert victim not in {key["kid"] for key in public["keys"]}
    assert main(["keys", *IDS, "revoke", "no-such-kid", "--yes"]) == 2


def test_rotate_asks_secrets_manager(capsys):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "rotate_secret",
        {
            "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            "Name": SIGNING_SECRET,
            "VersionId": "v" * 32,
        },
        {"SecretId": SIGNING_SECRET},
    )
    aws.set_client("secretsmanager", client)
    with stubber:
        assert main(["keys", *IDS, "rotate"]) == 0
    stubber.assert_no_pending_responses()
    assert "v" * 32 in capsys.readouterr().out
