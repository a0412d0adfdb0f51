"""The custom claims hook (``auth_core.oauth.claims_hook``) on its own: resolution, the checks
of what a hook returns, the reserved claims, the time budget (an injected clock: nothing sleeps)
and the audit line of a refusal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from auth_core.claims import REGISTERED_CLAIMS
from auth_core.errors import (
    ClaimsHookError,
    ClaimsHookTimeoutError,
    ConfigurationError,
    ServerError,
    TemporarilyUnavailableError,
)
from auth_core.oauth.audit import RecordingAudit
from auth_core.oauth.claims_hook import (
    MAX_HOOK_CLAIMS_BYTES,
    RESERVED_CLAIMS,
    ClaimsHook,
    ClaimsHookInput,
    check_claims,
    resolve_reference,
)
from auth_core.settings import Settings

REQUEST = ClaimsHookInput("access", "password", "web", "u-1", ("openid", "read"), ("admin",))


class Ticks:
    """A monotonic clock that moves only when the hook under test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def hook(function: Any, *, budget_ms: int = 200, clock: Any = None, audit: Any = None) -> ClaimsHook:
    return ClaimsHook(
        "tests.example:hook",
        budget_ms=budget_ms,
        audit=audit,
        clock=clock or Ticks(),
        resolve=lambda _reference: function,
    )


# ---------------------------------------------------------------- working hooks
def test_no_hook_configured_returns_nothing_and_resolves_nothing() -> None:
    def never(_reference: str) -> Any:
        raise AssertionError("resolved")

    assert ClaimsHook("", resolve=never).claims(REQUEST) == {}
    assert not ClaimsHook("").enabled


def test_a_working_hook_adds_its_claims_and_sees_the_frozen_input() -> None:
    seen: list[ClaimsHookInput] = []

    def add(request: ClaimsHookInput) -> dict[str, Any]:
        seen.append(request)
        return {
            "tenant": "t-1",
            "https://example.com/plan": "gold",
            "level": 3,
            "ratio": 0.5,
            "beta": True,
            "groups": ("a", "b"),
            "org": {"id": "o-1", "seats": 10},
        }

    claims = hook(add).claims(REQUEST)
    assert claims == {
        "tenant": "t-1",
        "https://example.com/plan": "gold",
        "level": 3,
        "ratio": 0.5,
        "beta": True,
        "groups": ["a", "b"],
        "org": {"id": "o-1", "seats": 10},
    }
    assert seen == [REQUEST]
    with pytest.raises(dataclasses.FrozenInstanceError):
        seen[0].subject = "someone-else"  # type: ignore[misc]


def test_the_hook_is_resolved_once_at_the_first_issue() -> None:
    resolved: list[str] = []

    def resolve(reference: str) -> Any:
        resolved.append(reference)
        return lambda _request: {"a": 1}

    h = ClaimsHook("pkg.mod:fn", resolve=resolve, clock=Ticks())
    assert resolved == []  # not at construction
    h.claims(REQUEST)
    h.claims(REQUEST)
    assert resolved == ["pkg.mod:fn"]


def test_resolve_reference_imports_a_module_function() -> None:
    assert resolve_reference("json:dumps") is __import__("json").dumps
    assert resolve_reference("os.path:join") is __import__("os").path.join


@pytest.mark.parametrize(
    "reference",
    ["json", "json:", ":dumps", "no_such_module_xyz:fn", "json:no_such_function", "json:__doc__"],
)
def test_a_bad_reference_is_a_configuration_error(reference: str) -> None:
    with pytest.raises(ConfigurationError, match="CLAIMS_HOOK"):
        resolve_reference(reference)


def test_a_bad_reference_fails_every_request_without_reimporting() -> None:
    calls: list[str] = []

    def resolve(reference: str) -> Any:
        calls.append(reference)
        raise ConfigurationError("CLAIMS_HOOK 'x:y' cannot be loaded (ModuleNotFoundError)")

    h = ClaimsHook("x:y", resolve=resolve)
    for _ in range(3):
        with pytest.raises(ConfigurationError, match="cannot be loaded"):
            h.claims(REQUEST)
    assert calls == ["x:y"]


# ---------------------------------------------------------------- failing hooks
def test_a_raising_hook_refuses_with_server_error_and_one_audit_line() -> None:
    audit = RecordingAudit()

    def boom(_request: ClaimsHookInput) -> Any:
        raise RuntimeError("secret-looking message eyJhbGciOi")

    with pytest.raises(ClaimsHookError) as caught:
        hook(boom, audit=audit).claims(REQUEST)
    assert isinstance(caught.value, ServerError)
    assert (caught.value.status, caught.value.error_code) == (500, "server_error")
    assert caught.value.reason == "claims_hook_raised"
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert audit.events == [
        (
            "ClaimsHookFailed",
            {
                "client_id": "web",
                "token_kind": "access",
                "grant_type": "password",
                "reason": "claims_hook_raised",
            },
        )
    ]
    assert "eyJ" not in repr(audit.events)


@pytest.mark.parametrize(
    "result",
    [
        None,
        "tenant=t-1",
        [("tenant", "t-1")],
        {1: "x"},
        {"": "x"},
        {"has space": "x"},
        {"9lives": "x"},
        {"x" * 129: "x"},
        {"none": None},
        {"nan": float("nan")},
        {"inf": float("inf")},
        {"big": 2**60},
        {"bytes": b"x"},
        {"set": {"a"}},
        {"obj": object()},
        {"nested_list": [[1]]},
        {"list_of_objects": [{"a": 1}]},
        {"deep": {"a": {"b": 1}}},
        {"deep_list": {"a": [1]}},
        {"bad_inner_name": {"a b": 1}},
        {"surrogate": "\ud800"},
    ],
)
def test_a_bad_result_refuses_with_server_error(result: Any) -> None:
    audit = RecordingAudit()
    with pytest.raises(ClaimsHookError) as caught:
        hook(lambda _r: result, audit=audit).claims(REQUEST)
    assert caught.value.reason == "claims_hook_bad_result"
    assert audit.names() == ["ClaimsHookFailed"]


def test_the_result_is_bounded_in_size() -> None:
    fits = {"blob": "x" * (MAX_HOOK_CLAIMS_BYTES - 20)}
    assert check_claims(fits) == fits
    with pytest.raises(ClaimsHookError) as caught:
        hook(lambda _r: {"blob": "x" * MAX_HOOK_CLAIMS_BYTES}).claims(REQUEST)
    assert caught.value.reason == "claims_hook_too_large"


@pytest.mark.parametrize("name", sorted(RESERVED_CLAIMS))
def test_a_hook_can_never_set_a_reserved_claim(name: str) -> None:
    audit = RecordingAudit()
    with pytest.raises(ClaimsHookError) as caught:
        hook(lambda _r: {"tenant": "t-1", name: "forged"}, audit=audit).claims(REQUEST)
    assert caught.value.reason == "claims_hook_reserved_claim"
    assert audit.events[0][1]["reason"] == "claims_hook_reserved_claim"


def test_the_reserved_list_covers_what_the_service_and_oidc_set() -> None:
    assert REGISTERED_CLAIMS <= RESERVED_CLAIMS
    for name in (
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "sid", "typ",
        "auth_time", "nonce", "at_hash", "amr", "acr", "azp", "cnf", "roles",
    ):  # fmt: skip
        assert name in RESERVED_CLAIMS


# ---------------------------------------------------------------- the time budget
def test_a_hook_within_its_budget_is_accepted() -> None:
    clock = Ticks()

    def slowish(_request: ClaimsHookInput) -> dict[str, Any]:
        clock.now += 0.2  # exactly the budget
        return {"tenant": "t-1"}

    assert hook(slowish, budget_ms=200, clock=clock).claims(REQUEST) == {"tenant": "t-1"}


def test_a_hook_over_its_budget_is_refused_as_temporarily_unavailable() -> None:
    clock, audit = Ticks(), RecordingAudit()

    def slow(_request: ClaimsHookInput) -> dict[str, Any]:
        clock.now += 0.201
        return {"tenant": "t-1"}  # a good result, thrown away: it came too late

    with pytest.raises(ClaimsHookTimeoutError) as caught:
        hook(slow, budget_ms=200, clock=clock, audit=audit).claims(REQUEST)
    assert isinstance(caught.value, TemporarilyUnavailableError)
    assert (caught.value.status, caught.value.error_code) == (503, "temporarily_unavailable")
    assert audit.events == [
        (
            "ClaimsHookFailed",
            {
                "client_id": "web",
                "token_kind": "access",
                "grant_type": "password",
                "reason": "claims_hook_timeout",
                "elapsed_ms": 201,
            },
        )
    ]


# ---------------------------------------------------------------- settings
def test_settings_read_the_hook_and_its_budget() -> None:
    settings = Settings.from_env({"CLAIMS_HOOK": "my_hooks.claims:add", "CLAIMS_HOOK_BUDGET_MS": "50"})
    assert (settings.claims_hook, settings.claims_hook_budget_ms) == ("my_hooks.claims:add", 50)
    assert (Settings().claims_hook, Settings().claims_hook_budget_ms) == ("", 200)
    built = ClaimsHook.from_settings(settings)
    assert built.enabled


@pytest.mark.parametrize(
    "env",
    [
        {"CLAIMS_HOOK": "my_hooks"},
        {"CLAIMS_HOOK": "my hooks:add"},
        {"CLAIMS_HOOK": "my_hooks:add()"},
        {"CLAIMS_HOOK_BUDGET_MS": "0"},
        {"CLAIMS_HOOK_BUDGET_MS": "5001"},
    ],
)
def test_bad_hook_settings_are_configuration_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(env)
