"""Production operations in ``template.yaml`` (issue 15): nothing lost, the signing key's
protection, alarms and the dashboard against the metrics the code really emits, tracing and
guardrails, and the checkov exceptions. docs/operations.md explains each decision.

The metric names are derived from the code (an AST walk of the layer and the functions), not
listed a second time here: an alarm on a metric nobody emits would never fire.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.unit.template.cfn import ROOT, TEMPLATE, Doc, walk

NAMESPACE = "ServerlessJwtAuth"
SIGNING, PUBLIC_JWKS, KEY = "SigningKeysSecret", "PublicJwksSecret", "SigningKeysKey"
KEY_ARN = {"Fn::If": ["CreateSigningKeysKey", {"Fn::GetAtt": [KEY, "Arn"]}, {"Ref": "SigningKeysKmsKeyArn"}]}
#: the roles that may decrypt the private keys: the two signers and the rotation
SIGNER_ROLES = ["IssueTokenFunctionRole", "RefreshTokenFunctionRole", "RotateKeysFunctionRole"]
TABLES = ["UsersTable", "ClientsTable", "SessionsTable", "RevocationsTable"]
#: public functions that check a password or a client secret (CPU-heavy: a flood's target)
CREDENTIAL_CHECKERS = [
    "IssueTokenFunction",
    "RefreshTokenFunction",
    "RevokeTokenFunction",
    "IntrospectTokenFunction",
    "AuthorizeFunction",
    "AccountFunction",  # sign-up, verify, reset and change hash and check passwords and codes
]
#: AWS's own metrics the alarms may use (namespace -> names), each on a resource of this stack
AWS_METRICS = {"AWS/Lambda": {"Errors", "Throttles", "Duration"}, "AWS/ApiGateway": {"5xx"}}
#: the alarms the issue asks for, by what they watch
REQUIRED_ALARMS = {
    "AuthorizerErrorAlarm",
    "AuthorizerFunctionErrorsAlarm",
    "AuthorizerThrottlesAlarm",
    "Api5xxAlarm",
    "StoreUnavailableAlarm",
    "KeyStoreStaleAlarm",
    "KeyStoreFailingAlarm",
    "RotationFailureAlarm",
    "RefreshTokenReuseAlarm",
    "LoginThrottlingSpikeAlarm",
    "TokenLatencyP99Alarm",
    "AuthorizerLatencyP99Alarm",
}


# ----------------------------------------------------------------------------- what the code emits
def _python_files() -> Iterator[ast.Module]:
    for path in [
        *(ROOT / "layers/auth_core/auth_core").rglob("*.py"),
        *(ROOT / "functions").glob("*/app.py"),
    ]:
        yield ast.parse(path.read_text(), filename=str(path))


def _constants(node: ast.AST | None) -> set[str]:
    """String constants an argument can evaluate to (a literal, or either side of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def emitted_metrics() -> set[str]:
    """Every metric name the code can emit: ``audit.record("X")`` and ``_count("X")`` (Powertools
    EMF through auth_core/oauth/audit.py and auth_core/http.py), ``add_metric(name="X")``, the
    authorizer's ``log.emit(level, message, "X", ...)`` and decision lines ``_emit(level, "X", ...)``
    (auth_core/authorizer/telemetry.py: a decision is its line's metric), and the
    key store's and revocation feed's ``EVENT_* = "X"`` events, which both forward as metrics."""
    names: set[str] = set()
    for module in _python_files():
        for node in ast.walk(module):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.startswith("EVENT_") for t in node.targets
            ):
                names |= _constants(node.value)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in {"record", "_count"} and node.args:
                names |= _constants(node.args[0])
            elif name == "emit" and len(node.args) >= 3:
                names |= _constants(node.args[2])
            elif name in {"_emit", "_line"} and len(node.args) >= 2:  # the authorizer's decisions
                names |= _constants(node.args[1])
            elif name == "add_metric":
                names |= {c for kw in node.keywords if kw.arg == "name" for c in _constants(kw.value)}
    return names


def emitting_services() -> set[str]:
    """Every ``service`` dimension: ``HttpFunction.create("x")``/``TokenEndpoint.create("x")`` in
    the functions, and the authorizer's ``DecisionLog("authorizer")``."""
    services: set[str] = set()
    for module in _python_files():
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "create"
                    and isinstance(func.value, ast.Name)
                ):
                    if func.value.id in {"HttpFunction", "TokenEndpoint"}:
                        services |= _constants(node.args[0])
                elif isinstance(func, ast.Name) and func.id == "DecisionLog":
                    services |= _constants(node.args[0])
    return services


def test_the_code_scan_finds_the_known_metrics() -> None:
    """The scan itself works (so the alarm test below cannot pass by finding nothing)."""
    names = emitted_metrics()
    assert {"RefreshTokenReuse", "LoginThrottled", "TemporarilyUnavailable", "AuthorizerError"} <= names
    assert {"KeySetStaleServed", "KeySetFetchFailed", "RevocationFeedReadFailed"} <= names
    assert {"issue_token", "refresh_token", "authorize", "authorizer"} <= emitting_services()


# ----------------------------------------------------------------------------- nothing lost
@pytest.mark.parametrize("table", TABLES)
def test_every_table_survives_delete_and_replacement(resources: Doc, table: str) -> None:
    res = resources[table]
    assert res["DeletionPolicy"] == "Retain" and res["UpdateReplacePolicy"] == "Retain"
    props = res["Properties"]
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


#: AWS::SecretsManager::Secret properties whose change is an in-place update, never a replacement
#: (Name is the one that replaces: a new, empty secret). SecretString is pinned below.
#: (ReplicaRegions: "Update requires: No interruption"; set only with more than one region)
IN_PLACE_SECRET_PROPERTIES = {"Description", "KmsKeyId", "SecretString", "Tags", "ReplicaRegions"}
INITIAL_DOCUMENTS = {SIGNING: '{"version":1,"keys":[]}', PUBLIC_JWKS: '{"keys":[]}'}


@pytest.mark.parametrize("secret", [SIGNING, PUBLIC_JWKS])
def test_a_stack_update_can_never_replace_a_key_secret(resources: Doc, secret: str) -> None:
    """A replaced secret starts from the empty document: the rotation would mint fresh keys and
    every live token would be refused. By construction that cannot happen on an update: the
    logical ids are fixed (a renamed id is a delete and a create), no property that forces a
    replacement is set, and the initial literal never changes (a changed SecretString overwrites
    the live key set)."""
    res = resources[secret]
    assert res["Type"] == "AWS::SecretsManager::Secret"
    props = res["Properties"]
    assert set(props) <= IN_PLACE_SECRET_PROPERTIES, sorted(set(props) - IN_PLACE_SECRET_PROPERTIES)
    assert props["SecretString"] == INITIAL_DOCUMENTS[secret]
    assert "GenerateSecretString" not in props and "Name" not in props


# ----------------------------------------------------------------------------- the signing key
def test_the_signing_secret_is_encrypted_with_a_customer_managed_key(template: Doc, resources: Doc) -> None:
    assert resources[SIGNING]["Properties"]["KmsKeyId"] == KEY_ARN
    parameter = template["Parameters"]["SigningKeysKmsKeyArn"]
    assert parameter["Default"] == ""  # the stack creates the key unless one is brought
    # ...and never in a secondary region (its replica is encrypted there with aws/secretsmanager)
    assert template["Conditions"]["CreateSigningKeysKey"] == {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "SigningKeysKmsKeyArn"}, ""]},
            {"Fn::Not": [{"Condition": "IsSecondaryRegion"}]},
        ]
    }
    key = resources[KEY]
    assert key["Type"] == "AWS::KMS::Key" and key["Condition"] == "CreateSigningKeysKey"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert re.fullmatch(parameter["AllowedPattern"], "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab")
    assert not re.fullmatch(parameter["AllowedPattern"], "alias/mine")


def _principals(statement: Mapping[str, Any]) -> list[str]:
    """The role logical ids (``X.Arn``) and ``root`` named by a statement's principal."""
    out = []
    for node in walk(statement.get("Principal")):
        if isinstance(node, Mapping) and "Fn::GetAtt" in node:
            out.append(node["Fn::GetAtt"][0])
        elif (
            isinstance(node, Mapping)
            and isinstance(node.get("Fn::Sub"), str)
            and node["Fn::Sub"].endswith(":root")
        ):
            out.append("root")
        elif isinstance(node, Mapping) and node.get("Ref") == "KeyAdminRoleArns":
            out.append("KeyAdminRoleArns")
    return out


def _actions(statement: Mapping[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


KEY_USE = {"kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant"}


def test_only_the_signers_and_the_rotation_may_decrypt_with_the_key(resources: Doc) -> None:
    statements = resources[KEY]["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    decrypters = [p for s in statements if _actions(s) & KEY_USE for p in _principals(s)]
    assert decrypters == [*SIGNER_ROLES, "KeyAdminRoleArns"]
    for statement in statements:
        assert not any("*" in a for a in _actions(statement)), (
            "no kms:* or kms:Create*: they include Decrypt and CreateGrant"
        )
        if _actions(statement) & (KEY_USE | {"kms:GenerateDataKey"}):
            assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
                "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"
            }, "the key is used through Secrets Manager only"
    # the account administers the key, and may only encrypt (a new secret version), never read
    root = [s for s in statements if "root" in _principals(s)]
    assert {a for s in root for a in _actions(s)} & KEY_USE == set()
    assert "AuthorizerFunctionRole" not in json.dumps(resources[KEY])


def test_the_authorizer_can_never_decrypt_the_signing_keys(resources: Doc) -> None:
    for lid, res in resources.items():
        if res["Type"] in {"AWS::IAM::Policy", "AWS::KMS::Key", "AWS::SecretsManager::ResourcePolicy"}:
            assert "AuthorizerFunction" not in json.dumps(res), lid
    assert "KmsKeyId" not in resources[PUBLIC_JWKS]["Properties"]  # public keys: the AWS-managed key


def test_the_signing_secret_denies_everyone_but_the_signers_and_the_rotation(resources: Doc) -> None:
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::SecretsManager::ResourcePolicy"]
    props = policy["Properties"]
    assert props["SecretId"] == {"Ref": SIGNING} and props["BlockPublicPolicy"] is True
    read, write = props["ResourcePolicy"]["Statement"]
    for statement in (read, write):
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Resource"] == "*"
    assert _actions(read) == {"secretsmanager:GetSecretValue"}
    assert _actions(write) == {"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}

    def exempted(statement: Doc) -> tuple[list[str], list[Any]]:
        allowed = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        nodes = list(walk(allowed))
        return [n["Fn::GetAtt"][0] for n in nodes if isinstance(n, Mapping) and "Fn::GetAtt" in n], nodes

    names, nodes = exempted(read)
    assert names == SIGNER_ROLES
    assert {"Ref": "KeyAdminRoleArns"} in nodes
    # only the rotation writes the keys: the signers, here or in another region, only read them
    names, nodes = exempted(write)
    assert names == ["RotateKeysFunctionRole"]


# ----------------------------------------------------------------------------- alarms, dashboard
def _alarms(resources: Doc) -> dict[str, Doc]:
    return {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _alarm_metrics(props: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of an alarm, single-metric or metric math."""
    if "MetricName" in props:
        dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        return [(props["Namespace"], props["MetricName"], dims)]
    out = []
    for query in props["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            out.append((metric["Namespace"], metric["MetricName"], dims))
        else:
            used = set(re.findall(r"\bm\d+\b", query["Expression"]))
            assert used == {q["Id"] for q in props["Metrics"] if "MetricStat" in q}, "every metric is summed"
    assert len(props["Metrics"]) <= 10, "CloudWatch allows 10 metrics per alarm"
    return out


def test_the_alarms_the_issue_asks_for_exist_and_notify_the_topic(template: Doc, resources: Doc) -> None:
    alarms = _alarms(resources)
    assert set(alarms) == REQUIRED_ALARMS
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    topic = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for lid, props in alarms.items():
        assert props["AlarmActions"] == topic and props["OKActions"] == topic, lid
        assert props["TreatMissingData"] == "notBreaching", lid  # no traffic is not an outage
        assert props["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{lid.removesuffix('Alarm')}"}


def test_every_alarm_watches_a_metric_that_is_really_emitted(resources: Doc) -> None:
    names, services = emitted_metrics(), emitting_services()
    for lid, props in _alarms(resources).items():
        for namespace, metric, dims in _alarm_metrics(props):
            if namespace == NAMESPACE:
                assert metric in names, f"{lid}: no code emits {metric}"
                assert set(dims) == {"service"} and dims["service"] in services, f"{lid}: {dims}"
            else:
                assert metric in AWS_METRICS[namespace], f"{lid}: {namespace}/{metric}"
                targets = {v.get("Ref") for v in dims.values() if isinstance(v, Mapping)}
                assert targets and targets <= set(resources), f"{lid}: {dims}"


#: HTTP functions that never touch a DynamoDB store (so never answer 503 temporarily_unavailable).
STORELESS = {"me", "jwks"}


def test_the_store_alarm_watches_every_function_with_a_store(resources: Doc) -> None:
    """Every HTTP function that reads or writes a table answers an outage with a 503 and counts
    ``TemporarilyUnavailable`` (auth_core/http.py): the alarm must add up every one of them."""
    watched = {
        dims["service"]
        for _ns, metric, dims in _alarm_metrics(_alarms(resources)["StoreUnavailableAlarm"])
        if metric == "TemporarilyUnavailable"
    }
    # (the authorizer counts RevocationFeedReadFailed instead; "priming" is SnapStart's throwaway log)
    assert emitting_services() - STORELESS - {"authorizer", "priming"} == watched


def test_the_dashboard_shows_every_alarm_and_only_emitted_metrics(resources: Doc) -> None:
    (dashboard,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    text = dashboard["DashboardBody"]["Fn::Sub"]
    referenced = set(re.findall(r"\$\{([\w:]+)(?:\.Arn)?\}", text))
    assert referenced - {"AWS::Region"} <= set(resources)
    body = json.loads(re.sub(r"\$\{[\w:.]+\}", "x", text))
    widgets = body["widgets"]
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(REQUIRED_ALARMS)
    assert set(re.findall(r'"\$\{(\w+)\.Arn\}"', text)) == REQUIRED_ALARMS
    names, services = emitted_metrics(), emitting_services()
    for widget in widgets:
        for row in widget["properties"].get("metrics", []):
            if row[0] == NAMESPACE:
                assert row[1] in names and row[2] == "service" and row[3] in services, row


# ----------------------------------------------------------------------------- tracing, guardrails
def test_tracing_is_a_parameter_off_by_default(template: Doc) -> None:
    assert template["Parameters"]["TracingEnabled"]["Default"] == "false"
    function = template["Globals"]["Function"]
    assert function["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert function["Environment"]["Variables"]["TRACING"] == {"Ref": "TracingEnabled"}


def test_reserved_concurrency_caps_each_credential_checking_function(template: Doc, functions: Doc) -> None:
    parameter = template["Parameters"]["TokenReservedConcurrency"]
    assert parameter["Default"] == 0 and parameter["MinValue"] == 0  # 0: unreserved
    cap = {
        "Fn::If": [
            "HasTokenReservedConcurrency",
            {"Ref": "TokenReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    capped = {lid for lid, props in functions.items() if "ReservedConcurrentExecutions" in props}
    assert capped == set(CREDENTIAL_CHECKERS)
    assert all(functions[lid]["ReservedConcurrentExecutions"] == cap for lid in capped)


def test_api_throttling_per_route_stays(resources: Doc) -> None:
    settings = resources["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert settings == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
    }


def test_no_waf_association_on_the_http_api(resources: Doc) -> None:
    """AWS WAF attaches to REST APIs, not HTTP APIs: an association would fail at deploy time.
    docs/operations.md ("Guardrails") gives the working alternative (CloudFront + WAF)."""
    assert not [lid for lid, r in resources.items() if r["Type"].startswith("AWS::WAFv2::")]


# ----------------------------------------------------------------------------- checkov
def test_every_checkov_exception_says_why(resources: Doc) -> None:
    """`make template` runs checkov: a failed check fails the build, except those skipped here,
    beside the resource, each with its reason."""
    seen = 0
    for lid, res in resources.items():
        for skip in ((res.get("Metadata") or {}).get("checkov") or {}).get("skip") or []:
            seen += 1
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (lid, skip)
            assert len(skip.get("comment", "")) >= 40, f"{lid}: {skip['id']} needs its reason"
    assert seen, "the template's checkov exceptions were not found"
    assert "checkov" in (ROOT / "make/template.mk").read_text()
    assert TEMPLATE.name == "template.yaml"
