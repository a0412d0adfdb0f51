"""Security and contract properties of ``template.yaml``, asserted on what the template says.

The IAM checks interpret each function's ``Policies`` into (capability, resource) pairs; a policy
form the interpreter does not know fails the test instead of being skipped, so the least-privilege
matrix below is always complete.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from auth_core.errors import ConfigurationError
from auth_core.settings import ENV_VARS, SIGNING_ALGORITHMS, Settings
from tests.unit.template.cfn import ROOT, Doc, ref_target, walk

# ----------------------------------------------------------------------------- the contract
FUNCTION_DIRS = {
    "IssueTokenFunction": "issue_token",
    "RefreshTokenFunction": "refresh_token",
    "RevokeTokenFunction": "revoke_token",
    "IntrospectTokenFunction": "introspect_token",
    "AuthorizerFunction": "authorizer",
    "JwksFunction": "jwks",
    "RotateKeysFunction": "rotate_keys",
    "MeFunction": "me",
    "AuthorizeFunction": "authorize",
    "UserinfoFunction": "userinfo",
    "AccountFunction": "account",
}
PUBLIC = "NONE"
PROTECTED = "JwtLambdaAuthorizer"
ROUTES = {
    ("POST", "/token"): ("IssueTokenFunction", PUBLIC),
    ("POST", "/refresh"): ("RefreshTokenFunction", PUBLIC),
    ("POST", "/revoke"): ("RevokeTokenFunction", PUBLIC),
    ("POST", "/introspect"): ("IntrospectTokenFunction", PUBLIC),
    ("GET", "/.well-known/jwks.json"): ("JwksFunction", PUBLIC),
    ("GET", "/.well-known/openid-configuration"): ("JwksFunction", PUBLIC),
    ("GET", "/.well-known/oauth-authorization-server"): ("JwksFunction", PUBLIC),
    ("GET", "/me"): ("MeFunction", PROTECTED),
    # the hosted pages: a browser arrives without a token
    ("GET", "/authorize"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/authorize"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/authorize/consent"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/authorize/mfa"): ("AuthorizeFunction", PUBLIC),
    ("GET", "/authorize/mfa/setup"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/authorize/mfa/setup"): ("AuthorizeFunction", PUBLIC),
    ("GET", "/logout"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/logout"): ("AuthorizeFunction", PUBLIC),
    ("POST", "/par"): ("AuthorizeFunction", PUBLIC),
    # verifies the bearer token itself (RFC 6750 errors need WWW-Authenticate)
    ("GET", "/userinfo"): ("UserinfoFunction", PUBLIC),
    ("POST", "/userinfo"): ("UserinfoFunction", PUBLIC),
    # self-service accounts: pages and the JSON API (the password change checks its own bearer)
    **{
        ("POST", f"/account/api/{a}"): ("AccountFunction", PUBLIC)
        for a in ("signup", "verify", "forgot", "reset", "password")
    },
    **{
        (m, f"/account/{p}"): ("AccountFunction", PUBLIC)
        for p in ("signup", "verify", "forgot", "reset", "password")
        for m in ("GET", "POST")
    },
}
SIGNING = "SigningKeysSecret"
PUBLIC_JWKS = "PublicJwksSecret"
#: the signing secret's KMS key: the one the stack creates, or SigningKeysKmsKeyArn
KEY = "SigningKeysKey"
KEY_ARN = {"Fn::If": ["CreateSigningKeysKey", {"Fn::GetAtt": [KEY, "Arn"]}, {"Ref": "SigningKeysKmsKeyArn"}]}
VIA_SECRETS_MANAGER = {
    "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
}
USERS, CLIENTS, SESSIONS, REVOCATIONS = "UsersTable", "ClientsTable", "SessionsTable", "RevocationsTable"
#: the revocation feed: a Query on this index, nothing else of the table
FEED = "RevocationsTable/index/Feed"
#: a user's sessions (logout), and a user id's username (/userinfo)
BY_SUBJECT, BY_USER_ID = "SessionsTable/index/BySubject", "UsersTable/index/ByUserId"


def crud(table: str) -> set[tuple[str, str]]:
    return {("table:read", table), ("table:write", table), ("table:check", table)}


# (capability, logical id) per function: exactly this, nothing more.
TOKEN_ISSUER = {
    # the signing secret and its KMS key (through Secrets Manager): SigningKeysReadPolicy
    ("secret:read", SIGNING),
    ("key:decrypt", KEY),
    # users: GetItem, UpdateItem (rehash on login, user_id), ConditionCheckItem (session guard)
    *crud(USERS),
    # sessions and the login throttle: GetItem, PutItem, UpdateItem, DeleteItem (no Query/Scan)
    ("table:read", SESSIONS),
    ("table:write", SESSIONS),
    # read + ConditionCheckItem: the refresh rotation transaction re-checks the client item
    ("table:read", CLIENTS),
    ("table:check", CLIENTS),
    # revoking a family (reuse detection...) refuses its access tokens (PutItem on jti#/sid# keys only)
    ("table:write", REVOCATIONS),
    # the refresh transaction checks the global cut-off item (all# only); the feed (a disabled
    # client, a revoked signing key) is one Query on its index
    ("table:check", REVOCATIONS),
    ("table:read", FEED),
}
#: /refresh (no login): reads and re-checks the user, never writes it (test_iam_expanded.py
#: checks the exact actions: no UpdateItem on users, no DeleteItem on sessions).
TOKEN_REFRESHER = TOKEN_ISSUER - {("table:write", USERS)}
PERMISSIONS: dict[str, set[tuple[str, str]]] = {
    "IssueTokenFunction": TOKEN_ISSUER,
    "RefreshTokenFunction": TOKEN_REFRESHER,
    # RFC 7009: rt#/fam# reads, the fam# update and the sid#/jti# deny entries; never users
    # (test_iam_expanded.py checks the exact actions and keys on the expanded template)
    "RevokeTokenFunction": {
        ("secret:read", PUBLIC_JWKS),
        ("table:read", CLIENTS),
        ("table:read", SESSIONS),
        ("table:write", SESSIONS),
        ("table:write", REVOCATIONS),
    },
    # RFC 7662: read-only; the user item (GetItem) says whether a refresh token's session lives
    "IntrospectTokenFunction": {
        ("secret:read", PUBLIC_JWKS),
        ("table:read", CLIENTS),
        ("table:read", SESSIONS),
        ("table:read", REVOCATIONS),
        ("table:read", USERS),
    },
    # plus, with AuthorizerDpop not off, the DPoP proofs' replay records (dpop# PutItem only)
    "AuthorizerFunction": {("secret:read", PUBLIC_JWKS), ("table:read", FEED), ("table:write", SESSIONS)},
    "JwksFunction": {("secret:read", PUBLIC_JWKS)},
    "RotateKeysFunction": {
        # the signing secret and its KMS key: SigningKeysRotatePolicy
        ("secret:read", SIGNING),
        ("secret:write", SIGNING),
        ("key:decrypt", KEY),
        ("key:encrypt", KEY),
        ("secret:read", PUBLIC_JWKS),
        ("secret:write", PUBLIC_JWKS),
        # re-asserting revoked signing keys in the feed (kid# items only)
        ("table:write", REVOCATIONS),
    },
    "MeFunction": set(),
    # the hosted pages issue codes, never tokens: the public JWKS only (id_token_hint); users
    # read and updated (rehash, user_id), never created; SSO sessions, codes, pushed requests,
    # consents and the login throttle in the sessions table (and its BySubject index, logout);
    # the revocation feed
    "AuthorizeFunction": {
        ("secret:read", PUBLIC_JWKS),
        ("table:read", USERS),
        ("table:write", USERS),
        ("table:read", CLIENTS),
        # the sign-in items, by kind (test_iam_expanded.py checks the leading keys)
        ("table:read", SESSIONS),
        ("table:write", SESSIONS),
        ("table:read", BY_SUBJECT),
        # current_session's all# cut-off; logout deny-lists its families' access tokens
        ("table:read", REVOCATIONS),
        ("table:write", REVOCATIONS),
    },
    # verifies like the authorizer (public JWKS, the feed, DPoP proofs' replay records) and reads
    # usernames
    "UserinfoFunction": {
        ("secret:read", PUBLIC_JWKS),
        ("table:read", FEED),
        ("table:read", BY_USER_ID),
        ("table:read", USERS),
        ("table:write", SESSIONS),
    },
    # sign-up creates users (in the transaction claiming the email); reset / change end sessions
    # (the users item, the families, the sub#/sid#/jti# entries); the bearer check reads the feed
    "AccountFunction": {
        ("secret:read", PUBLIC_JWKS),
        ("table:read", USERS),
        ("table:write", USERS),
        ("table:read", BY_USER_ID),
        ("table:read", CLIENTS),
        ("table:read", SESSIONS),
        ("table:write", SESSIONS),
        ("table:read", BY_SUBJECT),
        ("table:write", REVOCATIONS),
        ("table:read", REVOCATIONS),  # the change-password page's SSO check: the global cut-off
        ("table:read", FEED),
        # mail from MAIL_FROM's identity, and the configuration set when one is named
        ("mail:send", "ses:identity/MailIdentity"),
        ("mail:send", "ses:configuration-set/MailConfigurationSet"),
    },
}
# Variables naming a resource, and the resource they must name.
RESOURCE_VARS = {
    "SIGNING_KEYS_SECRET_ID": SIGNING,
    "PUBLIC_JWKS_SECRET_ID": PUBLIC_JWKS,
    "USERS_TABLE": USERS,
    "CLIENTS_TABLE": CLIENTS,
    "SESSIONS_TABLE": SESSIONS,
    "REVOCATIONS_TABLE": REVOCATIONS,
}
#: Resources a function is told about but may not use: the shared revocation factory
#: (oauth/factories.py) wires a SessionRevoker, which requires USERS_TABLE, but /revoke never
#: calls its user paths (logout-all is authctl's).
NAMED_WITHOUT_ACCESS = {"RevokeTokenFunction": {USERS}}
#: Variables a function may get that are not Settings fields.
NON_SETTINGS_VARS = {"AWS_ENDPOINT_URL", "AUTH_ALLOW_INSECURE_ENDPOINT_HOSTS"}

SECRET_READ_ACTIONS = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
SECRET_WRITE_ACTIONS = {"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
TABLE_READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan"}
TABLE_WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
TABLE_CHECK_ACTIONS = {"dynamodb:ConditionCheckItem"}
KEY_DECRYPT_ACTIONS = {"kms:Decrypt"}
KEY_ENCRYPT_ACTIONS = {"kms:GenerateDataKey"}


def _branches(policies: list[Any]) -> list[Any]:
    """Both branches of a conditional policy (``!If``) count: what the role may get."""
    out: list[Any] = []
    for policy in policies:
        if isinstance(policy, Mapping) and set(policy) == {"Fn::If"}:
            out += [b for b in policy["Fn::If"][1:] if b != {"Ref": "AWS::NoValue"}]
        else:
            out.append(policy)
    return out


def permissions(props: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Interpret a function's ``Policies``; unknown forms fail loudly."""
    out: set[tuple[str, str]] = set()
    for policy in _branches(props.get("Policies") or []):
        assert isinstance(policy, Mapping) and len(policy) == 1, f"unsupported policy form {policy!r}"
        ((kind, body),) = policy.items()
        if kind == "AWSSecretsManagerGetSecretValuePolicy":
            out.add(("secret:read", _target(body["SecretArn"])))
        elif kind == "DynamoDBReadPolicy":
            out.add(("table:read", _target(body["TableName"])))
        elif kind == "DynamoDBCrudPolicy":
            table = _target(body["TableName"])
            out |= {("table:read", table), ("table:write", table), ("table:check", table)}
        elif kind == "Statement":
            for statement in body:
                out |= _statement(statement)
        else:
            pytest.fail(f"policy {kind!r} is not interpreted by this test: extend it deliberately")
    return out


def attached_permissions(resources: Mapping[str, Any], function: str) -> set[tuple[str, str]]:
    """What the stand-alone ``AWS::IAM::Policy`` resources attached to ``function``'s SAM role
    grant (the signing secret's: its key policy names the role, so the role cannot name it)."""
    out: set[tuple[str, str]] = set()
    for res in resources.values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": f"{function}Role"} in res["Properties"]["Roles"]:
            for statement in res["Properties"]["PolicyDocument"]["Statement"]:
                out |= _statement(statement)
    return out


def _target(value: Any) -> str:
    if value == KEY_ARN:
        return KEY
    sub = value.get("Fn::Sub") if isinstance(value, Mapping) else None
    if isinstance(sub, str):
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", sub)
        assert found, f"policy resource {sub!r}: only a table's index may be named with !Sub"
        return f"{found[1]}/index/{found[2]}"
    target = ref_target(value)
    assert target, f"policy resource {value!r} must be a !Ref/!GetAtt of a template resource"
    return target


#: an SES resource ARN of this account and region, named by a template parameter
_SES_ARN = re.compile(
    r"arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(identity|configuration-set)/\$\{(\w+)\}"
)


def _ses_targets(resource: Any) -> set[str]:
    """``ses:<kind>/<Parameter>`` for each ARN of a ``!Sub`` (or both branches of an ``!If``)."""
    if isinstance(resource, list):
        return set().union(*(_ses_targets(r) for r in resource))
    if isinstance(resource, Mapping) and "Fn::If" in resource:
        _cond, yes, no = resource["Fn::If"]
        return _ses_targets(yes) | _ses_targets(no)
    found = _SES_ARN.fullmatch(resource.get("Fn::Sub", "") if isinstance(resource, Mapping) else "")
    assert found, f"SES resource {resource!r}: one identity or configuration set, by parameter"
    return {f"ses:{found[1]}/{found[2]}"}


def _statement(statement: Mapping[str, Any]) -> set[tuple[str, str]]:
    assert statement["Effect"] == "Allow"
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    if any(a.startswith("kms:") for a in actions):
        assert statement.get("Condition") == VIA_SECRETS_MANAGER, (
            "the key is used through Secrets Manager only"
        )
    if actions == ["ses:SendEmail"]:
        return {("mail:send", t) for t in _ses_targets(statement["Resource"])}
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert "*" not in resources, "wildcard resource"
    targets = [_target(r) for r in resources]
    caps: set[str] = set()
    for action in actions:
        assert "*" not in action, f"wildcard action {action}"
        if action in SECRET_READ_ACTIONS:
            caps.add("secret:read")
        elif action in SECRET_WRITE_ACTIONS:
            caps.add("secret:write")
        elif action in TABLE_READ_ACTIONS:
            caps.add("table:read")
        elif action in TABLE_WRITE_ACTIONS:
            caps.add("table:write")
        elif action in TABLE_CHECK_ACTIONS:
            caps.add("table:check")
        elif action in KEY_DECRYPT_ACTIONS:
            caps.add("key:decrypt")
        elif action in KEY_ENCRYPT_ACTIONS:
            caps.add("key:encrypt")
        else:
            pytest.fail(f"action {action!r} is not interpreted by this test")
    return {(cap, t) for cap in caps for t in targets}


def environment(template: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """A function's variables after SAM's Globals merge."""
    merged = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    merged.update((props.get("Environment") or {}).get("Variables") or {})
    return merged


# ----------------------------------------------------------------------------- runtime, layer
def test_transform_and_globals(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    g = template["Globals"]["Function"]
    assert g["Runtime"] == "python3.13"
    assert g["Architectures"] == ["arm64"]
    assert g["Layers"] == [{"Ref": "AuthCoreLayer"}]
    assert g["Handler"] == "app.lambda_handler"


def test_no_function_overrides_runtime_architecture_layers_or_role(functions: dict[str, Any]) -> None:
    for lid, props in functions.items():
        for key in ("Runtime", "Architectures", "Layers", "Handler", "Role", "InlineCode", "PackageType"):
            assert key not in props, f"{lid} overrides {key}: every function runs the same runtime/arch/layer"


def test_layer_is_built_for_the_functions_architecture(template: Doc, resources: Doc) -> None:
    layer = resources["AuthCoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    props = layer["Properties"]
    assert props["ContentUri"] == "layers/auth_core/"
    assert props["CompatibleRuntimes"] == [template["Globals"]["Function"]["Runtime"]]
    assert props["CompatibleArchitectures"] == template["Globals"]["Function"]["Architectures"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (ROOT / "layers/auth_core/Makefile").read_text()
    assert "\nbuild-AuthCoreLayer:" in makefile
    assert "--platform manylinux2014_aarch64" in makefile or "PLATFORM ?= manylinux2014_aarch64" in makefile
    assert "--only-binary=:all:" in makefile and "--no-compile" in makefile


def test_layer_requirements_are_pinned_and_exclude_the_runtime_sdk() -> None:
    lines = [
        line.split("#", 1)[0].strip()
        for line in (ROOT / "layers/auth_core/requirements.txt").read_text().splitlines()
    ]
    reqs = [line for line in lines if line]
    assert reqs, "the layer needs its runtime dependencies"
    for req in reqs:
        assert "==" in req, f"{req}: layer dependencies are pinned exactly"
        assert req.split("==")[0].lower() not in {"boto3", "botocore"}, "boto3 comes with the runtime"


# ----------------------------------------------------------------------------- functions
def test_exactly_the_contract_functions_with_existing_code(functions: dict[str, Any]) -> None:
    assert {lid: p["CodeUri"] for lid, p in functions.items()} == {
        lid: f"functions/{d}/" for lid, d in FUNCTION_DIRS.items()
    }
    for lid, d in FUNCTION_DIRS.items():
        app = ROOT / "functions" / d / "app.py"
        assert app.is_file(), f"{lid}: {app} does not exist"
        tree = ast.parse(app.read_text())
        names = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        } | {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert "lambda_handler" in names, f"{app} defines no lambda_handler"


@pytest.mark.parametrize("directory", sorted(FUNCTION_DIRS.values()))
def test_function_code_is_self_contained(directory: str) -> None:
    """In Lambda, ``functions/<dir>/`` *is* the task root: ``import functions...`` would fail there."""
    for path in (ROOT / "functions" / directory).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                assert top not in {"functions", "tests", "local_stack", "authctl"}, (
                    f"{path.relative_to(ROOT)} imports {module}, which is not deployed"
                )


def test_every_function_has_its_own_log_group_with_retention(
    template: Doc, resources: Doc, functions: Doc
) -> None:
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    used: list[str] = []
    for lid, props in functions.items():
        config = props.get("LoggingConfig") or {}
        group = ref_target(config.get("LogGroup"))
        assert group, f"{lid} has no LoggingConfig.LogGroup"
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert config.get("LogFormat") == "JSON"
        used.append(group)
    assert len(used) == len(set(used)), "one log group per function"


def test_authorizer_can_be_published_for_snapstart(template: Doc, functions: Doc) -> None:
    props = functions["AuthorizerFunction"]
    assert props["AutoPublishAlias"] == "live"
    assert props["SnapStart"]["ApplyOn"] == {"Fn::If": ["SnapStartEnabled", "PublishedVersions", "None"]}
    assert template["Parameters"]["EnableSnapStart"]["Default"] == "false"


# ----------------------------------------------------------------------------- API and routes
def test_every_contract_route_exists_with_the_right_auth(functions: dict[str, Any]) -> None:
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for lid, props in functions.items():
        for name, event in (props.get("Events") or {}).items():
            assert event["Type"] == "HttpApi", f"{lid}.{name}: only HTTP API events"
            p = event["Properties"]
            assert p["ApiId"] == {"Ref": "HttpApi"}
            auth = (p.get("Auth") or {}).get("Authorizer", PROTECTED)
            key = (p["Method"].upper(), p["Path"])
            assert key not in found, f"duplicate route {key}"
            found[key] = (lid, auth)
    assert found == ROUTES


def test_lambda_authorizer_configuration(template: Doc, resources: Doc) -> None:
    auth = resources["HttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == PROTECTED
    authorizer = auth["Authorizers"][PROTECTED]
    assert ref_target(authorizer["FunctionArn"]) == "AuthorizerFunction"
    assert authorizer["AuthorizerPayloadFormatVersion"] == "2.0"
    # IAM policy answers: a bad token fails with "Unauthorized" (401), a missing scope is a
    # Deny (403); a simple response could only ever be a 403 (README, "What each API type lets
    # an authorizer return").
    assert authorizer["EnableSimpleResponses"] is False
    assert authorizer["EnableFunctionDefaultPermissions"] is True
    identity = authorizer["Identity"]
    assert identity["Headers"] == ["Authorization"]
    # The policy is route-independent (cache-safe), so the route is not part of the cache key.
    assert "Context" not in identity
    # API Gateway's result cache, except with DPoP at the API: a cached Allow would answer the
    # next request without its proof being checked (or recorded against replay).
    assert identity["ReauthorizeEvery"] == {"Fn::If": ["DpopAtTheApi", 0, {"Ref": "AuthorizerResultTtl"}]}
    assert template["Conditions"]["DpopAtTheApi"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AuthorizerDpop"}, "off"]}]
    }
    assert template["Parameters"]["AuthorizerDpop"]["Default"] == "off"
    ttl = template["Parameters"]["AuthorizerResultTtl"]
    assert (ttl["Default"], ttl["MinValue"]) == (300, 0)
    env = environment(template, resources["AuthorizerFunction"]["Properties"])
    assert env["AUTHORIZER_RESPONSE_FORMAT"] == "iam"


def test_cors_only_when_origins_are_configured(template: Doc, resources: Doc) -> None:
    assert template["Parameters"]["CorsAllowedOrigins"]["Default"] == ""
    no_origins = {"Fn::Equals": [{"Ref": "CorsAllowedOrigins"}, ""]}
    assert template["Conditions"]["HasCors"] == {"Fn::Not": [no_origins]}
    cors = resources["HttpApi"]["Properties"]["CorsConfiguration"]
    condition, when_set, otherwise = cors["Fn::If"]
    assert condition == "HasCors"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert when_set["AllowCredentials"] is False
    assert when_set["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]}


def test_cors_lets_a_browser_client_use_dpop(resources: Doc) -> None:
    """A cross-origin single-page app sends its proof in the ``DPoP`` header (RFC 9449 §4) and
    must read the ``DPoP-Nonce`` (§8) and ``WWW-Authenticate`` (§7.1) of the answers."""
    when_set = resources["HttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"][1]
    assert when_set["AllowHeaders"] == ["authorization", "content-type", "dpop"]
    assert when_set["ExposeHeaders"] == ["dpop-nonce", "www-authenticate"]


def test_access_log_format_carries_no_credentials(resources: dict[str, Any]) -> None:
    fmt = resources["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    json.loads(fmt)  # one JSON object per line
    for forbidden in ("header", "authorization", "querystring", "body"):
        assert forbidden not in fmt.lower()


# ----------------------------------------------------------------------------- IAM
@pytest.mark.parametrize("function", sorted(FUNCTION_DIRS))
def test_least_privilege_matrix(functions: dict[str, Any], resources: Doc, function: str) -> None:
    got = permissions(functions[function]) | attached_permissions(resources, function)
    assert got == PERMISSIONS[function]


def test_authorizer_cannot_read_the_signing_secret(functions: dict[str, Any]) -> None:
    props = functions["AuthorizerFunction"]
    assert SIGNING not in {ref_target(node) for node in walk(props.get("Policies"))}
    dynamo_actions = {
        a
        for node in walk(props.get("Policies"))
        if isinstance(node, Mapping) and "Action" in node
        for a in ([node["Action"]] if isinstance(node["Action"], str) else node["Action"])
        if a.startswith("dynamodb:")
    }
    # the revocation feed's index, and (AuthorizerDpop) the DPoP replay records: nothing else
    assert dynamo_actions == {"dynamodb:Query", "dynamodb:PutItem"}
    dpop = [
        node
        for node in walk(props.get("Policies"))
        if isinstance(node, Mapping) and node.get("Sid") == "RecordDPoPProofs"
    ]
    assert dpop == [
        {
            "Sid": "RecordDPoPProofs",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": {"Fn::GetAtt": [SESSIONS, "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["dpop#*"]}},
        }
    ]


@pytest.mark.parametrize("function", ["IssueTokenFunction", "RefreshTokenFunction"])
def test_token_functions_can_only_deny_list_access_tokens(functions: Doc, function: str) -> None:
    """They may add ``jti#`` and ``sid#`` deny entries (a revoked family's access tokens), never
    touch ``sub#`` (a lowered not_before un-revokes)."""
    statements = [
        node
        for node in walk(functions[function].get("Policies"))
        if isinstance(node, Mapping) and ref_target(node.get("Resource")) == REVOCATIONS
    ]
    assert statements == [
        {
            "Sid": "DenyListAccessTokensOnReuse",
            "Effect": "Allow",
            "Action": "dynamodb:PutItem",
            "Resource": {"Fn::GetAtt": [REVOCATIONS, "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["jti#*", "sid#*"]}},
        },
        {
            "Sid": "CheckGlobalCutoffInRotationTransaction",
            "Effect": "Allow",
            "Action": "dynamodb:ConditionCheckItem",
            "Resource": {"Fn::GetAtt": [REVOCATIONS, "Arn"]},
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["all#"]}},
        },
    ]


def test_introspection_reads_only_points_of_sessions_and_revocations(functions: Doc) -> None:
    """Point reads only (no Query/Scan), sessions restricted to ``rt#``/``fam#`` items: the
    function can neither enumerate sessions nor read the login-throttle counters."""
    statements = {
        ref_target(node.get("Resource")): node
        for node in walk(functions["IntrospectTokenFunction"].get("Policies"))
        if isinstance(node, Mapping) and "Action" in node
    }
    assert set(statements) == {SESSIONS, REVOCATIONS, USERS, CLIENTS}
    assert statements[USERS]["Action"] == "dynamodb:GetItem"
    assert statements[CLIENTS]["Action"] == "dynamodb:GetItem"
    assert statements[SESSIONS]["Action"] == "dynamodb:GetItem"
    assert statements[SESSIONS]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["rt#*", "fam#*"]}
    }
    assert set(statements[REVOCATIONS]["Action"]) == {"dynamodb:GetItem", "dynamodb:BatchGetItem"}


def test_only_the_rotation_function_can_write_secrets(template: Doc, resources: Doc) -> None:
    writers = set()
    for lid, res in resources.items():
        for node in walk(res):
            if isinstance(node, Mapping) and "Action" in node and node.get("Effect") == "Allow":
                actions = node["Action"] if isinstance(node["Action"], list) else [node["Action"]]
                if any(a in SECRET_WRITE_ACTIONS or a == "secretsmanager:*" for a in actions):
                    roles = (res.get("Properties") or {}).get("Roles") or [{"Ref": f"{lid}Role"}]
                    writers |= {role["Ref"].removesuffix("Role") for role in roles}
    assert writers == {"RotateKeysFunction"}
    # Roles come from SAM; the only hand-written IAM resources are policies attached to a SAM
    # function role, and test_least_privilege_matrix reads them (attached_permissions).
    for lid, res in resources.items():
        if res["Type"].startswith("AWS::IAM::"):
            assert res["Type"] == "AWS::IAM::Policy", lid
            for role in res["Properties"]["Roles"]:
                assert role["Ref"].removesuffix("Role") in FUNCTION_DIRS, (lid, role)


# ----------------------------------------------------------------------------- environment
def test_every_variable_is_a_settings_variable(template: Doc, functions: Doc) -> None:
    known = set(ENV_VARS.values()) | NON_SETTINGS_VARS
    for lid, props in functions.items():
        unknown = set(environment(template, props)) - known
        assert not unknown, f"{lid} gets variables Settings does not read: {sorted(unknown)}"


def test_endpoint_override_is_empty_in_aws(template: Doc, functions: Doc) -> None:
    assert template["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"] == ""
    for lid, props in functions.items():
        assert "AWS_ENDPOINT_URL" not in ((props.get("Environment") or {}).get("Variables") or {}), lid


def test_resource_variables_match_the_permissions(template: Doc, functions: Doc) -> None:
    """A function is told about exactly the secrets and tables it may use."""
    for lid, props in functions.items():
        env = environment(template, props)
        named = {RESOURCE_VARS[k]: ref_target(v) for k, v in env.items() if k in RESOURCE_VARS}
        assert all(named[res] == res for res in named), f"{lid}: variable points at the wrong resource"
        reachable = {
            res.split("/index/")[0]
            for _cap, res in PERMISSIONS[lid]
            if res != KEY and not res.startswith("ses:")
        }
        reachable |= NAMED_WITHOUT_ACCESS.get(lid, set())
        assert set(named) == reachable, f"{lid}: variables {sorted(named)} vs permissions {sorted(reachable)}"


def test_defaults_give_every_function_valid_settings(template: Doc, functions: Doc) -> None:
    params = template["Parameters"]
    for props in functions.values():
        env: dict[str, str] = {}
        for key, value in environment(template, props).items():
            target = ref_target(value)
            if target in params:
                env[key] = str(params[target]["Default"])
            elif target:
                env[key] = f"stack-{target}"
            else:
                env[key] = str(value)
        Settings.from_env(env)  # raises ConfigurationError on an invalid default


PARAM_VARS = {
    "AccessTokenTtl": "ACCESS_TOKEN_TTL",
    "MaxAccessTokenLifetime": "MAX_ACCESS_TOKEN_LIFETIME",
    "RefreshGraceSeconds": "REFRESH_GRACE_SECONDS",
    "RefreshSessionMaxAge": "REFRESH_SESSION_MAX_AGE",
    "RefreshIdleTimeout": "REFRESH_IDLE_TIMEOUT",
    "SsoSessionMaxAge": "SSO_SESSION_MAX_AGE",
    "SsoSessionIdleTimeout": "SSO_SESSION_IDLE_TIMEOUT",
    "AuthorizationCodeTtl": "AUTHORIZATION_CODE_TTL",
    "ParRequestTtl": "PAR_REQUEST_TTL",
    "ClaimsHookBudgetMs": "CLAIMS_HOOK_BUDGET_MS",
}


@pytest.mark.parametrize("parameter", sorted(PARAM_VARS))
def test_numeric_parameter_ranges_are_accepted_by_settings(template: dict[str, Any], parameter: str) -> None:
    """Every value CloudFormation lets through must also pass Settings' own range check."""
    p = template["Parameters"][parameter]
    var = PARAM_VARS[parameter]
    assert var in ENV_VARS.values()
    for value in (p["MinValue"], p["MaxValue"], p["Default"]):
        env = {var: str(value)}
        if var == "ACCESS_TOKEN_TTL":
            env["MAX_ACCESS_TOKEN_LIFETIME"] = "86400"
        if var == "MAX_ACCESS_TOKEN_LIFETIME":
            env["ACCESS_TOKEN_TTL"] = "60"
        Settings.from_env(env)


def test_signing_algorithm_parameter(template: dict[str, Any]) -> None:
    p = template["Parameters"]["SigningAlg"]
    assert tuple(p["AllowedValues"]) == SIGNING_ALGORITHMS
    assert p["Default"] == "RS256"
    assert "JWT authorizer" in p["Description"] and "RSA" in p["Description"]


def test_issuer_defaults_to_the_request_domain(template: dict[str, Any]) -> None:
    p = template["Parameters"]["Issuer"]
    assert p["Default"] == ""
    assert "circular" in p["Description"]
    assert template["Globals"]["Function"]["Environment"]["Variables"]["ISSUER"] == {"Ref": "Issuer"}


# ----------------------------------------------------------------------------- data
TABLE_KEYS = {USERS: "username", CLIENTS: "client_id", SESSIONS: "pk", REVOCATIONS: "pk"}


@pytest.mark.parametrize("table", sorted(TABLE_KEYS))
def test_tables(resources: dict[str, Any], table: str) -> None:
    res = resources[table]
    assert res["Type"] == "AWS::DynamoDB::Table"
    p = res["Properties"]
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"] == {"SSEEnabled": True}
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert p["KeySchema"] == [{"AttributeName": TABLE_KEYS[table], "KeyType": "HASH"}]
    assert "TableName" not in p, "generated names: a replacement or a second stack never collides"
    # Every table, not only users and clients: losing sessions logs everyone out, and losing
    # revocations brings revoked access tokens back to life (docs/operations.md).
    assert res.get("DeletionPolicy") == "Retain" and res.get("UpdateReplacePolicy") == "Retain"
    assert p["DeletionProtectionEnabled"] is True


def test_sessions_by_subject_index(resources: dict[str, Any]) -> None:
    p = resources[SESSIONS]["Properties"]
    (gsi,) = p["GlobalSecondaryIndexes"]
    assert gsi == {
        "IndexName": "BySubject",
        "KeySchema": [
            {"AttributeName": "subject", "KeyType": "HASH"},
            {"AttributeName": "pk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    assert {"AttributeName": "subject", "AttributeType": "S"} in p["AttributeDefinitions"]


def test_initial_secrets_are_valid_empty_documents(resources: dict[str, Any]) -> None:
    from auth_core.jwk import JWKSet
    from auth_core.keyset import KeySet

    keyset = KeySet.from_json(resources[SIGNING]["Properties"]["SecretString"])
    assert keyset.records == () and keyset.active is None
    assert JWKSet.from_json(resources[PUBLIC_JWKS]["Properties"]["SecretString"]).kids == frozenset()
    for lid in (SIGNING, PUBLIC_JWKS):
        assert "GenerateSecretString" not in resources[lid]["Properties"]


def test_rotation_schedule_and_invoke_permission(template: Doc, resources: Doc) -> None:
    schedules = [r for r in resources.values() if r["Type"] == "AWS::SecretsManager::RotationSchedule"]
    assert len(schedules) == 1, "only the signing key set rotates"
    schedule = schedules[0]
    p = schedule["Properties"]
    assert p["SecretId"] == {"Ref": SIGNING}
    assert p["RotationLambdaARN"] == {"Fn::GetAtt": ["RotateKeysFunction", "Arn"]}
    assert p["RotateImmediatelyOnUpdate"] is True
    assert p["RotationRules"] == {"ScheduleExpression": {"Fn::Sub": "rate(${KeyRotationDays} days)"}}
    days = template["Parameters"]["KeyRotationDays"]
    assert days["Default"] == 30 and days["MinValue"] >= 2  # "rate(1 days)" is not valid syntax
    # the KMS and secret rights are attached before the first rotation runs
    assert "SigningKeysRotatePolicy" in schedule["DependsOn"]
    (permission,) = [
        resources[d] for d in schedule["DependsOn"] if resources[d]["Type"] == "AWS::Lambda::Permission"
    ]
    assert permission["Type"] == "AWS::Lambda::Permission"
    assert permission["Properties"] == {
        "FunctionName": {"Fn::GetAtt": ["RotateKeysFunction", "Arn"]},
        "Action": "lambda:InvokeFunction",
        "Principal": "secretsmanager.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in (
        "ApiUrl",
        "Issuer",
        "TokenEndpoint",
        "IntrospectionEndpoint",
        "JwksUrl",
        "DiscoveryUrl",
        "SigningKeysSecretArn",
        "PublicJwksSecretArn",
        "UsersTableName",
        "ClientsTableName",
        "SessionsTableName",
        "RevocationsTableName",
    ):
        assert name in outputs
    assert outputs["JwksUrl"]["Value"]["Fn::Sub"].endswith("/.well-known/jwks.json")
    assert outputs["DiscoveryUrl"]["Value"]["Fn::Sub"].endswith("/.well-known/openid-configuration")


STATEFUL = {"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"}


def test_every_stateful_resource_says_what_happens_on_delete(resources: Doc) -> None:
    """Explicit DeletionPolicy/UpdateReplacePolicy (cfn-lint I3011): retention is a decision."""
    for lid, res in resources.items():
        if res["Type"] in STATEFUL:
            assert res.get("DeletionPolicy") in {"Delete", "Retain", "Snapshot"}, lid
            assert res.get("UpdateReplacePolicy") == res["DeletionPolicy"], lid


def test_the_two_token_functions_share_one_configuration(functions: Doc) -> None:
    """/token and /refresh are one endpoint module (``auth_core.oauth.token_endpoint``) in two
    functions only so that /refresh gets a narrower role. Their environment is repeated because
    SAM ``Globals`` would reach every function and CloudFormation refuses YAML aliases: this test
    keeps the two copies from drifting apart."""
    issue, refresh = functions["IssueTokenFunction"], functions["RefreshTokenFunction"]
    assert issue["Environment"] == refresh["Environment"]
    assert issue["MemorySize"] == refresh["MemorySize"]
    assert issue["Policies"] != refresh["Policies"]  # the reason for two functions


def test_users_by_user_id_index(resources: dict[str, Any]) -> None:
    """/userinfo maps a token's opaque ``sub`` to its username; keys only, so logins and password
    changes never write the index (only an item's creation or its one-time user_id do)."""
    p = resources[USERS]["Properties"]
    (gsi,) = p["GlobalSecondaryIndexes"]
    assert gsi == {
        "IndexName": "ByUserId",
        "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    assert {"AttributeName": "user_id", "AttributeType": "S"} in p["AttributeDefinitions"]
    from auth_core.stores.users import BY_USER_ID

    assert gsi["IndexName"] == BY_USER_ID


@pytest.mark.parametrize("function", ["AuthorizeFunction", "UserinfoFunction"])
def test_browser_facing_functions_never_see_the_signing_secret(
    template: Doc, functions: Doc, function: str
) -> None:
    """The hosted pages issue codes, /userinfo verifies: neither may sign (codes are exchanged at /token)."""
    props = functions[function]
    assert SIGNING not in {ref_target(node) for node in walk(props)}
    assert "SIGNING_KEYS_SECRET_ID" not in environment(template, props)


def test_brand_parameters_feed_the_hosted_pages(template: Doc, functions: Doc) -> None:
    params = template["Parameters"]
    env = environment(template, functions["AuthorizeFunction"])
    for parameter, var in {
        "BrandName": "BRAND_NAME",
        "BrandLogoUrl": "BRAND_LOGO_URL",
        "BrandPrimaryColor": "BRAND_PRIMARY_COLOR",
        "BrandBackgroundColor": "BRAND_BACKGROUND_COLOR",
    }.items():
        assert env[var] == {"Ref": parameter}
    for parameter in ("BrandPrimaryColor", "BrandBackgroundColor"):
        pattern = params[parameter]["AllowedPattern"]
        assert re.fullmatch(pattern, params[parameter]["Default"])
        assert not re.fullmatch(pattern, "red") and not re.fullmatch(pattern, "#fff;x")
    logo = params["BrandLogoUrl"]["AllowedPattern"]
    assert re.fullmatch(logo, "") and re.fullmatch(logo, "https://cdn.example.com/logo.svg")
    assert not re.fullmatch(logo, "http://example.com/logo.png")
    assert not re.fullmatch(logo, 'https://x/"onerror=')
    assert params["AuthorizationCodeTtl"]["MaxValue"] <= 60  # RFC 6749 §4.1.2 and the issue: <= 60 s


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("claims_hooks:add", True),
        ("my_org.hooks.claims:Hooks.add", True),
        ("claims_hooks", False),
        ("claims hooks:add", False),
        ("claims_hooks:add()", False),
        ("-x:y", False),
    ],
)
def test_claims_hook_parameter_pattern_agrees_with_settings(template: Doc, value: str, valid: bool) -> None:
    """What CloudFormation lets through for ClaimsHook is what Settings accepts, and only that."""
    pattern = template["Parameters"]["ClaimsHook"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid
    if valid:
        Settings.from_env({"CLAIMS_HOOK": value})
    else:
        with pytest.raises(ConfigurationError):
            Settings.from_env({"CLAIMS_HOOK": value})


def test_only_the_token_functions_get_the_claims_hook(template: Doc, functions: Doc) -> None:
    given = {lid for lid, props in functions.items() if "CLAIMS_HOOK" in environment(template, props)}
    assert given == {"IssueTokenFunction", "RefreshTokenFunction"}
