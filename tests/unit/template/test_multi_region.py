"""More than one region (docs/operations.md, "More than one region"): one template, three ways
to deploy it. Single-region (the default: every other test of this directory judges that view),
a primary with ReplicaRegions (replicated secrets, global tables, rotation), and a secondary
(PrimaryRegion: no secret, key, table or rotation of its own; the replicas in its region).

The conditions that tell the modes apart are evaluated here with the real parameter values
(the local stack's CloudFormation resolver), so :data:`MODES` cannot drift from the template.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from local_stack.cfn import Resolver, StackIdentity, TemplateError, load_template
from local_stack.sam import build_model, parameter_values, physical_names
from tests.unit.template.cfn import MODES, TEMPLATE, in_mode, load, walk

Doc = dict[str, Any]
TABLES = {
    "UsersTable": "users",
    "ClientsTable": "clients",
    "SessionsTable": "sessions",
    "RevocationsTable": "revocations",
}
SECRETS = {
    "SigningKeysSecret": "PrimarySigningKeysSecretArn",
    "PublicJwksSecret": "PrimaryPublicJwksSecretArn",
}
PRIMARY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:SigningKeysSecret-AbCdEf123456-x1Y2z3"
#: The parameters of each mode, deployed in us-east-1 (primary) or eu-west-1 (secondary).
DEPLOYMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "single-region": ("us-east-1", {}),
    "multi-region primary": (
        "us-east-1",
        {
            "ReplicaRegions": "eu-west-1,ap-southeast-2",
            "GlobalTablesPrefix": "auth",
            "PrimaryRegion": "us-east-1",
        },
    ),
    "multi-region secondary": (
        "eu-west-1",
        {
            "PrimaryRegion": "us-east-1",
            "GlobalTablesPrefix": "auth",
            "Issuer": "https://auth.example.com",
            "PrimarySigningKeysSecretArn": PRIMARY_ARN,
            "PrimaryPublicJwksSecretArn": PRIMARY_ARN.replace("SigningKeys", "PublicJwks"),
        },
    ),
}


def resolver(mode: str) -> Resolver:
    region, params = DEPLOYMENTS[mode]
    template = load_template(TEMPLATE)
    return Resolver(template, parameter_values(template, params), StackIdentity(region=region))


@pytest.fixture(scope="module")
def raw() -> Doc:
    return load()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_the_modes_are_what_the_conditions_evaluate_to(mode: str) -> None:
    r = resolver(mode)
    assert {name: r.condition(name) for name in MODES[mode]} == MODES[mode]


def test_replica_slots_follow_the_list() -> None:
    template = load_template(TEMPLATE)
    for regions, second, third in (
        ("eu-west-1", False, False),
        ("eu-west-1,ap-south-1", True, False),
        ("eu-west-1,ap-south-1,us-west-2", True, True),
    ):
        r = Resolver(
            template, parameter_values(template, {"ReplicaRegions": regions, "GlobalTablesPrefix": "a"})
        )
        assert (r.condition("HasSecondReplica"), r.condition("HasThirdReplica")) == (second, third)
        replicas = r.resolve(template.resources["SigningKeysSecret"]["Properties"]["ReplicaRegions"])
        assert [x["Region"] for x in replicas] == regions.split(",")


def test_replica_regions_parameter_takes_up_to_three_regions(raw: Doc) -> None:
    pattern = raw["Parameters"]["ReplicaRegions"]["AllowedPattern"]
    for ok in ("", "eu-west-1", "eu-west-1,ap-southeast-2", "eu-west-1,ap-southeast-2,us-gov-west-1"):
        assert re.fullmatch(pattern, ok), ok
    for bad in ("eu-west-1, ap-southeast-2", "a,b", "eu-west-1,eu-west-2,eu-west-3,eu-north-1", "eu-west-1,"):
        assert not re.fullmatch(pattern, bad), bad
    assert raw["Parameters"]["ReplicaRegions"]["Default"] == ""
    assert raw["Parameters"]["PrimaryRegion"]["Default"] == ""


def test_a_multi_region_stack_must_name_its_global_tables_and_its_issuer(raw: Doc) -> None:
    """Without a fixed Issuer each region's tokens carry its own API domain as "iss", and the
    other regions refuse them."""
    rule = raw["Rules"]["GlobalTablesNeedAPrefix"]
    assert [a["Assert"] for a in rule["Assertions"]] == [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "GlobalTablesPrefix"}, ""]}]},
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "Issuer"}, ""]}]},
    ]
    assert {"Ref": "ReplicaRegions"} in walk(rule["RuleCondition"])
    assert {"Ref": "PrimaryRegion"} in walk(rule["RuleCondition"])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_reference_names_a_resource_of_that_mode(raw: Doc, mode: str) -> None:
    """No mode deploys a reference to a resource it does not create (CloudFormation would refuse
    the template): every Ref, GetAtt and ${X} in a Sub left after the mode's conditions are decided."""
    doc = in_mode(raw, MODES[mode])
    names = set(doc["Resources"]) | set(doc["Parameters"])
    # SAM's generated ids: Function roles and the authorizer's alias
    names |= {f"{lid}Role" for lid, r in doc["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    dangling = set()
    for node in walk({k: doc[k] for k in ("Resources", "Outputs")}):
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((fn, arg),) = node.items()
        if fn == "Ref" and isinstance(arg, str) and not arg.startswith("AWS::"):
            target = arg.split(".", 1)[0]
        elif fn == "Fn::GetAtt":
            target = arg[0]
        elif fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for var in re.findall(r"\$\{([^}!]+)\}", text):
                head = var.split(".", 1)[0]
                if not head.startswith("AWS::") and head not in variables and head not in names:
                    dangling.add(head)
            continue
        else:
            continue
        if target not in names:
            dangling.add(target)
    # DependsOn too: a dependency on a resource that is not created fails the deployment
    for lid, res in doc["Resources"].items():
        deps = res.get("DependsOn") or []
        for dep in [deps] if isinstance(deps, str) else deps:
            if dep not in names:
                dangling.add(f"{lid} DependsOn {dep}")
    assert not dangling


def test_a_secondary_stack_creates_no_key_secret_table_or_rotation(raw: Doc) -> None:
    doc = in_mode(raw, MODES["multi-region secondary"])
    types = {r["Type"] for r in doc["Resources"].values()}
    assert not types & {
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::RotationSchedule",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::KMS::Key",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
    }
    assert "RotateKeysInvokePermission" not in doc["Resources"]  # Secrets Manager never calls it here


@pytest.mark.parametrize("mode", ["multi-region primary", "multi-region secondary"])
def test_functions_use_the_replicas_in_their_own_region(raw: Doc, mode: str) -> None:
    """Every table variable is the global table's name (its replica in the function's region);
    in a secondary region every secret variable is the primary secret's replica there."""
    r = resolver(mode)
    region = DEPLOYMENTS[mode][0]
    seen = set()
    for lid, res in raw["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        env = (res["Properties"].get("Environment") or {}).get("Variables") or {}
        for var, value in env.items():
            if var.endswith("_TABLE"):
                table = var.removesuffix("_TABLE").title() + "Table"
                assert r.resolve(value) == f"auth-{TABLES[table]}", (lid, var)
                seen.add(var)
            elif var.endswith("_SECRET_ID") and mode == "multi-region secondary":
                primary = (
                    PRIMARY_ARN
                    if var.startswith("SIGNING")
                    else PRIMARY_ARN.replace("SigningKeys", "PublicJwks")
                )
                assert r.resolve(value) == primary.replace("us-east-1", region), (lid, var)
                seen.add(var)
    assert {"USERS_TABLE", "CLIENTS_TABLE", "SESSIONS_TABLE", "REVOCATIONS_TABLE"} <= seen


@pytest.mark.parametrize("table", sorted(TABLES))
def test_global_tables_are_the_single_region_tables_replicated(raw: Doc, table: str) -> None:
    """Same keys, indexes, TTL and encryption; Retain on delete and replacement; deletion
    protection and point-in-time recovery on every replica; the local region first, then
    ReplicaRegions; streams on (global tables replicate through them)."""
    single, global_ = raw["Resources"][table], raw["Resources"][table.replace("Table", "GlobalTable")]
    assert single["Condition"] == "SingleRegion"
    assert global_["Type"] == "AWS::DynamoDB::GlobalTable" and global_["Condition"] == "CreatesGlobalTables"
    assert global_["DeletionPolicy"] == global_["UpdateReplacePolicy"] == "Retain"
    s, g = single["Properties"], global_["Properties"]
    for key in (
        "BillingMode",
        "AttributeDefinitions",
        "KeySchema",
        "TimeToLiveSpecification",
        "SSESpecification",
    ):
        assert g[key] == s[key], key
    assert g.get("GlobalSecondaryIndexes") == s.get("GlobalSecondaryIndexes")
    assert g["TableName"] == {"Fn::Sub": f"${{GlobalTablesPrefix}}-{TABLES[table]}"}
    assert g["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert s["DeletionProtectionEnabled"] is True
    r = resolver("multi-region primary")
    replicas = r.resolve(g["Replicas"])
    assert [x["Region"] for x in replicas] == ["us-east-1", "eu-west-1", "ap-southeast-2"]
    for replica in replicas:
        assert replica["DeletionProtectionEnabled"] is True
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_a_primary_replicates_the_key_secrets_without_a_name(raw: Doc, secret: str) -> None:
    """Replicas keep the primary's name, so no Name is needed (and none may be set: a Name change
    replaces the secret, and a replaced secret means fresh keys and every live token refused)."""
    res = in_mode(raw, MODES["multi-region primary"])["Resources"][secret]
    assert "Name" not in res["Properties"]
    r = resolver("multi-region primary")
    assert r.resolve(res["Properties"]["ReplicaRegions"]) == [
        {"Region": "eu-west-1"},
        {"Region": "ap-southeast-2"},
    ]
    # no KmsKeyId per replica: aws/secretsmanager in each replica region (docs/operations.md)
    single = in_mode(raw, MODES["single-region"])["Resources"][secret]
    assert "ReplicaRegions" not in single["Properties"]


def test_rotation_runs_in_the_primary_region_only(raw: Doc) -> None:
    """In a secondary region the rotation function writes nothing: the schedule and the invoke
    permission are the primary's only (tests/unit/template/test_iam_expanded.py checks the
    function's grants there: describe the replicas, nothing else)."""
    schedule = raw["Resources"]["SigningKeysRotationSchedule"]
    assert schedule["Condition"] == "OwnsKeys"
    assert raw["Resources"]["RotateKeysInvokePermission"]["Condition"] == "OwnsKeys"
    assert raw["Conditions"]["OwnsKeys"] == {"Fn::Not": [{"Condition": "IsSecondaryRegion"}]}
    assert "SigningKeysRotationSchedule" in in_mode(raw, MODES["multi-region primary"])["Resources"]


def test_secondary_signers_are_let_in_by_the_replicated_resource_policy(raw: Doc) -> None:
    """The signing secret's resource policy is replicated with it: the secondary stacks' /token
    and /refresh roles (their SignerRoleArns output) must be in it to read the replica."""
    policy = raw["Resources"]["SigningKeysSecretPolicy"]
    assert policy["Condition"] == "OwnsKeys"
    read, write = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert {
        "Fn::If": ["HasReplicaSigners", {"Ref": "ReplicaSignerRoleArns"}, {"Ref": "AWS::NoValue"}]
    } in list(walk(read))
    # exempted from the read Deny only: a secondary's signer cannot write the keys
    assert {"Ref": "ReplicaSignerRoleArns"} not in list(walk(write))
    output = raw["Outputs"]["SignerRoleArns"]["Value"]
    assert output == {
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": ["IssueTokenFunctionRole", "Arn"]},
                {"Fn::GetAtt": ["RefreshTokenFunctionRole", "Arn"]},
            ],
        ]
    }


def test_the_local_stack_runs_one_region_and_says_so() -> None:
    """The local stack emulates the single-region mode (the tables, secrets and rotation it
    creates follow the resources' conditions) and refuses a multi-region primary in one clear
    line: moto has no global tables."""
    single = resolver("single-region")
    single.refs.update(physical_names(single.template, single.identity, single))
    model = build_model(single.template, single)
    assert set(model.tables) == set(TABLES)
    assert set(model.secrets) == set(SECRETS)
    assert [r.logical_id for r in model.rotations] == ["SigningKeysRotationSchedule"]
    primary = resolver("multi-region primary")
    primary.refs.update(physical_names(primary.template, primary.identity, primary))
    with pytest.raises(
        TemplateError, match="global tables are not emulated: the local stack runs one region"
    ):
        build_model(primary.template, primary)


def test_a_primary_alarms_when_revocations_replicate_slowly(raw: Doc) -> None:
    """The cross-region revocation bound is replication lag + RevocationFeedInterval: the
    primary watches the lag of the revocations table to every replica region."""
    assert "RevocationReplicationLagAlarm" not in in_mode(raw, MODES["single-region"])["Resources"]
    alarm = in_mode(raw, MODES["multi-region primary"])["Resources"]["RevocationReplicationLagAlarm"]
    assert alarm["Condition"] == "MultiRegion"
    r = resolver("multi-region primary")
    props = r.resolve(alarm["Properties"])
    queries = {m["Id"]: m for m in props["Metrics"]}
    assert queries["lag"]["Expression"] == "MAX([r1, r2])" and queries["lag"]["ReturnData"] is True
    watched = []
    for qid in ("r1", "r2"):
        metric = queries[qid]["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/DynamoDB", "ReplicationLatency")
        dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dims["TableName"] == "auth-revocations"
        watched.append(dims["ReceivingRegion"])
    assert watched == ["eu-west-1", "ap-southeast-2"]
    assert props["Threshold"] == 5000 and props["TreatMissingData"] == "notBreaching"
    assert alarm["Properties"]["AlarmActions"] == {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize(
    ("mode", "seconds"),
    [("single-region", 30), ("multi-region primary", 300), ("multi-region secondary", 300)],
)
def test_the_feed_re_reads_further_back_in_more_than_one_region(mode: str, seconds: int) -> None:
    """A replicated revocation keeps its writer's timestamp: the feed's overlap must exceed
    the replication lag it tolerates (tests/functional/regions/test_feed_lag.py)."""
    r = resolver(mode)
    env = r.resolve(r.template.doc["Globals"]["Function"]["Environment"]["Variables"])
    assert int(env["REVOCATION_FEED_OVERLAP"]) == seconds


@pytest.mark.parametrize("mode", sorted(DEPLOYMENTS))
def test_every_select_resolves_even_in_the_branch_not_taken(raw: Doc, mode: str) -> None:
    """CloudFormation may evaluate both branches of an Fn::If: a ``!Select [6, !Split]`` of an
    ARN parameter left empty (every single-region stack) must not fail. Padded like
    ReplicaRegions, every Select resolves in every mode."""
    r = resolver(mode)
    selects = [
        node
        for node in walk({k: raw[k] for k in ("Conditions", "Resources", "Outputs")})
        if isinstance(node, dict) and set(node) == {"Fn::Select"}
    ]
    assert len(selects) > 20
    for node in selects:
        r.resolve(node)  # an IndexError here: a deploy-time failure


def _rule_holds(mode: str, rule: str, **params: str) -> bool:
    region, base = DEPLOYMENTS[mode]
    template = load_template(TEMPLATE)
    r = Resolver(template, parameter_values(template, {**base, **params}), StackIdentity(region=region))
    found = template.doc["Rules"][rule]
    if not r._truth(found["RuleCondition"]):
        return True
    return all(r._truth(a["Assert"]) for a in found["Assertions"])


def test_a_secondary_stack_needs_both_primary_secret_arns() -> None:
    rule = "SecondaryRegionNeedsThePrimarySecrets"
    assert _rule_holds("multi-region secondary", rule)
    assert not _rule_holds("multi-region secondary", rule, PrimarySigningKeysSecretArn="")
    assert not _rule_holds("multi-region secondary", rule, PrimaryPublicJwksSecretArn="")
    assert _rule_holds("single-region", rule)
    assert _rule_holds("multi-region primary", rule)  # PrimaryRegion is its own region


def test_the_deploy_role_may_replicate_the_signing_secret_but_not_read_it(raw: Doc) -> None:
    """Replicating a secret under a customer-managed key needs kms:Decrypt for the caller. The
    deploy role (SecretReplicationRoleArns) gets exactly that, through Secrets Manager, from the
    key policy, and is not exempted from the secret policy's Deny (KeyAdminRoleArns would be:
    it could read the private keys)."""
    assert raw["Conditions"]["HasSecretReplicators"]["Fn::And"][1:] == [
        {"Condition": "CreateSigningKeysKey"},
        {"Condition": "ReplicatesKeys"},
    ]
    statements = raw["Resources"]["SigningKeysKey"]["Properties"]["KeyPolicy"]["Statement"]
    (grant,) = [s["Fn::If"] for s in statements if "Fn::If" in s and s["Fn::If"][0] == "HasSecretReplicators"]
    _, statement, otherwise = grant
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Principal"] == {"AWS": {"Fn::Split": [",", {"Ref": "SecretReplicationRoleArns"}]}}
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
    }
    secret_policy = raw["Resources"]["SigningKeysSecretPolicy"]["Properties"]
    assert "SecretReplicationRoleArns" not in str(secret_policy)
    assert "SecretReplicationRoleArns" not in str(
        [r for r in raw["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    )


def test_a_secondary_alarms_when_its_revocations_replicate_slowly_to_the_primary(raw: Doc) -> None:
    """A revocation made in a secondary (its /revoke, a logout there) replicates from it: the
    metric lives in the secondary's region, with the primary as the receiving region."""
    alarm = in_mode(raw, MODES["multi-region secondary"])["Resources"]["RevocationReplicationLagAlarm"]
    r = resolver("multi-region secondary")
    props = r.resolve(alarm["Properties"])
    queries = {m["Id"]: m for m in props["Metrics"]}
    assert set(queries) == {"lag", "r1"} and queries["lag"]["Expression"] == "MAX([r1])"
    metric = queries["r1"]["MetricStat"]["Metric"]
    dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
    assert dims == {"TableName": "auth-revocations", "ReceivingRegion": "us-east-1"}
    assert props["Threshold"] == 5000
