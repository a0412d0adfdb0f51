"""Pieces of ``local_stack.stack`` that need no running stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local_stack.cfn import TemplateError
from local_stack.stack import function_environment, parse_assignments, read_stack_file
from tests.functional.local_stack.helpers import make_model


@pytest.fixture
def model(tmp_path):
    m = make_model(tmp_path)
    m.resolver.refs["Secret"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"
    m.resolver.get_att = lambda lid, attr: f"arn-of-{lid}"
    return m


def test_environment_maps_the_api_url_to_the_local_one(model):
    env = function_environment(model, "Backend", "http://127.0.0.1:3999", {})
    assert env["API_URL"] == "http://127.0.0.1:3999/base"
    assert env["SECRET"].endswith(":secret:s-AbCdEf")
    assert all(isinstance(v, str) for v in env.values())


def test_overrides_for_all_functions_or_one(model):
    overrides = {"SCOPES": '{"GET /me": ["read"]}', "AuthFn.ONLY_AUTH": "1"}
    backend = function_environment(model, "Backend", "http://x", overrides)
    auth = function_environment(model, "AuthFn", "http://x", overrides)
    assert backend["SCOPES"] == auth["SCOPES"] == '{"GET /me": ["read"]}'
    assert auth["ONLY_AUTH"] == "1"
    assert "ONLY_AUTH" not in backend
    with pytest.raises(TemplateError):
        function_environment(model, "Backend", "http://x", {"Nope.X": "1"})


def test_parse_assignments():
    assert parse_assignments(["A=1", "B=x=y", "Fn.C="], "--env") == {"A": "1", "B": "x=y", "Fn.C": ""}
    with pytest.raises(TemplateError):
        parse_assignments(["novalue"], "--param")


def test_stack_file_of_a_dead_process_is_ignored(tmp_path):
    path = tmp_path / "stack.json"
    assert read_stack_file(path) is None
    path.write_text(json.dumps({"pid": os.getpid(), "api_url": "http://127.0.0.1:1"}))
    assert read_stack_file(path)["api_url"] == "http://127.0.0.1:1"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    path.write_text(json.dumps({"pid": int(gone.stdout)}))
    assert read_stack_file(path) is None
    path.write_text("{not json")
    assert read_stack_file(path) is None
