"""What a new user meets with ``make local``: state kept across restarts, a second stack refused,
busy ports named, one log line per request, and every sample event doing what its name says."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from local_stack.cli import function_log_filter, main
from local_stack.stack import ROOT, LocalStack, StackOptions

EVENTS = ROOT / "events"


def _options(state_dir: Path, **kw: Any) -> StackOptions:
    # The cli's defaults (RouteScopes for the sample /orders route) without argparse.
    from local_stack.cli import LOCAL_ROUTE_SCOPES

    env = {"LOGIN_MAX_FAILURES": "1000"}  # every {{access_token}} is a password-grant login
    return StackOptions(
        port=0,
        moto_port=0,
        state_dir=state_dir,
        warm=False,
        params={"RouteScopes": LOCAL_ROUTE_SCOPES},
        env=env,
        log=lambda _line: None,
        function_log=lambda _line: None,
        **kw,
    )


def _fresh_moto() -> None:
    """A restart is a new process; in one test process, empty moto's in-memory backends instead."""
    from moto.backends import get_backend

    for service in ("dynamodb", "secretsmanager"):
        get_backend(service).reset()  # type: ignore[call-overload]


def _current_key_version(stack: LocalStack) -> str:
    backend = stack._secrets_backend()
    secret = backend.secrets[stack.info["signing_keys_secret_id"]]
    return next(v for v, d in secret.versions.items() if "AWSCURRENT" in d["version_stages"])


def test_state_persists_across_restarts_and_reset_starts_clean(tmp_path: Path) -> None:
    _fresh_moto()
    with LocalStack(_options(tmp_path)) as first:
        password, key = first.info["password"], _current_key_version(first)
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "demo.json").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "stack.json").exists()

    _fresh_moto()
    with LocalStack(_options(tmp_path)) as second:
        assert second.info["password"] == password  # the same demo credentials
        assert _current_key_version(second) == key  # the same signing key, still AWSCURRENT
        # and the restored user can log in with them
        from local_stack.invoke import mint_tokens

        assert "access_token" in mint_tokens(second.info)

    _fresh_moto()
    with LocalStack(_options(tmp_path, reset=True)) as third:
        assert third.info["password"] != password
        assert _current_key_version(third) != key


def test_a_second_stack_refuses_the_stack_file_of_a_running_one(tmp_path: Path) -> None:
    other = {"pid": os.getppid(), "api_url": "http://127.0.0.1:3000"}  # a live process, not us
    (tmp_path / "stack.json").write_text(json.dumps(other))
    stack = LocalStack(_options(tmp_path))
    with pytest.raises(OSError, match=r"another local stack \(pid .*--state-dir"):
        stack.start()
    stack.stop()
    assert json.loads((tmp_path / "stack.json").read_text()) == other  # untouched, not deleted


def test_a_busy_api_port_names_the_port_and_the_option(tmp_path: Path, capsys: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--port", str(port), "--moto-port", "0", "--state-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 2
        assert f"port {port}" in err and "--port" in err and "PORT=" in err

        code = main(["serve", "--port", "0", "--moto-port", str(port), "--state-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 2
        assert f"moto port {port}" in err and "--moto-port" in err and "MOTO_PORT=" in err


def test_function_logs_are_quiet_by_default(capsys: Any) -> None:
    quiet, verbose = function_log_filter(verbose=False), function_log_filter(verbose=True)
    info = '[MeFunction] {"level":"INFO","message":"token rejected"}'
    error = '[MeFunction] {"level":"ERROR","message":"boom"}'
    for line in (info, "[MeFunction] START RequestId: x", error):
        quiet(line)
    assert capsys.readouterr().err.splitlines() == [error]
    verbose(info)
    assert capsys.readouterr().err.splitlines() == [info]


def _function_for(event: str) -> str:
    for prefix in (
        "account",
        "authorizer",
        "authorize",
        "userinfo",
        "introspect_token",
        "issue_token",
        "jwks",
        "me",
        "refresh_token",
        "revoke_token",
        "rotate_keys",
    ):
        if event.startswith(prefix + "_"):
            return prefix
    raise AssertionError(event)


SAMPLES = sorted(
    p.stem for p in EVENTS.glob("*.json") if p.stem != "env" and not p.stem.startswith("rotate_keys")
)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state_dir = tmp_path_factory.mktemp("events")
    _fresh_moto()
    with LocalStack(_options(state_dir)) as stack:
        yield state_dir, stack


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_does_what_its_name_says(name: str, running: Any, capsys: Any) -> None:
    state_dir, _stack = running
    code = main(["invoke", _function_for(name), str(EVENTS / f"{name}.json"), "--state-dir", str(state_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    if name.startswith("authorizer_"):
        if name.endswith("_unauthorized"):
            assert result == {"errorType": "Exception", "errorMessage": "Unauthorized"}
            assert "refused" in err
            return
        statements = result["policyDocument"]["Statement"]
        sample = json.loads((EVENTS / f"{name}.json").read_text())
        arn = sample.get("methodArn") or sample["routeArn"]
        method = arn.split("/")[2]  # what the event asks for; the policy covers the whole stage
        denied = [
            r
            for s in statements
            if s["Effect"] == "Deny"
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
            if f"/{method}/" in r
        ]
        assert any(s["Effect"] == "Allow" for s in statements), result
        # the sample deny events call DELETE /orders/{id}, which LOCAL_ROUTE_SCOPES scopes;
        # the allow events call GET routes, which no Deny covers
        assert bool(denied) == name.endswith("_deny"), result
        return
    status = result["statusCode"]
    if name.endswith(
        ("_unauthorized", "_unknown_path", "_get", "_refused")
    ):  # issue_token_get: 405, POST only
        assert status >= 400, result
    elif name.endswith("_if_none_match"):
        assert status in (200, 304), result
    else:
        assert status in (200, 204), result


def test_the_browser_demo_is_seeded_and_served(running: Any) -> None:
    """``make local`` prints the /demo/ URL; its public client demo-spa exists with the loopback
    redirect; the page is served (the stack's only non-API path)."""
    import urllib.request

    from auth_core.stores.clients import ClientStore

    _state_dir, stack = running
    info = stack.info
    assert info["demo_url"] == info["api_url"] + "/demo/"
    assert info["spa_client_id"] == "demo-spa"
    # the start-up probe asks discovery, never a sign-in or logout page
    assert info["first_request"] == "GET /.well-known/openid-configuration -> 200"
    client = ClientStore(info["clients_table"], client=stack_ddb(info)).get("demo-spa")
    assert client is not None and not client.confidential and client.first_party
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.redirect_uris == client.post_logout_redirect_uris == ("http://127.0.0.1/demo/",)
    assert {"openid", "profile"} <= set(client.scopes)
    with urllib.request.urlopen(info["demo_url"], timeout=10) as response:  # noqa: S310 - local stack
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'<script src="app.js" defer></script>' in response.read()


def stack_ddb(info: dict[str, Any]) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


ROTATION_STEPS = ["create_secret", "set_secret", "test_secret", "finish_secret"]


def test_every_sample_event_is_run_by_a_test() -> None:
    rotation = [f"rotate_keys_{step}" for step in ROTATION_STEPS]
    assert sorted(p.stem for p in EVENTS.glob("*.json") if p.stem != "env") == sorted(SAMPLES + rotation)


def _invoke(state_dir: Path, name: str, capsys: Any) -> tuple[int, str, str]:
    code = main(["invoke", _function_for(name), str(EVENTS / f"{name}.json"), "--state-dir", str(state_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_rotation_sample_events_in_order_are_one_real_rotation(running: Any, capsys: Any) -> None:
    """Their SecretId and ClientRequestToken are placeholders: the stack's own secret and a
    version it stages AWSPENDING (createSecret) stand in for them, so the four steps rotate."""
    state_dir, stack = running
    before = _current_key_version(stack)
    tokens = []
    for step in ROTATION_STEPS:
        code, out, err = _invoke(state_dir, f"rotate_keys_{step}", capsys)
        assert code == 0, err
        assert json.loads(out) is None  # a rotation step returns nothing
        announced = re.search(r"^rotation \w+: SecretId and ClientRequestToken .* version (\S+)$", err, re.M)
        assert announced, err
        tokens.append(announced.group(1))
    after = _current_key_version(stack)
    assert after != before
    assert tokens == [after] * 4  # one rotation: every step on the version createSecret began
    secret = stack._secrets_backend().secrets[stack.info["signing_keys_secret_id"]]
    assert not any("AWSPENDING" in v["version_stages"] for v in secret.versions.values())
    sample = json.loads((EVENTS / "rotate_keys_create_secret.json").read_text())["ClientRequestToken"]
    assert sample not in secret.versions
    # the stack signs with the new keys and still serves logins and the authorizer
    code, out, err = _invoke(state_dir, "authorizer_http_v2_allow", capsys)
    assert code == 0, err
    assert any(s["Effect"] == "Allow" for s in json.loads(out)["policyDocument"]["Statement"])


def test_a_rotation_step_without_a_rotation_in_progress_is_a_clear_refusal(running: Any, capsys: Any) -> None:
    state_dir, _stack = running
    code, out, err = _invoke(state_dir, "rotate_keys_set_secret", capsys)
    assert code == 2
    assert out == ""
    assert "no rotation of SigningKeysSecret is in progress: its createSecret step begins one" in err
    assert "Traceback" not in err
