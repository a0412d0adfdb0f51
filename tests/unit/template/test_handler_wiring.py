"""Each handler can build everything it needs from exactly the environment the template gives it.

The handlers build their services in ``functools.cache``d factories from ``Settings.from_env()``.
A variable the code ``require()``s but the template forgets is a 500 on the first request in AWS
and invisible to tests that build ``Settings(...)`` directly; this calls every factory under the
template's environment (parameter defaults; resource references become placeholder names).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.unit.template.cfn import MODES, Doc, in_mode, load, ref_target
from tests.unit.template.test_template import FUNCTION_DIRS, environment

#: The default (single-region) deployment: its conditions decided, as CloudFormation would.
TEMPLATE = in_mode(load(), MODES["single-region"])
FUNCTIONS = {
    lid: res["Properties"]
    for lid, res in TEMPLATE["Resources"].items()
    if res["Type"] == "AWS::Serverless::Function"
}
#: Values for factory parameters (``service(issuer)`` is cached per issuer).
FACTORY_ARGS = {"issuer": "https://auth.example.test"}


def template_environment(template: Doc, props: Doc) -> dict[str, str]:
    params = template["Parameters"]
    env: dict[str, str] = {}
    for key, value in environment(template, props).items():
        target = ref_target(value)
        if target in params:
            env[key] = str(params[target]["Default"])
        elif target:
            env[key] = f"stack-{target}"
        else:
            env[key] = str(value)
    return env


#: Layer modules whose cached factories a function module exposes as its own (one per function).
SHARED_ENDPOINTS = ("auth_core.oauth.token_endpoint",)


def factories(module: Any) -> Iterator[tuple[str, Any]]:
    for name, obj in vars(module).items():
        own = getattr(obj, "__module__", "") in (module.__name__, *SHARED_ENDPOINTS)
        if own and callable(obj) and hasattr(obj, "cache_clear"):
            yield name, obj


@pytest.mark.parametrize("function", sorted(FUNCTION_DIRS))
def test_factories_build_from_the_template_environment(
    monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    from auth_core.settings import ENV_VARS

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    for key, value in template_environment(TEMPLATE, FUNCTIONS[function]).items():
        if key != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(key, value)
    module = importlib.import_module(f"functions.{FUNCTION_DIRS[function]}.app")
    built = []
    with mock_aws():  # construction must not need AWS; if it calls, it calls nothing real
        for name, factory in factories(module):
            factory.cache_clear()
            try:
                kwargs = {}
                for param in inspect.signature(factory).parameters.values():
                    if param.name not in FACTORY_ARGS:
                        pytest.fail(f"{function}.{name}({param.name}): add a value to FACTORY_ARGS")
                    kwargs[param.name] = FACTORY_ARGS[param.name]
                factory(**kwargs)  # ConfigurationError names the missing variable
                built.append(name)
            finally:
                factory.cache_clear()
    if function != "MeFunction":  # the example route needs no settings at all
        assert built, f"{function}: no cached factory found; the handler builds its services elsewhere?"


def test_a_missing_variable_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: without REVOCATIONS_TABLE the token service cannot be built."""
    from auth_core.errors import ConfigurationError
    from auth_core.settings import ENV_VARS

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    env = template_environment(TEMPLATE, FUNCTIONS["IssueTokenFunction"])
    del env["REVOCATIONS_TABLE"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    module = importlib.import_module("functions.issue_token.app")
    names = dict(factories(module))
    for factory in names.values():
        factory.cache_clear()
    try:
        with mock_aws(), pytest.raises(ConfigurationError, match="REVOCATIONS_TABLE"):
            for factory in names.values():
                factory()
    finally:
        for factory in names.values():
            factory.cache_clear()
