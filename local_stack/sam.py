"""What the SAM template declares, as plain data: functions, HTTP routes, authorizers, tables, secrets.

This is the one module that knows SAM's resource shapes (``AWS::Serverless::Function`` and its
``HttpApi`` events, ``AWS::Serverless::HttpApi`` authorizers, ``Globals``). Everything else in the
local stack works from the dataclasses below, so a template change (a new function, route, table
or secret) needs no change here.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.cfn import Resolver, StackIdentity, Template, TemplateError

__all__ = [
    "AppModel",
    "AuthorizerSpec",
    "FunctionSpec",
    "HttpApiSpec",
    "RotationSpec",
    "RouteSpec",
    "SecretSpec",
    "TableSpec",
    "build_model",
    "parameter_values",
]

FUNCTION_TYPES = ("AWS::Serverless::Function",)
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
SECRET_TYPE = "AWS::SecretsManager::Secret"
ROTATION_TYPE = "AWS::SecretsManager::RotationSchedule"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: where its code is and how it is configured (environment unresolved)."""

    logical_id: str
    name: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: Mapping[str, Any]
    layer_dirs: tuple[Path, ...]

    def matches(self, name: str) -> bool:
        """``name`` is this function's logical id, physical name or code directory name."""
        return name in {self.logical_id, self.name, self.code_dir.name}


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda authorizer of an HTTP API (payload 2.0 or 1.0, simple or IAM-policy responses)."""

    name: str
    function: str
    payload_version: str
    simple_responses: bool
    identity_sources: tuple[str, ...]
    ttl: int
    kind: str = "lambda"


@dataclass(frozen=True)
class RouteSpec:
    """``METHOD /path`` (or ``$default``) → function, with its authorization."""

    method: str
    path: str
    function: str
    api: str
    authorizer: str | None
    scopes: tuple[str, ...] = ()
    payload_version: str = "2.0"

    @property
    def route_key(self) -> str:
        if self.path == "$default":
            return "$default"
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Sort key: exact paths before ``{param}`` paths before ``{proxy+}``; ``ANY`` last."""
        greedy = self.path.count("+}")
        params = self.path.count("{")
        return (greedy, params, 1 if self.method == "ANY" else 0)


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    api_id: str
    stage: str
    authorizers: Mapping[str, AuthorizerSpec]
    default_authorizer: str | None
    #: ``CorsConfiguration`` (AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders, MaxAge,
    #: AllowCredentials), or ``None`` when the API has none
    cors: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    create_args: Mapping[str, Any]
    ttl_attribute: str | None
    pitr: bool


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    secret_string: str | None
    generate: Mapping[str, Any] | None
    description: str


@dataclass(frozen=True)
class RotationSpec:
    logical_id: str
    secret: str
    function: str
    rules: Mapping[str, Any]


@dataclass
class AppModel:
    """Everything the local stack emulates, read from one template."""

    template: Template
    resolver: Resolver
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    apis: dict[str, HttpApiSpec] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    tables: dict[str, TableSpec] = field(default_factory=dict)
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    rotations: list[RotationSpec] = field(default_factory=list)

    def function(self, name: str) -> FunctionSpec:
        """Find a function by logical id, physical name or code directory name.

        :raises TemplateError: no such function.
        """
        for spec in self.functions.values():
            if spec.matches(name):
                return spec
        known = ", ".join(sorted(self.functions))
        raise TemplateError(f"no function {name!r} in the template (known: {known})")

    def authorizer(self, route: RouteSpec) -> AuthorizerSpec | None:
        if route.authorizer is None:
            return None
        return self.apis[route.api].authorizers[route.authorizer]


def parameter_values(template: Template, overrides: Mapping[str, str]) -> dict[str, str]:
    """Template parameter defaults with ``overrides`` applied (``--param Name=Value``).

    :raises TemplateError: unknown parameter, a value outside ``AllowedValues``, or no value at all.
    """
    declared = template.parameters
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            default = spec["Default"]
            value = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        else:
            raise TemplateError(f"template parameter {name} has no Default: pass --param {name}=...")
        allowed = spec.get("AllowedValues")
        if allowed and value not in [str(a) for a in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


# ----------------------------------------------------------------------------- helpers
def _created(resource: Mapping[str, Any], resolver: Resolver) -> bool:
    """Whether CloudFormation would create ``resource``: no ``Condition``, or a true one."""
    return "Condition" not in resource or resolver.condition(resource["Condition"])


def _merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM ``Globals`` semantics: maps merge (resource wins), lists concatenate, scalars override."""
    out: dict[str, Any] = copy.deepcopy(dict(global_props))
    for key, value in props.items():
        base = out.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            out[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            out[key] = base + list(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _logical_target(value: Any) -> str:
    """The logical id behind ``!Ref X``, ``!GetAtt X.Arn`` or ``!Sub ${X.Arn}``."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            # SAM's ``!Ref Function.Alias`` / ``.Version`` still designate the function.
            return arg.removesuffix(".Alias").removesuffix(".Version")
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return str(parts[0])
        if key == "Fn::Sub" and isinstance(arg, str):
            match = re.fullmatch(r"\$\{([A-Za-z0-9]+)(\.Arn)?\}", arg)
            if match:
                return match.group(1)
    raise TemplateError(f"expected a reference to a resource in the template, got {value!r}")


def _api_id(logical_id: str) -> str:
    """A stable, API-Gateway-looking id (10 lower-case alphanumerics) for a local HTTP API."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


def _layer_dir(base: Path, content_uri: str) -> Path:
    root = (base / content_uri).resolve()
    # A pre-built layer has python/ inside; a SAM-built one (BuildMethod) is the source itself.
    return root / "python" if (root / "python").is_dir() else root


def _identity_sources(identity: Mapping[str, Any]) -> tuple[str, ...]:
    sources: list[str] = []
    sources += [f"$request.header.{h}" for h in identity.get("Headers") or ()]
    sources += [f"$request.querystring.{q}" for q in identity.get("QueryStrings") or ()]
    sources += [f"$context.{c}" for c in identity.get("Context") or ()]
    sources += [f"$stageVariables.{s}" for s in identity.get("StageVariables") or ()]
    return tuple(sources)


# ----------------------------------------------------------------------------- the model
def physical_names(template: Template, identity: StackIdentity, resolver: Resolver) -> dict[str, str]:
    """``Ref`` values of every resource whose value is known before anything is created.

    Secrets are left out: their ``Ref`` is an ARN with a random suffix that moto assigns.
    """
    stack = identity.stack_name
    refs: dict[str, str] = {}
    name_props = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::Serverless::SimpleTable": "TableName",
        "AWS::Serverless::Function": "FunctionName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::IAM::Role": "RoleName",
    }
    for lid, res in template.resources.items():
        rtype = res.get("Type", "")
        props = res.get("Properties") or {}
        if rtype == SECRET_TYPE:
            continue
        if rtype in (HTTP_API_TYPE, "AWS::ApiGatewayV2::Api"):
            refs[lid] = _api_id(lid)
            continue
        if rtype in LAYER_TYPES:
            name = resolver.resolve_str(props.get("LayerName", f"{stack}-{lid}"))
            refs[lid] = f"arn:aws:lambda:{identity.region}:{identity.account_id}:layer:{name}:1"
            continue
        prop = name_props.get(rtype)
        if prop and prop in props:
            refs[lid] = resolver.resolve_str(props[prop])
        else:
            refs[lid] = f"{stack}-{lid}"
        if rtype in FUNCTION_TYPES:
            arn = f"arn:aws:lambda:{identity.region}:{identity.account_id}:function:{refs[lid]}"
            refs.setdefault(f"{lid}Role", f"{stack}-{lid}Role")
            refs[f"{lid}.Version"] = f"{arn}:1"
            alias = props.get("AutoPublishAlias")
            if alias:
                refs[f"{lid}.Alias"] = f"{arn}:{resolver.resolve_str(alias)}"
    refs.setdefault(IMPLICIT_HTTP_API, _api_id(IMPLICIT_HTTP_API))
    return refs


def _logging_variables(logging_config: Mapping[str, Any]) -> dict[str, Any]:
    """What Lambda sets from a function's ``LoggingConfig`` (its advanced logging controls):
    ``AWS_LAMBDA_LOG_FORMAT``, and ``AWS_LAMBDA_LOG_LEVEL`` from ``ApplicationLogLevel`` (JSON
    format only), which Powertools and the authorizer's line writer honour."""
    variables: dict[str, Any] = {}
    log_format = logging_config.get("LogFormat")
    if log_format is not None:
        variables["AWS_LAMBDA_LOG_FORMAT"] = log_format
    level = logging_config.get("ApplicationLogLevel")
    if level is not None and log_format == "JSON":
        variables["AWS_LAMBDA_LOG_LEVEL"] = level
    return variables


def build_model(template: Template, resolver: Resolver) -> AppModel:
    """Read functions, APIs, routes, tables, secrets and rotation schedules from ``template``.

    ``resolver.refs`` must hold :func:`physical_names` already.

    :raises TemplateError: something the local stack cannot emulate.
    """
    model = AppModel(template=template, resolver=resolver)
    base = template.base_dir
    for lid, res in template.of_type("AWS::DynamoDB::GlobalTable").items():
        if _created(res, resolver):
            raise TemplateError(
                f"{lid}: DynamoDB global tables are not emulated: the local stack runs one region "
                "(leave ReplicaRegions and PrimaryRegion empty)"
            )
    _read_apis(model)
    fn_globals = template.globals.get("Function") or {}
    for lid, res in template.of_type(*FUNCTION_TYPES).items():
        if not _created(res, resolver):
            continue
        props = _merge_globals(fn_globals, res.get("Properties") or {})
        code_uri = resolver.resolve(props.get("CodeUri", "."))
        if not isinstance(code_uri, str):
            raise TemplateError(f"{lid}: CodeUri must be a local path for the local stack")
        layer_dirs = []
        for layer in props.get("Layers") or ():
            target = _logical_target(layer)
            layer_res = template.resources.get(target)
            if layer_res is None or layer_res.get("Type") not in LAYER_TYPES:
                raise TemplateError(f"{lid}: layer {layer!r} is not a layer of this template")
            content = resolver.resolve((layer_res.get("Properties") or {}).get("ContentUri", "."))
            layer_dirs.append(_layer_dir(base, str(content)))
        env = {
            **(((props.get("Environment") or {}).get("Variables")) or {}),
            **_logging_variables(props.get("LoggingConfig") or {}),
        }
        model.functions[lid] = FunctionSpec(
            logical_id=lid,
            name=resolver.refs[lid],
            code_dir=(base / code_uri).resolve(),
            handler=resolver.resolve_str(props.get("Handler", "app.lambda_handler")),
            runtime=resolver.resolve_str(props.get("Runtime", "python3.13")),
            timeout=int(resolver.resolve_str(props.get("Timeout", 3))),
            memory=int(resolver.resolve_str(props.get("MemorySize", 128))),
            environment=env,
            layer_dirs=tuple(layer_dirs),
        )
        _read_routes(model, lid, props.get("Events") or {})
    model.routes.sort(key=lambda r: r.specificity)
    _read_tables(model)
    _read_secrets(model)
    for lid, res in template.of_type(ROTATION_TYPE).items():
        if not _created(res, resolver):
            continue
        props = res.get("Properties") or {}
        if "RotationLambdaARN" not in props:
            raise TemplateError(f"{lid}: only RotationLambdaARN rotation schedules are emulated")
        model.rotations.append(
            RotationSpec(
                logical_id=lid,
                secret=_logical_target(props["SecretId"]),
                function=_logical_target(props["RotationLambdaARN"]),
                rules=resolver.resolve(props.get("RotationRules") or {}),
            )
        )
    return model


def _read_apis(model: AppModel) -> None:
    template, resolver = model.template, model.resolver
    api_globals = template.globals.get("HttpApi") or {}
    apis = dict(template.of_type(HTTP_API_TYPE))
    apis.setdefault(IMPLICIT_HTTP_API, {"Type": HTTP_API_TYPE, "Properties": {}})
    for lid, res in apis.items():
        props = _merge_globals(api_globals, res.get("Properties") or {})
        auth = props.get("Auth") or {}
        authorizers: dict[str, AuthorizerSpec] = {}
        for name, raw in (auth.get("Authorizers") or {}).items():
            if "JwtConfiguration" in raw:
                authorizers[name] = AuthorizerSpec(name, "", "2.0", False, (), 0, kind="jwt")
                continue
            identity = raw.get("Identity") or {}
            authorizers[name] = AuthorizerSpec(
                name=name,
                function=_logical_target(raw["FunctionArn"]),
                payload_version=resolver.resolve_str(raw.get("AuthorizerPayloadFormatVersion", "2.0")),
                simple_responses=resolver.resolve_str(raw.get("EnableSimpleResponses", False)) == "true",
                identity_sources=_identity_sources(resolver.resolve(identity)),
                ttl=int(resolver.resolve_str(identity.get("ReauthorizeEvery", 0))),
            )
        default = auth.get("DefaultAuthorizer")
        cors = resolver.resolve(props.get("CorsConfiguration"))
        if cors is True:
            cors = {"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
        elif isinstance(cors, str):
            cors = {"AllowOrigins": [cors.strip("'")], "AllowMethods": ["*"], "AllowHeaders": ["*"]}
        model.apis[lid] = HttpApiSpec(
            logical_id=lid,
            api_id=resolver.refs.get(lid, _api_id(lid)),
            stage=resolver.resolve_str(props.get("StageName", "$default")),
            authorizers=authorizers,
            default_authorizer=resolver.resolve_str(default) if default else None,
            cors=cors if isinstance(cors, dict) else None,
        )


def _read_routes(model: AppModel, function: str, events: Mapping[str, Any]) -> None:
    resolver = model.resolver
    for event_name, event in events.items():
        if event.get("Type") != "HttpApi":
            continue
        props = event.get("Properties") or {}
        api = _logical_target(props["ApiId"]) if "ApiId" in props else IMPLICIT_HTTP_API
        if api not in model.apis:
            raise TemplateError(f"{function}.{event_name}: unknown HttpApi {api}")
        spec = model.apis[api]
        path = resolver.resolve_str(props["Path"]) if "Path" in props else "$default"
        method = resolver.resolve_str(props.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        auth = props.get("Auth") or {}
        authorizer = (
            resolver.resolve_str(auth["Authorizer"]) if "Authorizer" in auth else spec.default_authorizer
        )
        if authorizer == "NONE":
            authorizer = None
        if authorizer is not None and authorizer not in spec.authorizers:
            raise TemplateError(f"{function}.{event_name}: unknown authorizer {authorizer}")
        model.routes.append(
            RouteSpec(
                method=method,
                path=path,
                function=function,
                api=api,
                authorizer=authorizer,
                scopes=tuple(resolver.resolve(auth.get("AuthorizationScopes") or ())),
                payload_version=resolver.resolve_str(props.get("PayloadFormatVersion", "2.0")),
            )
        )


def table_spec(
    logical_id: str, name: str, resource: Mapping[str, Any], props: Mapping[str, Any]
) -> TableSpec:
    """The table a template resource declares (``props`` already resolved), named ``name``."""
    if resource["Type"] == "AWS::Serverless::SimpleTable":
        pk = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind = {"String": "S", "Number": "N", "Binary": "B"}[pk.get("Type", "String")]
        simple: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": pk["Name"], "AttributeType": kind}],
            "KeySchema": [{"AttributeName": pk["Name"], "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        return TableSpec(logical_id, name, simple, None, False)
    args: dict[str, Any] = {"TableName": name, "BillingMode": props.get("BillingMode", "PROVISIONED")}
    for key in (
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "StreamSpecification",
    ):
        if key in props:
            args[key] = props[key]
    if args["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in args:
        args["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    ttl = props.get("TimeToLiveSpecification") or {}
    ttl_attr = ttl.get("AttributeName") if str(ttl.get("Enabled", "")).lower() == "true" else None
    pitr = props.get("PointInTimeRecoverySpecification") or {}
    return TableSpec(
        logical_id=logical_id,
        name=name,
        create_args=args,
        ttl_attribute=ttl_attr,
        pitr=str(pitr.get("PointInTimeRecoveryEnabled", "")).lower() == "true",
    )


def _read_tables(model: AppModel) -> None:
    resolver = model.resolver
    for lid, res in model.template.of_type(*TABLE_TYPES).items():
        if not _created(res, resolver):
            continue
        props = resolver.resolve(res.get("Properties") or {})
        model.tables[lid] = table_spec(lid, resolver.refs[lid], res, props)


def _read_secrets(model: AppModel) -> None:
    resolver = model.resolver
    stack = resolver.identity.stack_name
    for lid, res in model.template.of_type(SECRET_TYPE).items():
        if not _created(res, resolver):
            continue
        # Only what the emulation uses: KmsKeyId is not (moto's secrets are not KMS-encrypted),
        # and it names the stack's KMS key, which the local stack does not create.
        used = ("Name", "SecretString", "GenerateSecretString", "Description")
        props = resolver.resolve({k: v for k, v in (res.get("Properties") or {}).items() if k in used})
        model.secrets[lid] = SecretSpec(
            logical_id=lid,
            name=str(props.get("Name") or f"{stack}-{lid}"),
            secret_string=props.get("SecretString"),
            generate=props.get("GenerateSecretString"),
            description=str(props.get("Description", "")),
        )


def route_regex(path: str) -> re.Pattern[str]:
    """``/users/{id}`` → a regex with named groups; ``{proxy+}`` matches the rest of the path."""
    if path == "$default":
        return re.compile(r".*")
    out = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            out += f"(?P<{_group(part[1:-2])}>.+)"
        elif part.startswith("{"):
            out += f"(?P<{_group(part[1:-1])}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(out)


def _group(name: str) -> str:
    # Regex group names must be identifiers; keep a reversible mapping for odd characters.
    return "p_" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in name)


def group_to_param(group: str) -> str:
    """Inverse of the group-name mangling in :func:`route_regex`."""
    return re.sub(r"_([0-9a-f]+)_", lambda m: chr(int(m.group(1), 16)), group[2:])
