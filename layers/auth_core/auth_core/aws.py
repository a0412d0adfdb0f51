"""Lazy, injectable boto3 clients.

``boto3`` costs ~300 ms to import, so it is imported on the first call that needs a client,
never at module level. Clients are cached per (service, region, endpoint) for the life of the
execution environment. Tests and the local stack inject their own with :func:`set_client` or
point every client at moto with the standard ``AWS_ENDPOINT_URL`` variable (boto3 reads it).
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["client", "injected", "lean_preferred", "reset_clients", "set_client"]

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_overrides: dict[str, Any] = {}


def client(service: str, *, region: str | None = None) -> Any:
    """Return a cached boto3 client for ``service`` (or the injected override).

    Retries use botocore's ``standard`` mode with few attempts: a Lambda behind API Gateway has
    a short budget, and callers hold a cache to fall back on.
    """
    override = _overrides.get(service)
    if override is not None:
        return override
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            import boto3  # noqa: PLC0415 - deliberately lazy (cold start)
            from botocore.config import Config  # noqa: PLC0415

            config = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=2,
                read_timeout=5,
            )
            found = boto3.session.Session().client(service, region_name=region, config=config)
            _clients[key] = found
    return found


def set_client(service: str, value: Any | None) -> None:
    """Inject a client for ``service`` (``None`` removes the override)."""
    if value is None:
        _overrides.pop(service, None)
    else:
        _overrides[service] = value


def reset_clients() -> None:
    """Forget every cached and injected client (tests, or after a moto server restart)."""
    with _lock:
        _clients.clear()
        _overrides.clear()


def injected(service: str) -> bool:
    """Was a client injected for ``service``? The boto3-free paths (``auth_core.aws_json``)
    then step aside, so tests and tools that inject a moto-backed client keep getting it."""
    return service in _overrides


def lean_preferred(service: str) -> bool:
    """Should the boto3-free client (``auth_core.aws_json``) serve ``service`` by default?

    Yes when the credentials are in the environment (Lambda always puts them there), we run
    in a Lambda runtime (``AWS_LAMBDA_FUNCTION_NAME``) or against an explicit endpoint
    (``AWS_ENDPOINT_URL``: the local stack, a moto server), and no boto3 client was injected.
    Elsewhere -- a developer shell with a profile, in-process ``moto.mock_aws`` tests -- boto3
    keeps serving, because only botocore knows profiles, SSO and in-process mocks.
    """
    env = os.environ
    if service in _overrides or not (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")):
        return False
    return bool(
        env.get("AWS_LAMBDA_FUNCTION_NAME")
        or env.get("AWS_ENDPOINT_URL")
        or env.get(f"AWS_ENDPOINT_URL_{service.upper()}")
    )
