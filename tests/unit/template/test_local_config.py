"""events/env.json (``sam local invoke --env-vars``) and samconfig.toml agree with the template."""

from __future__ import annotations

import json
import tomllib

from tests.unit.template.cfn import ROOT, Doc, ref_target
from tests.unit.template.test_template import environment


def load_env_json() -> dict[str, dict[str, str]]:
    return json.loads((ROOT / "events" / "env.json").read_text())


def test_env_json_only_overrides_declared_variables(template: Doc, functions: Doc) -> None:
    """SAM local silently drops variables the template does not declare: every one must be declared."""
    doc = load_env_json()
    globals_vars = set(template["Globals"]["Function"]["Environment"]["Variables"])
    assert set(doc["Parameters"]) <= globals_vars
    for lid, variables in doc.items():
        if lid == "Parameters":
            continue
        assert lid in functions, f"env.json names {lid}, which is not a function of the template"
        undeclared = set(variables) - set(environment(template, functions[lid]))
        assert not undeclared, f"{lid}: {sorted(undeclared)} are not declared in template.yaml"


def test_env_json_points_at_the_local_stack_names(template: Doc, functions: Doc) -> None:
    """Resource variables use the local stack's physical names (``<stack>-<LogicalId>``)."""
    from local_stack.stack import StackOptions

    stack = StackOptions().stack_name
    doc = load_env_json()
    assert doc["Parameters"]["AWS_ENDPOINT_URL"].startswith("http://")
    for lid, variables in doc.items():
        if lid == "Parameters":
            continue
        declared = environment(template, functions[lid])
        for name, value in variables.items():
            target = ref_target(declared[name])
            if target in template["Resources"]:
                assert value == f"{stack}-{target}", f"{lid}.{name}"
    # every function that names a resource in AWS gets its local name too
    for lid, props in functions.items():
        env = environment(template, props)
        wanted = {k for k, v in env.items() if ref_target(v) in template["Resources"]}
        missing = wanted - set(doc.get(lid, {}))
        assert not missing, f"{lid}: env.json lacks {sorted(missing)}"


def test_samconfig_deploy_defaults() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    assert config["default"]["validate"]["parameters"]["lint"] is True
    assert config["default"]["local_invoke"]["parameters"]["env_vars"] == "events/env.json"
