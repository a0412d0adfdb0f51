"""Least privilege on the *expanded* template: what each function's role really grants.

``test_template.py`` reads ``Policies`` as written. This test expands ``template.yaml`` with
``aws-sam-translator`` (the library behind ``sam build``/CloudFormation's SAM transform; a
pinned dev dependency), so policy templates (``DynamoDBCrudPolicy``...) are judged by the
actions they really expand to, then compares every function role's effective
``(action, resource, dynamodb:LeadingKeys)`` triples with the allowlist below: exactly these,
nothing more. The allowlist is what the code calls (``auth_core/stores/*.py``), per function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from tests.unit.template.cfn import MODES, TEMPLATE, in_mode

samtranslator = pytest.importorskip("samtranslator", reason="aws-sam-translator is in requirements-dev.txt")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

#: (action, resource logical id [+ "/index/Name"], leading-key patterns or None)
Grant = tuple[str, str, tuple[str, ...] | None]

SIGNING, PUBLIC_JWKS = "SigningKeysSecret", "PublicJwksSecret"
USERS, CLIENTS, SESSIONS, REVOCATIONS = "UsersTable", "ClientsTable", "SessionsTable", "RevocationsTable"
FEED = "RevocationsTable/index/Feed"
BY_SUBJECT, BY_USER_ID = "SessionsTable/index/BySubject", "UsersTable/index/ByUserId"
GET, PUT = "dynamodb:GetItem", "dynamodb:PutItem"
UPDATE, DELETE = "dynamodb:UpdateItem", "dynamodb:DeleteItem"
CHECK, QUERY, BATCH_GET = "dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:BatchGetItem"
SECRET_GET = "secretsmanager:GetSecretValue"
#: the signing secret's customer-managed key (or SigningKeysKmsKeyArn), used only through Secrets Manager
KEY, VIA_SECRETS_MANAGER = "SigningKeysKey", ("kms:ViaService=secretsmanager",)
KMS_DECRYPT, KMS_GENERATE = "kms:Decrypt", "kms:GenerateDataKey"

#: /token and /refresh run the same token service (grants.py, refresh.py).
TOKEN_SERVICE: set[Grant] = {
    (SECRET_GET, SIGNING, None),
    (KMS_DECRYPT, KEY, VIA_SECRETS_MANAGER),
    # UserStore.get; set_password_hash (rehash on login), ensure_user_id; unchanged() (the session check)
    (GET, USERS, None),
    (UPDATE, USERS, None),
    (CHECK, USERS, None),
    # ClientStore.get/get_fresh; unchanged() in every session transaction
    (GET, CLIENTS, None),
    (CHECK, CLIENTS, None),
    # SessionStore get_token/get_family, create (Put), rotate (Put+Update), drop_grace and
    # revoke_family (Update); the login throttle shares the table (Get/Put/Update/Delete)
    (GET, SESSIONS, None),
    (PUT, SESSIONS, None),
    (UPDATE, SESSIONS, None),
    (DELETE, SESSIONS, None),
    # reuse detection deny-lists the family's access tokens; the all# cut-off check; the feed
    (PUT, REVOCATIONS, ("jti#*", "sid#*")),
    (CHECK, REVOCATIONS, ("all#",)),
    (QUERY, FEED, None),
}
#: /refresh runs only the refresh grant: it never writes a user (no login: no rehash, no
#: user_id) and never deletes a sessions item (no login throttle).
REFRESH_SERVICE: set[Grant] = TOKEN_SERVICE - {(UPDATE, USERS, None), (DELETE, SESSIONS, None)}
ALLOWLIST: dict[str, set[Grant]] = {
    "IssueTokenFunction": TOKEN_SERVICE,
    "RefreshTokenFunction": REFRESH_SERVICE,
    # RevocationService.revoke: client auth, rt#/fam# reads, then SessionRevoker.revoke_family
    # (one transaction, the fam# Update with the sid#/jti# Puts) or revoke_jti. Never users.
    "RevokeTokenFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (GET, CLIENTS, None),
        (GET, SESSIONS, ("rt#*", "fam#*")),
        (UPDATE, SESSIONS, ("fam#*",)),
        (PUT, REVOCATIONS, ("jti#*", "sid#*")),
    },
    # RFC 7662, read-only: point reads (facts() is one BatchGetItem; global_cutoff_ms a GetItem)
    "IntrospectTokenFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (GET, CLIENTS, None),
        (GET, SESSIONS, ("rt#*", "fam#*")),
        (GET, USERS, None),
        (GET, REVOCATIONS, None),
        (BATCH_GET, REVOCATIONS, None),
    },
    # The feed; with AuthorizerDpop not off (a condition: counted as granted), each DPoP proof's
    # replay record (stores/dpop.py: one conditional PutItem, dpop# keys only).
    "AuthorizerFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (QUERY, FEED, None),
        (PUT, SESSIONS, ("dpop#*",)),
    },
    "JwksFunction": {(SECRET_GET, PUBLIC_JWKS, None)},
    "RotateKeysFunction": {
        *(
            (action, secret, None)
            for secret in (SIGNING, PUBLIC_JWKS)
            for action in (
                "secretsmanager:DescribeSecret",
                SECRET_GET,
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            )
        ),
        (KMS_DECRYPT, KEY, VIA_SECRETS_MANAGER),
        (KMS_GENERATE, KEY, VIA_SECRETS_MANAGER),
        (PUT, REVOCATIONS, ("kid#*",)),
    },
    "MeFunction": set(),
    # The hosted pages (issue 13): sign-in reads the user and may update it (rehash on login, the
    # one-time user_id), never creates or deletes one; the client; in the sessions table only the
    # item kinds the pages touch (SSO sessions sso#/ssoend#, codes code#, pushed requests par#,
    # consents consent#, the login throttle throttle#, and at logout the families fam#); logout
    # finds a user's families on BySubject and deny-lists their access tokens (jti#/sid# Puts);
    # current_session reads the all# cut-off; the public JWKS (id_token_hint). Never the signing
    # secret, never the revocation feed (nothing of the pages queries it).
    # tests/functional/oauth/test_hosted_iam.py runs the flows and checks each call against this.
    "AuthorizeFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (GET, USERS, None),
        (UPDATE, USERS, None),
        (GET, CLIENTS, None),
        (GET, SESSIONS, ("sso#*", "par#*", "consent#*", "throttle#*", "fam#*", "mfa#*")),
        (
            PUT,
            SESSIONS,
            ("sso#*", "ssoend#*", "code#*", "par#*", "consent#*", "throttle#*", "mfa#*", "dpop#*"),
        ),  # dpop#: /par proofs (RFC 9449 §10.1)
        (UPDATE, SESSIONS, ("sso#*", "par#*", "throttle#*", "fam#*", "mfa#*")),
        (DELETE, SESSIONS, ("throttle#*",)),
        (QUERY, BY_SUBJECT, None),
        (GET, REVOCATIONS, ("all#",)),
        (PUT, REVOCATIONS, ("jti#*", "sid#*")),
    },
    # OpenID Connect UserInfo: verifies like the authorizer (public JWKS, the feed); sub -> username
    # on the keys-only ByUserId index, or one GetItem for a legacy subject. Writes nothing.
    "UserinfoFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (QUERY, FEED, None),
        (QUERY, BY_USER_ID, None),
        (GET, USERS, None),
        (PUT, SESSIONS, ("dpop#*",)),  # DPoP proofs' replay records (RFC 9449 §7)
    },
    # Self-service accounts. Users: read; created only by the sign-up transaction (Put,
    # conditional on a free username); updated by a reset or change (the new hash with the end
    # of sessions) and the change's password check (rehash, user_id). Sessions table by kind:
    # pending sign-ups and resets, verified-email claims, the throttles, and the families a
    # reset ends. Revocations: the families' sid#/jti# (Put) and the user's sub# cut-off
    # (Update, forward only). The bearer check of a change reads the public JWKS and the feed;
    # the change-password page reads the SSO session (sso#) and the global cut-off (all#).
    # tests/functional/oauth/test_hosted_iam.py runs the flows and checks each call against this.
    "AccountFunction": {
        (SECRET_GET, PUBLIC_JWKS, None),
        (GET, USERS, None),
        (PUT, USERS, None),
        (UPDATE, USERS, None),
        (QUERY, BY_USER_ID, None),
        (GET, CLIENTS, None),
        (GET, SESSIONS, ("email#*", "throttle#*", "fam#*", "sso#*")),
        (PUT, SESSIONS, ("signup#*", "reset#*", "email#*", "throttle#*")),
        (DELETE, SESSIONS, ("signup#*", "reset#*", "email#*", "throttle#*")),
        (UPDATE, SESSIONS, ("signup#*", "reset#*", "throttle#*", "fam#*")),
        (QUERY, BY_SUBJECT, None),
        (PUT, REVOCATIONS, ("sid#*", "jti#*")),
        (UPDATE, REVOCATIONS, ("sub#*",)),
        (GET, REVOCATIONS, ("all#",)),
        (QUERY, FEED, None),
        ("ses:SendEmail", "ses:identity/MailIdentity", None),
        ("ses:SendEmail", "ses:configuration-set/MailConfigurationSet", None),
    },
}
#: Functions behind a route without the Lambda authorizer: anyone on the Internet can call them.
PUBLIC_FUNCTIONS = {
    "IssueTokenFunction",
    "RefreshTokenFunction",
    "RevokeTokenFunction",
    "IntrospectTokenFunction",
    "JwksFunction",
    "AuthorizeFunction",
    "UserinfoFunction",
    "AccountFunction",
}
#: Public functions that may update (never create or delete) a user: sign-in's rehash and user_id.
USER_UPDATERS = {"IssueTokenFunction", "AuthorizeFunction"}
#: ...and the one that may also create one: sign-up, after the email's code came back, in a
#: transaction conditional on a free username and an unclaimed address (never a delete).
USER_CREATORS = {"AccountFunction"}
#: Public functions that may move a user's sub# cut-off (forward only: a conditional update).
CUTOFF_MOVERS = {"AccountFunction"}
WRITES = {PUT, UPDATE, DELETE, "dynamodb:BatchWriteItem"}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
#: SAM attaches it whenever Tracing is set, even to PassThrough (TracingEnabled=false): segment
#: writes only (xray:PutTraceSegments/PutTelemetryRecords/Get*Sampling*), no data access.
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
#: the signing secret's key: the customer-managed key the stack creates, or the one brought in
KEY_ARN = {"Fn::If": ["CreateSigningKeysKey", {"Fn::GetAtt": [KEY, "Arn"]}, {"Ref": "SigningKeysKmsKeyArn"}]}
_DDB_ARN = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
#: More than one region: a global table's replica in the function's region, by name (the same
#: logical table as the single-region one), and a secret's replica in a secondary region.
_GLOBAL_TABLES = {
    f"${{GlobalTablesPrefix}}-{t.lower()}": f"{t}Table"
    for t in ("Users", "Clients", "Sessions", "Revocations")
}
_SECRET_REPLICA_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Name}"
_PRIMARY_SECRET = {"PrimarySigningKeysSecretArn": SIGNING, "PrimaryPublicJwksSecretArn": PUBLIC_JWKS}
_SES_ARN = r"arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(.+)"


def expand(text: str) -> dict[str, Any]:
    """``template.yaml`` through the SAM transform, as CloudFormation would run it."""
    document = yaml_parse(text)
    for lid, resource in document["Resources"].items():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if key in props:  # what `sam package` puts there
                props[key] = f"s3://artifacts/{lid}"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(document, {}, NoManagedPolicies())


@pytest.fixture(scope="module")
def expanded(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    return expand(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the transform's pseudo parameters
        yield mp


def _name(value: Any) -> str:
    """A policy resource as a logical id (``Table`` or ``Table/index/Name``); unknown forms fail."""
    if value == "*":
        return "*"
    if value == KEY_ARN:
        return KEY
    if isinstance(value, Mapping) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and isinstance(arg, str):
            return arg
        if fn == "Fn::GetAtt" and isinstance(arg, list) and arg[1:] == ["Arn"]:
            return str(arg[0])
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            if text == _SECRET_REPLICA_ARN and set(variables) == {"Name"}:
                # !Select [6, !Split [":", !Sub "${Primary...SecretArn}::::::"]]: the primary
                # secret's name (padded: an empty parameter must not fail the Select)
                padded = variables["Name"]["Fn::Select"][1]["Fn::Split"][1]["Fn::Sub"]
                source = re.fullmatch(r"\$\{(\w+)\}::::::", padded)
                assert source is not None, padded
                return _PRIMARY_SECRET[source[1]]
            text = re.sub(r"\$\{(\w+)\.Arn\}", r"\1", text)
            text = re.sub(
                r"\$\{(\w+)\}", lambda m: _name(variables[m[1]]) if m[1] in variables else m[0], text
            )
            text = text.removeprefix(_DDB_ARN)
            for global_name, logical_id in _GLOBAL_TABLES.items():
                if text == global_name or text.startswith(global_name + "/"):
                    text = logical_id + text.removeprefix(global_name)
            ses = re.fullmatch(_SES_ARN, text)
            if ses:  # an SES identity or configuration set, named by a template parameter
                return "ses:" + re.sub(r"\$\{(\w+)\}", r"\1", ses[1])
            if "${" not in text:
                return text
    pytest.fail(f"policy resource {value!r} is not understood by this test: extend it deliberately")


def _leading_keys(condition: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    if not condition:
        return None
    assert len(condition) == 1, f"unexpected condition {condition!r}"
    via = {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
    if condition == {"StringEquals": {"kms:ViaService": via}}:
        return VIA_SECRETS_MANAGER
    ((operator, body),) = condition.items()
    assert operator in {"ForAllValues:StringLike", "ForAllValues:StringEquals"}, operator
    assert set(body) == {"dynamodb:LeadingKeys"}, body
    return tuple(body["dynamodb:LeadingKeys"])


def _unconditional(policies: list[Any]) -> list[Any]:
    """Every policy a role may get: both branches of a template condition (``Fn::If``) count."""
    out: list[Any] = []
    for policy in policies:
        if isinstance(policy, Mapping) and set(policy) == {"Fn::If"}:
            _condition, *branches = policy["Fn::If"]
            out += [b for b in branches if b != {"Ref": "AWS::NoValue"}]
        else:
            out.append(policy)
    return out


def _branches(resource: Any) -> list[Any]:
    """A statement's resources, both branches of an ``!If`` included (either may be deployed);
    the signing secret's KMS key is one resource whichever branch names it (:data:`KEY_ARN`)."""
    if resource == KEY_ARN:
        return [resource]
    if isinstance(resource, Mapping) and "Fn::If" in resource:
        _condition, yes, no = resource["Fn::If"]
        return _branches(yes) + _branches(no)
    return list(resource) if isinstance(resource, list) else [resource]


def grants(role: Mapping[str, Any], mode: Mapping[str, bool] = MODES["single-region"]) -> set[Grant]:
    out: set[Grant] = set()
    role = in_mode(role, mode)
    for policy in _unconditional(role["Properties"].get("Policies") or []):
        statements = policy["PolicyDocument"]["Statement"]
        for st in [statements] if isinstance(statements, Mapping) else statements:
            assert st["Effect"] == "Allow", st
            assert "NotAction" not in st and "NotResource" not in st, st
            actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            resources = _branches(st["Resource"])
            keys = _leading_keys(st.get("Condition"))
            out |= {(a, _name(r), keys) for a in actions for r in resources}
    return out


def _roles(expanded: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each function's role, with the stand-alone ``AWS::IAM::Policy`` resources attached to it
    (the signing secret's: the key policy names the role, so the role cannot name the secret)
    folded into its ``Policies``."""
    resources = expanded["Resources"]
    attached: dict[str, list[Any]] = {}
    for res in resources.values():
        if res["Type"] == "AWS::IAM::Policy":
            for role in res["Properties"]["Roles"]:
                attached.setdefault(role["Ref"], []).append(res["Properties"])
    out = {}
    for lid, res in resources.items():
        if res["Type"] == "AWS::Lambda::Function" and lid in ALLOWLIST:
            role = res["Properties"]["Role"]
            assert role == {"Fn::GetAtt": [f"{lid}Role", "Arn"]}, f"{lid}: role must come from SAM"
            merged = dict(resources[f"{lid}Role"])
            props = dict(merged["Properties"])
            props["Policies"] = [*(props.get("Policies") or []), *attached.pop(f"{lid}Role", [])]
            merged["Properties"] = props
            out[lid] = merged
    assert not attached, f"policies attached to roles that are no function's: {sorted(attached)}"
    return out


def test_every_function_has_an_allowlist(expanded: dict[str, Any]) -> None:
    functions = {lid for lid, r in expanded["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert functions == set(ALLOWLIST)


def allowlist(function: str, mode: str) -> set[Grant]:
    """The allowlist in ``mode``: the same grants in every region (on the tables' and secrets'
    replicas there), except that a secondary region's signing secret is a replica encrypted with
    aws/secretsmanager, so no role there is granted the primary's customer-managed key."""
    if mode == "multi-region secondary":
        if function == "RotateKeysFunction":
            # no rotation in a secondary region: describe the replicas, write nothing (neither
            # the replicated secrets nor the global revocations table, replicated everywhere)
            return {
                ("secretsmanager:DescribeSecret", SIGNING, None),
                ("secretsmanager:DescribeSecret", PUBLIC_JWKS, None),
            }
        return {g for g in ALLOWLIST[function] if g[1] != KEY}
    return ALLOWLIST[function]


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("function", sorted(ALLOWLIST))
def test_effective_grants_are_exactly_the_allowlist(
    expanded: dict[str, Any], function: str, mode: str
) -> None:
    role = _roles(in_mode(expanded, MODES[mode]))[function]  # the policies that mode deploys
    got = grants(role, MODES[mode])
    want = allowlist(function, mode)
    assert not {g for g in got if "*" in g[0] or g[1] == "*"}, "wildcard action or resource"
    assert got == want, (
        f"{function} ({mode}): extra {sorted(got - want, key=str)}, missing {sorted(want - got, key=str)}"
    )
    assert role["Properties"]["ManagedPolicyArns"] == [BASIC_EXECUTION, XRAY_WRITE]


@pytest.mark.parametrize("function", sorted(PUBLIC_FUNCTIONS))
def test_public_functions_cannot_write_users_or_delete_deny_list_entries(
    expanded: dict[str, Any], function: str
) -> None:
    got = grants(_roles(expanded)[function])
    # No account can be created or deleted from the Internet. The token service may only
    # UpdateItem a user (rehash on login, the one-time user_id); nobody else writes users.
    allowed = {UPDATE} if function in USER_UPDATERS else set()
    allowed |= {PUT, UPDATE} if function in USER_CREATORS else set()
    user_writes = {g for g in got if g[1] == USERS and g[0] in WRITES - allowed}
    assert not user_writes, f"{function} can write users: {user_writes}"
    moved = {(UPDATE, REVOCATIONS, ("sub#*",))} if function in CUTOFF_MOVERS else set()
    assert (
        not {g for g in got if g[1] == REVOCATIONS and g[0] in {DELETE, UPDATE, "dynamodb:BatchWriteItem"}}
        - moved
    )
    assert not {g for g in got if g[0] in {"dynamodb:Scan", "dynamodb:BatchWriteItem"}}


def test_the_revocation_endpoint_never_touches_users(expanded: dict[str, Any]) -> None:
    got = grants(_roles(expanded)["RevokeTokenFunction"])
    assert not {g for g in got if g[1] == USERS}


def test_expanded_authorizer_uses_iam_policy_responses(expanded: dict[str, Any]) -> None:
    """The HTTP API as deployed: payload 2.0, IAM-policy answers (so a bad token can be a 401),
    the Authorization header as the only identity source."""
    body = expanded["Resources"]["HttpApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["JwtLambdaAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0"
    assert authorizer.get("enableSimpleResponses", False) is False  # SAM omits false
    assert authorizer["identitySource"] == ["$request.header.Authorization"]
