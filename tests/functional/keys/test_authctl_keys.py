"""``authctl keys``: rotate (direct and via RotateSecret), list, revoke."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from auth_core import aws
from auth_core._b64 import b64url_encode
from auth_core.keyset import KeySet
from authctl.cli import main
from tests.functional.keys.conftest import REVOCATIONS_TABLE
from tests.functional.keys.rotation_harness import PUBLIC_SECRET, SIGNING_SECRET

IDS = ["--signing-secret", SIGNING_SECRET, "--jwks-secret", PUBLIC_SECRET]
REVOKE = ["--revocations-table", REVOCATIONS_TABLE]


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch):
    monkeypatch.delenv("SIGNING_KEYS_SECRET_ID", raising=False)
    monkeypatch.delenv("PUBLIC_JWKS_SECRET_ID", raising=False)
    monkeypatch.delenv("REVOCATIONS_TABLE", raising=False)
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
    assert sorted(row[3] for row in rows) == ["active", "next"]
    assert all(row[-1] == "yes" for row in rows)  # every kid is published
    for record in keyset.records:
        assert record.key.to_private_jwk()["d"] not in out


def test_list_json(keys_env, capsys, tmp_path):
    stack = tmp_path / "stack.json"
    functions = {"RotateKeysFunction": {"environment": {"SIGNING_ALG": "ES256"}}}
    stack.write_text(json.dumps({"region": "us-east-1", "functions": functions}))
    main(["--stack", str(stack), "keys", *IDS, "rotate", "--direct"])
    capsys.readouterr()
    assert main(["keys", *IDS, "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["status"] for row in rows} == {"active", "next"}
    # ES256 signs access tokens; the RS256 ID-token lineage is listed (and published) too
    assert [(row["lineage"], row["alg"]) for row in rows] == [
        ("main", "ES256"),
        ("main", "ES256"),
        ("id_token", "RS256"),
        ("id_token", "RS256"),
    ]
    assert all(row["published"] is True for row in rows)
    assert all(
        set(row)
        == {"kid", "lineage", "alg", "status", "created_at", "activated_at", "retired_at", "published"}
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


def _public_kids(keys_env) -> set[str]:
    public = json.loads(
        keys_env.sm.get_secret_value(SecretId=PUBLIC_SECRET, VersionStage="AWSCURRENT")["SecretString"]
    )
    return {key["kid"] for key in public["keys"]}


def _feed_kids(keys_env) -> set[str]:
    items = keys_env.ddb.scan(TableName=REVOCATIONS_TABLE)["Items"]
    return {item["pk"]["S"].removeprefix("kid#") for item in items if item["pk"]["S"].startswith("kid#")}


def test_revoke_needs_confirmation_then_removes_the_kid(keys_env, capsys):
    main(["keys", *IDS, "rotate", "--direct"])
    before = _current(keys_env)
    victim = before.active.kid
    assert main(["keys", *IDS, "revoke", victim, *REVOKE]) == 2  # not confirmed: a usage error
    assert "REVOCATION_FEED_INTERVAL" in capsys.readouterr().out
    assert _current(keys_env).get(victim) is not None
    assert main(["keys", *IDS, "revoke", victim, *REVOKE, "--yes"]) == 0
    out = capsys.readouterr().out
    after = _current(keys_env)
    assert after.get(victim) is None and after.active is not None
    # the next key sat in the same secret: replaced and revoked too, and the output says so
    assert after.get(before.next.kid) is None
    assert victim in out and before.next.kid in out
    assert f"now active: {after.active.kid}" in out and f"now next:   {after.next.kid}" in out
    assert "REVOCATION_FEED_INTERVAL" in out and "KEY_CACHE_TTL" not in out
    assert "freshly generated" not in out  # the old, untrue claim is gone
    assert victim not in _public_kids(keys_env) and before.next.kid not in _public_kids(keys_env)
    assert {victim, before.next.kid} <= _feed_kids(keys_env)
    for record in after.records:
        assert record.key.to_private_jwk()["d"] not in out
    assert b64url_encode(after.grace_secret) not in out


def test_revoke_unknown_kid_is_one_line(keys_env, capsys):
    main(["keys", *IDS, "rotate", "--direct"])
    capsys.readouterr()
    assert main(["keys", *IDS, "revoke", "no-such-kid", *REVOKE, "--yes"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("authctl: error:")]
    assert len(errors) == 1 and "no-such-kid" in errors[0] and "Traceback" not in err


def test_revoke_needs_the_revocations_table(keys_env, capsys):
    main(["keys", *IDS, "rotate", "--direct"])
    victim = _current(keys_env).active.kid
    assert main(["keys", *IDS, "revoke", victim, "--yes"]) == 2
    assert "REVOCATIONS_TABLE" in capsys.readouterr().err
    assert _current(keys_env).get(victim) is not None


def test_revoke_all_from_the_stack_file(keys_env, capsys, tmp_path):
    main(["keys", *IDS, "rotate", "--direct"])
    before = _current(keys_env)
    stack = tmp_path / "stack.json"
    stack.write_text(
        json.dumps(
            {
                "signing_keys_secret_id": SIGNING_SECRET,
                "public_jwks_secret_id": PUBLIC_SECRET,
                "revocations_table": REVOCATIONS_TABLE,
                "region": "us-east-1",
            }
        )
    )
    capsys.readouterr()
    assert main(["--stack", str(stack), "keys", "revoke", "--all"]) == 2
    assert _current(keys_env).to_json() == before.to_json()
    assert main(["--stack", str(stack), "keys", "revoke", "--all", "--yes"]) == 0
    out = capsys.readouterr().out
    after = _current(keys_env)
    old = {r.kid for r in before.records}
    assert not old & {r.kid for r in after.records}
    assert not old & _public_kids(keys_env) and {r.kid for r in after.records} <= _public_kids(keys_env)
    assert old <= _feed_kids(keys_env)
    assert after.grace_secret != before.grace_secret
    item = keys_env.ddb.get_item(TableName=REVOCATIONS_TABLE, Key={"pk": {"S": "all#"}})["Item"]
    assert int(item["cutoff_ms"]["N"]) >= int(keys_env.clock() * 1000)
    assert "session" in out and "REVOCATION_FEED_INTERVAL" in out


def test_revoke_kid_and_all_are_exclusive(keys_env, capsys):
    assert main(["keys", *IDS, "revoke", *REVOKE, "--yes"]) == 2
    assert main(["keys", *IDS, "revoke", "x", "--all", *REVOKE, "--yes"]) == 2


def test_revoke_failure_is_one_line_and_rerun_completes_it(keys_env, capsys, monkeypatch):
    main(["keys", *IDS, "rotate", "--direct"])
    victim = _current(keys_env).active.kid
    real = boto3.client("dynamodb")
    aws.set_client("dynamodb", FailingDynamo(real))
    capsys.readouterr()
    try:
        assert main(["keys", *IDS, "revoke", victim, *REVOKE, "--yes"]) == 1  # it ran and failed
    finally:
        aws.set_client("dynamodb", real)
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("authctl: error:")]
    assert "Traceback" not in captured.err and len(errors) == 1
    assert "re-run" in errors[0] and "ThrottlingException" in errors[0]
    assert main(["keys", *IDS, "revoke", victim, *REVOKE, "--yes"]) == 0
    assert victim not in _public_kids(keys_env) and victim in _feed_kids(keys_env)
    assert _current(keys_env).active.kid in _public_kids(keys_env)


class FailingDynamo:
    """A DynamoDB client whose ``put_item`` always fails (throttled)."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name):
        if name == "put_item":

            def fail(**_kw):
                error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
                raise ClientError(error, name)

            return fail
        return getattr(self._real, name)


def test_rotate_asks_secrets_manager(capsys):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "get_secret_value",
        {"Name": SIGNING_SECRET, "SecretString": '{"version":1,"keys":[]}', "VersionId": "u" * 32},
        {"SecretId": SIGNING_SECRET, "VersionStage": "AWSCURRENT"},
    )
    stubber.add_response(
        "rotate_secret",
        {
            "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            "Name": SIGNING_SECRET,
            "VersionId": "v" * 32,
        },
        {"SecretId": SIGNING_SECRET},
    )
    sts = boto3.client("sts", region_name="us-east-1")
    sts_stubber = Stubber(sts)
    sts_stubber.add_client_error("get_caller_identity", "AccessDenied", "denied")  # never fatal
    aws.set_client("secretsmanager", client)
    aws.set_client("sts", sts)
    with stubber, sts_stubber:
        assert main(["keys", *IDS, "rotate", "--wait", "0"]) == 0
    stubber.assert_no_pending_responses()
    captured = capsys.readouterr()
    assert "v" * 32 in captured.out and "authctl keys list" in captured.out
    banner = "authctl: writing to https://secretsmanager.us-east-1.amazonaws.com (region us-east-1)"
    assert banner in captured.err
