"""Reading templates: short tags, intrinsic functions, SAM globals, routes, authorizers, resources."""

from __future__ import annotations

import pytest

from local_stack.cfn import NO_VALUE, TemplateError, load_template
from local_stack.sam import group_to_param, parameter_values, route_regex
from local_stack.stack import ROOT
from tests.functional.local_stack.helpers import make_model


def test_short_tags_become_long_form(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  A:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      R: !Ref B\n"
        "      G: !GetAtt B.Arn\n"
        "      GL: !GetAtt [B, Arn]\n"
        "      S: !Sub 'x-${B}'\n"
        "      J: !Join [',', [a, b]]\n"
        "      I: !If [C, 1, 2]\n"
    )
    props = load_template(path).resources["A"]["Properties"]
    assert props["R"] == {"Ref": "B"}
    assert props["G"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["GL"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["S"] == {"Fn::Sub": "x-${B}"}
    assert props["J"] == {"Fn::Join": [",", ["a", "b"]]}
    assert props["I"] == {"Fn::If": ["C", 1, 2]}


def test_not_a_template_is_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("just: text\n")
    with pytest.raises(TemplateError):
        load_template(path)


def test_parameters_defaults_overrides_and_allowed_values(tmp_path):
    model = make_model(tmp_path)
    template = model.template
    assert parameter_values(template, {}) == {"Ttl": "300", "Stage": "prod", "Scopes": ""}
    assert parameter_values(template, {"Stage": "dev"})["Stage"] == "dev"
    with pytest.raises(TemplateError, match="not one of"):
        parameter_values(template, {"Stage": "qa"})
    with pytest.raises(TemplateError, match="unknown template parameter"):
        parameter_values(template, {"Nope": "1"})


def test_function_environment_merges_globals_and_resolves_intrinsics(tmp_path):
    model = make_model(tmp_path)
    model.resolver.refs["Secret"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
    model.resolver.get_att = lambda lid, attr: f"{lid}.{attr}"
    env = model.resolver.resolve(dict(model.functions["Backend"].environment))
    assert env["SHARED"] == "own"  # the function's own value beats Globals
    assert env["TABLE"] == "jwt-auth-local-Table"
    assert env["SECRET"].startswith("arn:aws:secretsmanager:")  # Ref of a secret is its ARN
    assert env["MODE"] == "production"
    assert env["ARN"] == "Table.Arn"
    assert env["JOINED"] == "b/us-east-1"
    assert env["LITERAL"] == "${NotAVar}"
    assert env["AWS_ENDPOINT_URL"] == ""


def test_no_value_drops_the_variable_when_the_condition_is_false(tmp_path):
    model = make_model(tmp_path, params={"Stage": "dev"})
    model.resolver.refs["Secret"] = "arn:x"
    model.resolver.get_att = lambda lid, attr: "x"
    env = model.resolver.resolve(dict(model.functions["Backend"].environment))
    assert "MODE" not in env
    assert model.resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_unresolved_reference_is_loud(tmp_path):
    model = make_model(tmp_path)
    with pytest.raises(TemplateError, match="unresolved reference"):
        model.resolver.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match="before it exists"):
        model.resolver.resolve({"Ref": "Secret"})  # not created yet: its ARN is unknown


def test_functions_layers_and_settings(tmp_path):
    model = make_model(tmp_path)
    backend = model.functions["Backend"]
    assert backend.handler == "app.other"
    assert backend.timeout == 7
    assert backend.code_dir == (tmp_path / "fn").resolve()
    assert backend.layer_dirs == ((tmp_path / "layer").resolve(),)
    assert model.function("fn") in (model.functions["AuthFn"], backend)  # by code dir name
    assert model.function("Backend") is backend
    with pytest.raises(TemplateError, match="no function"):
        model.function("Nope")


def test_routes_authorizers_and_identity_sources(tmp_path):
    model = make_model(tmp_path, params={"Ttl": "42"})
    keys = [r.route_key for r in model.routes]
    assert set(keys) == {
        "GET /public",
        "GET /items/{id}",
        "GET /items/special",
        "ANY /files/{proxy+}",
        "POST /form",
    }
    # exact paths sort before parameterised ones, greedy paths last
    assert (
        keys.index("GET /items/special") < keys.index("GET /items/{id}") < keys.index("ANY /files/{proxy+}")
    )
    routes = {r.route_key: r for r in model.routes}
    assert routes["GET /public"].authorizer is None
    assert routes["GET /items/{id}"].authorizer == "Gate"  # the API's DefaultAuthorizer
    gate = model.apis["Api"].authorizers["Gate"]
    assert gate.function == "AuthFn"  # from !Ref AuthFn.Alias
    assert gate.simple_responses is True
    assert gate.identity_sources == ("$request.header.Authorization", "$context.routeKey")
    assert gate.ttl == 42
    policy = model.apis["Api"].authorizers["Policy"]
    assert policy.simple_responses is False
    assert policy.ttl == 0


def test_tables_secrets_and_rotation(tmp_path):
    model = make_model(tmp_path)
    table = model.tables["Table"]
    assert table.name == "jwt-auth-local-Table"
    assert table.create_args["GlobalSecondaryIndexes"][0]["IndexName"] == "BySubject"
    assert table.ttl_attribute == "expires_at"
    assert table.pitr is True
    assert model.secrets["Secret"].secret_string == '{"keys":[]}'
    assert model.secrets["Generated"].name == "jwt-auth-local/generated"
    (rotation,) = model.rotations
    assert (rotation.secret, rotation.function) == ("Secret", "AuthFn")


def test_route_regex_path_parameters():
    m = route_regex("/items/{id}").fullmatch("/items/42")
    assert m is not None
    assert {group_to_param(k): v for k, v in m.groupdict().items()} == {"id": "42"}
    assert route_regex("/items/{id}").fullmatch("/items/42/more") is None
    greedy = route_regex("/files/{proxy+}").fullmatch("/files/a/b/c.txt")
    assert greedy is not None
    assert {group_to_param(k): v for k, v in greedy.groupdict().items()} == {"proxy": "a/b/c.txt"}
    odd = route_regex("/x/{my-param}").fullmatch("/x/1")
    assert odd is not None
    assert [group_to_param(k) for k in odd.groupdict()] == ["my-param"]


def test_the_project_template_is_fully_emulated(tmp_path):
    """Every function dir exists, every HTTP route has a function, tables and secrets are read."""
    from local_stack.cfn import Resolver, StackIdentity
    from local_stack.sam import build_model, physical_names

    template = load_template(ROOT / "template.yaml")
    identity = StackIdentity()
    resolver = Resolver(template, parameter_values(template, {}), identity)
    resolver.refs.update(physical_names(template, identity, resolver))
    model = build_model(template, resolver)
    assert model.functions, "no functions read"
    for spec in model.functions.values():
        assert (spec.code_dir / "app.py").is_file(), spec.logical_id
        assert all(d.is_dir() for d in spec.layer_dirs), spec.logical_id
    assert {r.function for r in model.routes} <= set(model.functions)
    assert model.tables and model.secrets and model.rotations
    protected = [r for r in model.routes if r.authorizer]
    assert protected, "no route uses the Lambda authorizer"
    for route in protected:
        assert model.authorizer(route).function in model.functions


def test_the_project_authorizer_is_emulated_with_iam_policy_answers():
    """The template's authorizer as the local stack reads it: IAM policies (a bad token can be a
    401), keyed by the Authorization header only (the policy is route-independent)."""
    from local_stack.cfn import Resolver, StackIdentity
    from local_stack.sam import build_model, physical_names

    template = load_template(ROOT / "template.yaml")
    identity = StackIdentity()
    resolver = Resolver(template, parameter_values(template, {}), identity)
    resolver.refs.update(physical_names(template, identity, resolver))
    model = build_model(template, resolver)
    (route,) = [r for r in model.routes if r.authorizer]
    spec = model.authorizer(route)
    assert spec.simple_responses is False
    assert spec.identity_sources == ("$request.header.Authorization",)
    env = model.functions[spec.function].environment
    assert env["AUTHORIZER_RESPONSE_FORMAT"] == "iam"


def _project_model(params: dict[str, str]):
    """The project's template.yaml as the local stack reads it, with parameter overrides."""
    from local_stack.cfn import Resolver, StackIdentity
    from local_stack.sam import build_model, physical_names

    template = load_template(ROOT / "template.yaml")
    identity = StackIdentity()
    resolver = Resolver(template, parameter_values(template, params), identity)
    resolver.refs.update(physical_names(template, identity, resolver))
    return build_model(template, resolver)


@pytest.mark.parametrize("level", ["INFO", "WARN"])
def test_functions_get_the_log_level_lambda_sets_from_their_logging_config(level):
    """Lambda sets AWS_LAMBDA_LOG_LEVEL from ``LoggingConfig.ApplicationLogLevel`` (the template's
    ``LogLevel``); Powertools and the authorizer's line writer honour it, so the local stack sets
    it as well (``PARAMS=LogLevel=WARN`` quiets the functions as it would in AWS)."""
    model = _project_model({"LogLevel": level})
    for lid in ("AuthorizerFunction", "IssueTokenFunction"):
        env = model.functions[lid].environment
        assert model.resolver.resolve(env["AWS_LAMBDA_LOG_LEVEL"]) == level, lid
        assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON", lid


def test_the_authorizer_log_level_overrides_log_level_for_the_authorizer_alone():
    model = _project_model({"AuthorizerLogLevel": "WARN"})
    level = {
        lid: model.resolver.resolve(spec.environment["AWS_LAMBDA_LOG_LEVEL"])
        for lid, spec in model.functions.items()
    }
    assert level.pop("AuthorizerFunction") == "WARN"
    assert set(level.values()) == {"INFO"}
