"""Which deployment ``authctl`` talks to, resolved once per run, and how its failures read.

**Where names and settings come from.** A run has at most one *deployment source*:

* ``--stack .local/stack.json`` (a running local stack): names, endpoint, region and fake
  credentials from the file, settings from its ``functions.<LogicalId>.environment``. It wins
  over every AWS environment variable (``AWS_ENDPOINT_URL*``, ``AWS_REGION``, ``AWS_PROFILE``,
  credentials are replaced for this run).
* ``--stack-name NAME`` (a deployed CloudFormation stack): the physical name of the function
  that uses the names (``IssueTokenFunction`` for users/clients/sessions, ``RotateKeysFunction``
  for keys) from ``DescribeStackResource``, then its environment from Lambda
  ``GetFunctionConfiguration``: table names, secret ids and settings exactly as deployed.
* ``--function NAME``: that one function's configuration, for every command.

With a source, an exported ``USERS_TABLE``/``SIGNING_KEYS_SECRET_ID``/... that the command would
read is an error naming what to drop (it may be another deployment's). Per-command flags
(``--users-table``...) still win: they are explicit. Without a source, names come from the flags,
else the exported variables, and the settings are the defaults, said in one line on stderr.
The operator's own ``KEY_CACHE_TTL``, ``MAX_ACCESS_TOKEN_LIFETIME``, ``SIGNING_ALG``... are never
read.

**Before any write** one line goes to stderr: ``authctl: writing to <endpoint> (region R,
account A)`` (the account from STS ``GetCallerIdentity``, left out when that is denied or
unreachable; a local stack is named instead).

**Failures** are one line, ``authctl: error: <what>``, and an exit code (:func:`describe`):
:data:`EXIT_USAGE` (2) when the command as given cannot work (usage, configuration, region,
credentials, permissions, unknown names), :data:`EXIT_FAILED` (1) when it ran and failed
(AWS unreachable or throttled, a rotation or revocation that did not complete).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auth_core.settings import ENV_VARS

__all__ = [
    "EXIT_FAILED",
    "EXIT_USAGE",
    "CliError",
    "Context",
    "context",
    "describe",
]

EXIT_FAILED = 1
EXIT_USAGE = 2

#: name setting -> environment variable (what a command group may read from the shell)
NAME_VARS: dict[str, str] = {
    name: ENV_VARS[name]
    for name in (
        "users_table",
        "clients_table",
        "sessions_table",
        "revocations_table",
        "signing_keys_secret_id",
        "public_jwks_secret_id",
    )
}
_TABLES = ("users_table", "clients_table", "sessions_table", "revocations_table")
#: command group -> the names it reads
GROUP_NAMES: dict[str, tuple[str, ...]] = {
    "keys": ("signing_keys_secret_id", "public_jwks_secret_id", "revocations_table"),
    "users": _TABLES,
    "clients": _TABLES,
    "sessions": _TABLES,
}
#: command group -> the function (template logical id) whose configuration it follows
GROUP_FUNCTION: dict[str, str] = {"keys": "RotateKeysFunction"}
DEFAULT_FUNCTION = "IssueTokenFunction"

#: settings shown when they are assumed (defaults)
_SHOWN = ("max_access_token_lifetime", "key_cache_ttl", "signing_alg", "revocation_feed_interval")


class CliError(Exception):
    """A failure ``authctl`` explains itself: one line and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


# --------------------------------------------------------------------------- the source
def _read_stack_file(path: str) -> dict[str, Any]:
    try:
        info = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read stack file {path} ({type(exc).__name__})", EXIT_USAGE) from exc
    if not isinstance(info, dict):
        raise CliError(f"stack file {path} is not a JSON object", EXIT_USAGE)
    pid = info.get("pid")
    if isinstance(pid, int) and not _alive(pid):
        raise CliError(
            f"stack file {path} is stale: the local stack that wrote it (pid {pid}) is not running; "
            "start it (auth-local serve) or drop --stack",
            EXIT_USAGE,
        )
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _point_at_stack(info: Mapping[str, Any]) -> None:
    """The stack file wins over the shell: endpoint, credentials and region for this run."""
    env = os.environ
    if info.get("aws_endpoint_url"):
        for name in [n for n in env if n.startswith("AWS_ENDPOINT_URL_")]:
            del env[name]
        for name in ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
        for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.pop(name, None)
        env["AWS_ENDPOINT_URL"] = str(info["aws_endpoint_url"])
        env["AWS_ACCESS_KEY_ID"] = "testing"
        env["AWS_SECRET_ACCESS_KEY"] = "testing"
    if info.get("region"):
        env["AWS_REGION"] = str(info["region"])
        env["AWS_DEFAULT_REGION"] = str(info["region"])


@dataclass
class Context:
    """One run's deployment: names, settings and the write banner (see the module docstring)."""

    group: str = ""
    stack_path: str | None = None
    stack: dict[str, Any] = field(default_factory=dict)
    stack_name: str | None = None
    function: str | None = None
    _environments: dict[str, dict[str, str] | None] = field(default_factory=dict)
    _settings: dict[str, Any] = field(default_factory=dict)
    _announced: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        """Read the source named on the command line; point boto3 at a local stack.

        :raises CliError: unreadable or stale stack file, two sources, or a source mixed with
            exported names the command would read.
        """
        ctx = cls(
            group=str(getattr(args, "group", "") or ""),
            stack_path=getattr(args, "stack", None) or None,
            stack_name=getattr(args, "stack_name", None) or None,
            function=getattr(args, "function", None) or None,
        )
        given = [
            flag
            for flag, value in (
                ("--stack", ctx.stack_path),
                ("--stack-name", ctx.stack_name),
                ("--function", ctx.function),
            )
            if value
        ]
        if len(given) > 1:
            raise CliError(f"{' and '.join(given)} name two deployments: use one", EXIT_USAGE)
        if ctx.stack_path:
            ctx.stack = _read_stack_file(ctx.stack_path)
        if given:
            ctx._refuse_exported(given[0])
        if ctx.stack_path:
            _point_at_stack(ctx.stack)
        return ctx

    @property
    def source(self) -> str | None:
        """How the deployment was named (for messages), or ``None``."""
        if self.stack_path:
            return f"--stack {self.stack_path}"
        if self.stack_name:
            return f"--stack-name {self.stack_name}"
        if self.function:
            return f"--function {self.function}"
        return None

    def _refuse_exported(self, flag: str) -> None:
        names = GROUP_NAMES.get(self.group, tuple(NAME_VARS))
        exported = [NAME_VARS[n] for n in names if os.environ.get(NAME_VARS[n], "").strip()]
        if exported:
            raise CliError(
                f"{flag} names the deployment, but {', '.join(exported)} "
                f"{'is' if len(exported) == 1 else 'are'} exported too (maybe another deployment's): "
                f"drop one: unset {' '.join(exported)}, or leave out {flag}",
                EXIT_USAGE,
            )

    # ----------------------------------------------------------------------- deployment config
    def function_id(self, group: str | None = None) -> str:
        return GROUP_FUNCTION.get(group or self.group, DEFAULT_FUNCTION)

    def environment(self, group: str | None = None) -> dict[str, str] | None:
        """The deployed environment of the group's function, or ``None`` without a source."""
        logical = self.function_id(group)
        if logical not in self._environments:
            self._environments[logical] = self._load_environment(logical)
        return self._environments[logical]

    def _load_environment(self, logical: str) -> dict[str, str] | None:
        if self.stack_path:
            functions = self.stack.get("functions") or {}
            env = (functions.get(logical) or {}).get("environment")
            if env is None:
                # an older or partial stack file: any function's variables are the deployment's
                merged: dict[str, str] = {}
                for spec in functions.values():
                    for key, value in ((spec or {}).get("environment") or {}).items():
                        merged.setdefault(str(key), str(value))
                return merged or None
            return {str(k): str(v) for k, v in env.items()}
        if self.stack_name or self.function:
            from auth_core import aws  # noqa: PLC0415

            name = self.function
            if not name:
                detail = aws.client("cloudformation").describe_stack_resource(
                    StackName=self.stack_name, LogicalResourceId=logical
                )["StackResourceDetail"]
                name = str(detail["PhysicalResourceId"])
            config = aws.client("lambda").get_function_configuration(FunctionName=name)
            variables = (config.get("Environment") or {}).get("Variables") or {}
            return {str(k): str(v) for k, v in variables.items()}
        return None

    def name(
        self, setting: str, flag_value: str | None = None, *, flag: str = "", required: bool = True
    ) -> str:
        """A table name or secret id: the flag, else the source, else (no source) the shell.

        :raises CliError: found nowhere (``required``; else ``""``).
        """
        if flag_value and str(flag_value).strip():
            return str(flag_value).strip()
        var = NAME_VARS.get(setting, setting.upper())
        flag = flag or "--" + setting.replace("_", "-")
        if self.source:
            value = str(self.stack.get(setting) or "") if self.stack_path else ""
            if not value:
                value = (self.environment() or {}).get(var, "").strip()
            if not value and required:
                raise CliError(f"{self.source} has no {var}: use {flag}", EXIT_USAGE)
            return value
        value = os.environ.get(var, "").strip()
        if not value and required:
            raise CliError(
                f"no {var}: use {flag}, --stack .local/stack.json, --stack-name STACK, or export {var}",
                EXIT_USAGE,
            )
        return value

    def settings(self, group: str | None = None, **names: str) -> Any:
        """The deployment's :class:`~auth_core.settings.Settings` (never the operator's shell),
        with ``names`` (table names, secret ids) set. Without a source: the defaults, said once.
        """
        from auth_core.settings import Settings  # noqa: PLC0415

        logical = self.function_id(group)
        base = self._settings.get(logical)
        if base is None:
            env = self.environment(group)
            if env is None:
                env = {}
                shown = ", ".join(f"{ENV_VARS[n]}={Settings._field_defaults[n]}" for n in _SHOWN)
                _stderr(
                    f"authctl: note: no deployment named (--stack, --stack-name or --function): "
                    f"assuming the default settings ({shown})"
                )
            base = self._settings[logical] = env
        return Settings.from_env(base, **names)

    # ----------------------------------------------------------------------- the write banner
    def announce_write(self, *services: str) -> None:
        """Say once, before the first write, where it goes."""
        if self._announced:
            return
        from auth_core import aws  # noqa: PLC0415

        endpoints: list[str] = []
        region = ""
        for service in services or ("dynamodb",):
            meta = getattr(aws.client(service), "meta", None)  # NoRegionError surfaces here
            endpoint = str(getattr(meta, "endpoint_url", "") or f"({service})")
            region = region or str(getattr(meta, "region_name", "") or "")
            if endpoint not in endpoints:
                endpoints.append(endpoint)
        where = [f"region {region or '?'}"]
        if self.stack_path:
            where.append(f"local stack {self.stack_path}")
        else:
            account = _account()
            if account:
                where.append(f"account {account}")
        _stderr(f"authctl: writing to {' and '.join(endpoints)} ({', '.join(where)})")
        self._announced = True


def _account() -> str | None:
    """The caller's account via STS, or ``None`` when STS denies or cannot be reached.
    Missing credentials are not hidden: the write would fail the same way."""
    from botocore.exceptions import (  # noqa: PLC0415
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    from auth_core import aws  # noqa: PLC0415

    try:
        return str(aws.client("sts").get_caller_identity()["Account"])
    except (NoCredentialsError, PartialCredentialsError):
        raise
    except (BotoCoreError, ClientError, KeyError):
        return None


def context(args: argparse.Namespace) -> Context:
    """The run's context (built by ``authctl.cli.main``; built here when a command runs alone)."""
    ctx = getattr(args, "ctx", None)
    if not isinstance(ctx, Context):
        ctx = Context.from_args(args)
        args.ctx = ctx
    return ctx


# --------------------------------------------------------------------------- failures
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
_USAGE_CODES = frozenset(
    {
        "ValidationException",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidRequestException",
        "ResourceNotFoundException",
        "ValidationError",
    }
)


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _botocore(exc: BaseException) -> BaseException | None:
    for link in _chain(exc):
        module = type(link).__module__ or ""
        if module.startswith("botocore"):
            return link
    return None


def describe(exc: BaseException, ctx: Context | None = None) -> tuple[int, str] | None:
    """``(exit code, one line)`` for a failure ``authctl`` knows, else ``None`` (a bug: let it
    raise). AWS errors are found anywhere in the exception's chain (the stores wrap them)."""
    if isinstance(exc, CliError):
        return exc.code, str(exc)
    cause = _botocore(exc)
    if cause is not None:
        return _describe_aws(cause, ctx)
    from auth_core.errors import AuthError, ConfigurationError, OAuthError  # noqa: PLC0415

    if isinstance(exc, ConfigurationError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, OAuthError) and exc.status < 500:
        return EXIT_USAGE, str(exc)
    if isinstance(exc, AuthError):
        text = str(exc)
        if text == type(exc).__name__:
            text = f"{exc.error_code} ({exc.reason}): AWS did not answer in time; retry"
        return EXIT_FAILED, text
    return None


def _describe_aws(exc: BaseException, ctx: Context | None) -> tuple[int, str]:
    from botocore import exceptions as b  # noqa: PLC0415

    stack_hint = (
        f" (is the local stack of {ctx.stack_path} still running? start it with auth-local serve)"
        if ctx is not None and ctx.stack_path
        else ""
    )
    if isinstance(exc, b.NoRegionError):
        return EXIT_USAGE, (
            "no AWS region: export AWS_REGION (or use a profile that has one), "
            "or use --stack .local/stack.json for the local stack"
        )
    if isinstance(exc, b.NoCredentialsError):
        return EXIT_USAGE, (
            "no AWS credentials: export AWS_PROFILE (after aws sso login / aws configure) or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --stack .local/stack.json"
        )
    if isinstance(exc, b.PartialCredentialsError):
        return EXIT_USAGE, f"incomplete AWS credentials: {exc}"
    if isinstance(exc, b.ProfileNotFound):
        return EXIT_USAGE, f"{exc}: check AWS_PROFILE"
    if isinstance(exc, b.EndpointConnectionError | b.ConnectTimeoutError | b.ConnectionClosedError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "") or ""
        return EXIT_FAILED, f"cannot reach {url or 'AWS'}{stack_hint}"
    if isinstance(exc, b.ClientError):
        error = exc.response.get("Error") or {}
        code = str(error.get("Code", "") or "")
        message = str(error.get("Message", "") or "").strip()
        operation = getattr(exc, "operation_name", "") or "the call"
        detail = f"{code}: {message}" if message else code
        if code in _CREDENTIAL_CODES:
            return EXIT_USAGE, f"AWS refused the credentials ({detail}) for {operation}"
        if "AccessDenied" in code or code in {"UnauthorizedOperation", "AuthorizationError"}:
            return EXIT_USAGE, f"access denied for {operation} ({detail}): check the account and role"
        if code in _USAGE_CODES:
            return EXIT_USAGE, f"AWS refused {operation} ({detail})"
        return EXIT_FAILED, f"{operation} failed ({detail})"
    return EXIT_FAILED, f"{type(exc).__name__}: {exc}{stack_hint}"
