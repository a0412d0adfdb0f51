"""``auth-local invoke FUNCTION EVENT``: one handler call, like ``sam local invoke``, without Docker.

Against a running stack (its ``stack.json``) the function runs in a fresh execution environment
with that stack's environment variables, so it sees the same tables, secrets and keys. With no stack
running, a private one is started for the call (moto in-process, keys rotated, demo data seeded)
and stopped afterwards.

Events may contain ``{{name}}`` placeholders: any ``stack.json`` field (``client_id``,
``username``...) and ``access_token`` / ``refresh_token``, minted on demand through the stack's
``POST /token`` with the demo credentials (password grant).

Secrets Manager rotation events (``{"Step", "SecretId", "ClientRequestToken"}``, the
``events/rotate_keys_*`` samples) for the stack's rotation function are steps of a real rotation:
their ``SecretId`` and ``ClientRequestToken`` are placeholders, replaced by the secret the function
rotates and by a version staged ``AWSPENDING`` -- a new one for ``createSecret`` (what
``RotateSecret`` does first), the one in progress for the other steps -- through the stack's
``/_local/rotation`` control route (:meth:`local_stack.stack.LocalStack.rotation_control`). The
four samples in order are one rotation; after ``finishSecret``, the stack ends it as
``RotateSecret`` does.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auth_core.settings import ENV_VARS
from local_stack.apigw import InvocationError
from local_stack.cfn import Resolver, StackIdentity, TemplateError, load_template
from local_stack.runtime import Worker, lambda_environment
from local_stack.sam import build_model, parameter_values, physical_names
from local_stack.stack import LocalStack, StackOptions, read_stack_file

__all__ = ["fill_placeholders", "invoke_command", "local_domain", "mint_tokens", "rotation_control"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def mint_tokens(info: Mapping[str, Any]) -> dict[str, str]:
    """A fresh token pair for the demo user, through the stack's ``POST /token``.

    :raises InvocationError: the stack refused (no demo data, or the token function failed).
    """
    if "username" not in info:
        raise InvocationError("Local.NoDemoUser", "the stack has no demo user to mint a token with")
    form = urllib.parse.urlencode(
        {"grant_type": "password", "username": info["username"], "password": info["password"]}
    ).encode()
    basic = base64.b64encode(f"{info['client_id']}:{info['client_secret']}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the local stack's own URL
        info["api_url"] + "/token",
        data=form,
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise InvocationError("Local.TokenMintFailed", f"POST /token failed: {exc}") from exc
    return {k: str(v) for k, v in body.items() if k in ("access_token", "refresh_token")}


def fill_placeholders(text: str, values: Mapping[str, Any], *, mint: Any = None) -> str:
    """Replace ``{{name}}`` in an event's JSON text (values JSON-escaped, so any value is safe).

    :param mint: called once, lazily, when a token placeholder is used; returns more values.
    :raises InvocationError: an unknown placeholder.
    """
    names = set(_PLACEHOLDER.findall(text))
    merged = dict(values)
    if names & {"access_token", "refresh_token"} and mint is not None:
        merged.update(mint())
    missing = sorted(n for n in names if n not in merged)
    if missing:
        raise InvocationError("Local.UnknownPlaceholder", f"no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: json.dumps(str(merged[m.group(1)]))[1:-1], text)


def local_domain(event: dict[str, Any], domain: str) -> dict[str, Any]:
    """Point an API Gateway event at the local API's domain (issuers are derived from it)."""
    ctx = event.get("requestContext")
    if isinstance(ctx, dict) and "domainName" in ctx:
        ctx["domainName"] = domain
        ctx["domainPrefix"] = domain.split(".", 1)[0]
        headers = event.get("headers")
        if isinstance(headers, dict):
            for key in list(headers):
                if key.lower() == "host":
                    headers[key] = domain
    return event


def rotation_control(info: Mapping[str, Any], request: Mapping[str, str]) -> dict[str, str]:
    """Call the stack's ``/_local/rotation`` (see the module docstring).

    :raises InvocationError: the stack refused (its message), or is unreachable.
    """
    http_request = urllib.request.Request(  # noqa: S310 - the local stack's own moto
        str(info["aws_endpoint_url"]) + "/_local/rotation",
        data=json.dumps(dict(request)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:  # noqa: S310
            return {str(k): str(v) for k, v in json.loads(response.read()).items()}
    except urllib.error.HTTPError as exc:
        try:
            message = str(json.loads(exc.read()).get("message"))
        except (OSError, ValueError, AttributeError):
            message = f"HTTP {exc.code}"
        raise InvocationError("Local.RotationRefused", message) from None
    except (OSError, ValueError) as exc:
        raise InvocationError("Local.RotationRefused", f"the stack's rotation control failed: {exc}") from exc


def _is_rotation_event(event: Any) -> bool:
    return isinstance(event, dict) and all(
        isinstance(event.get(k), str) for k in ("Step", "SecretId", "ClientRequestToken")
    )


def _invoke_in(info: Mapping[str, Any], options: StackOptions, function: str, event: dict[str, Any]) -> Any:
    template = load_template(options.template)
    identity = StackIdentity(stack_name=options.stack_name, region=str(info.get("region", options.region)))
    resolver = Resolver(template, parameter_values(template, dict(info.get("params") or {})), identity)
    resolver.refs.update(physical_names(template, identity, resolver))
    model = build_model(template, resolver)
    spec = model.function(function)
    rotation_step = _is_rotation_event(event) and any(r.function == spec.logical_id for r in model.rotations)
    if rotation_step:
        step = str(event["Step"])
        action = "begin" if step == "createSecret" else "pending"
        event = {**event, **rotation_control(info, {"Function": spec.logical_id, "Action": action})}
        options.log(
            f"rotation {step}: SecretId and ClientRequestToken set to the stack's secret and its "
            f"{'new' if action == 'begin' else 'pending'} version {event['ClientRequestToken']}"
        )
    env_vars = ((info.get("functions") or {}).get(spec.logical_id) or {}).get("environment")
    if env_vars is None:
        raise TemplateError(f"the running stack has no environment for {spec.logical_id}")
    env_vars = dict(env_vars)
    if isinstance(event, dict) and event.get("type") == "TOKEN" and not env_vars.get(ENV_VARS["issuer"]):
        # A REST TOKEN authorizer event carries no domain to derive the issuer from; deployed,
        # such an authorizer needs ISSUER. Locally it is the running stack's issuer.
        env_vars[ENV_VARS["issuer"]] = str(info.get("issuer") or info["api_url"])
    for name, value in options.env.items():  # --env on top of the running stack's variables
        target, _, var = name.rpartition(".")
        if not target or spec.matches(target):
            env_vars[var] = value
    env = lambda_environment(spec, env_vars, region=identity.region, endpoint_url=info["aws_endpoint_url"])
    worker = Worker(spec, env, region=identity.region, account_id=identity.account_id, log=options.log)
    try:
        result = worker.invoke(event, float(spec.timeout))
    finally:
        worker.close()
    if rotation_step and event["Step"] == "finishSecret":
        rotation_control(
            info,
            {"Function": spec.logical_id, "Action": "end", "ClientRequestToken": event["ClientRequestToken"]},
        )
    return result


def invoke_command(args: argparse.Namespace, options: StackOptions) -> Any:
    """Run ``args.function`` with ``args.event`` and return the handler's result.

    :raises InvocationError: the handler raised (its ``errorType``/``errorMessage``) or timed out.
    """
    text = Path(args.event).read_text(encoding="utf-8")
    info = read_stack_file(options.state_dir / "stack.json") if options.state_dir else None
    stack = None
    try:
        if info is None:
            options.log("no running local stack: starting a private one for this call")
            options.state_dir = None
            options.warm = False
            stack = LocalStack(options)
            info = stack.start()
        filled = fill_placeholders(text, info, mint=lambda: mint_tokens(info))
        event = json.loads(filled)
        if not args.keep_domain and isinstance(event, dict):
            event = local_domain(event, info["api_url"].removeprefix("http://"))
        return _invoke_in(info, options, args.function, event)
    finally:
        if stack is not None:
            stack.stop()
