"""The custom claims hook in the token endpoint (DynamoDB on moto): its claims in access tokens
of every grant and in ID tokens, and every failing hook refusing the request with a standard
error and nothing issued or spent -- through ``TokenService`` and through the ``/token`` handler."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from auth_core.errors import ClaimsHookError, ClaimsHookTimeoutError, ConfigurationError
from auth_core.oauth.claims_hook import ClaimsHook
from auth_core.oauth.grants import TokenService
from auth_core.passwords import PasswordHasher
from tests.functional.oauth import claims_hooks
from tests.functional.oauth.conftest import BACKEND_SECRET, FAST_HASHER
from tests.functional.oauth.helpers import (
    PUBLIC_CLIENT,
    PUBLIC_CLIENT_SETTINGS,
    body,
    code_flow,
    form,
    password_request,
    refresh_request,
    sample_event,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

HOOK = "tests.functional.oauth.claims_hooks:by_mode"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(autouse=True)
def _reset_hooks() -> Iterator[None]:
    claims_hooks.MODE["value"] = "ok"
    claims_hooks.CALLS.clear()
    yield
    claims_hooks.MODE["value"] = "ok"


@pytest.fixture
def hooked(stack: Any, clock: Any, audit: Any) -> TokenService:
    stack.add_user()
    stack.add_client()
    stack.add_client(PUBLIC_CLIENT, **PUBLIC_CLIENT_SETTINGS)
    stack.add_client("backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",))
    return TokenService.from_settings(
        stack.settings(claims_hook=HOOK), keys=stack.keyset, audit=audit, hasher=FAST_HASHER, clock=clock
    )


def families(stack: Any) -> list[Any]:
    return [i for i in stack.scan("sessions") if i["pk"]["S"].startswith("fam#")]


# ---------------------------------------------------------------- claims in tokens
def test_no_hook_configured_means_no_hook_at_all(service: TokenService) -> None:
    assert service.claims_hook is None


def test_password_and_refresh_access_tokens_carry_the_hooks_claims(hooked, issuers) -> None:
    pair = body(hooked.token(password_request(scope="read"), issuers))
    claims = claims_of(pair["access_token"])
    assert (claims["tenant"], claims["entitlements"], claims["roles"]) == ("t-1", ["user"], ["user"])
    again = body(hooked.token(refresh_request(pair["refresh_token"]), issuers))
    assert claims_of(again["access_token"])["tenant"] == "t-1"
    assert [(c.token_kind, c.grant_type, c.client_id) for c in claims_hooks.CALLS] == [
        ("access", "password", "demo-spa"),
        ("access", "refresh_token", "demo-spa"),
    ]
    assert claims_hooks.CALLS[0].scope == ("read",)


def test_client_credentials_tokens_carry_the_hooks_claims(hooked, issuers) -> None:
    request = form({"grant_type": "client_credentials"}, basic=("backend-svc", BACKEND_SECRET))
    claims = claims_of(body(hooked.token(request, issuers))["access_token"])
    assert claims["tenant"] == "t-1"
    call = claims_hooks.CALLS[0]
    assert (call.subject, call.roles, call.grant_type) == ("backend-svc", (), "client_credentials")


def test_id_tokens_carry_the_hooks_id_claims(stack, hooked, issuers, clock) -> None:
    response = code_flow(stack, hooked, issuers, clock)  # openid is among the client's scopes
    assert claims_of(response["id_token"])["tenant_name"] == "Tenant One"
    assert "tenant_name" not in claims_of(response["access_token"])
    assert sorted(c.token_kind for c in claims_hooks.CALLS) == ["access", "id"]


# ---------------------------------------------------------------- failing hooks refuse
@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("raise", "claims_hook_raised"),
        ("reserved", "claims_hook_reserved_claim"),
        ("bad", "claims_hook_bad_result"),
    ],
)
def test_a_failing_hook_refuses_the_login_and_starts_no_session(stack, hooked, issuers, audit, mode, reason):
    claims_hooks.MODE["value"] = mode
    with pytest.raises(ClaimsHookError) as caught:
        hooked.token(password_request(), issuers)
    assert (caught.value.status, caught.value.error_code, caught.value.reason) == (
        500,
        "server_error",
        reason,
    )
    assert families(stack) == []
    assert ("ClaimsHookFailed", {"client_id": "demo-spa", "token_kind": "access",
                                 "grant_type": "password", "reason": reason}) in audit.events  # fmt: skip
    assert "LoginSucceeded" not in audit.names()


def test_a_failing_id_token_hook_leaves_the_code_redeemable(stack, hooked, issuers, clock) -> None:
    claims_hooks.MODE["value"] = "raise_on_id"
    with pytest.raises(ClaimsHookError):
        code_flow(stack, hooked, issuers, clock)
    assert families(stack) == []
    codes = [i for i in stack.scan("sessions") if i["pk"]["S"].startswith("code#")]
    assert [c["status"]["S"] for c in codes] == ["active"]  # not spent: a retry is not a reuse


def test_a_failing_hook_on_refresh_does_not_rotate(stack, hooked, issuers) -> None:
    pair = body(hooked.token(password_request(), issuers))
    claims_hooks.MODE["value"] = "raise"
    with pytest.raises(ClaimsHookError):
        hooked.token(refresh_request(pair["refresh_token"]), issuers)
    claims_hooks.MODE["value"] = "ok"
    again = body(hooked.token(refresh_request(pair["refresh_token"]), issuers))  # still the current one
    assert claims_of(again["access_token"])["tenant"] == "t-1"


def test_a_hook_over_budget_refuses_with_503(stack, clock, audit, issuers) -> None:
    stack.add_user()
    stack.add_client()
    ticks = {"now": 0.0}

    def slow(_request: Any) -> dict[str, Any]:
        ticks["now"] += 0.5
        return {"tenant": "t-1"}

    service = TokenService.from_settings(
        stack.settings(), keys=stack.keyset, audit=audit, hasher=FAST_HASHER, clock=clock
    )
    service.claims_hook = ClaimsHook(
        "x:slow", budget_ms=200, audit=audit, clock=lambda: ticks["now"], resolve=lambda _r: slow
    )
    with pytest.raises(ClaimsHookTimeoutError) as caught:
        service.token(password_request(), issuers)
    assert (caught.value.status, caught.value.error_code) == (503, "temporarily_unavailable")
    assert families(stack) == []


def test_a_reference_to_no_callable_is_a_configuration_error(stack, clock, issuers) -> None:
    stack.add_user()
    stack.add_client()
    service = TokenService.from_settings(
        stack.settings(claims_hook="tests.functional.oauth.claims_hooks:NOT_CALLABLE"),
        keys=stack.keyset,
        hasher=FAST_HASHER,
        clock=clock,
    )
    with pytest.raises(ConfigurationError, match="not callable"):
        service.token(password_request(), issuers)
    assert families(stack) == []


# ---------------------------------------------------------------- through the /token handler
@pytest.fixture
def issue(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import functions.issue_token.app as issue

    monkeypatch.setenv("CLAIMS_HOOK", HOOK)
    issue.settings.cache_clear()
    issue.service.cache_clear()
    stack.add_user(hasher=PasswordHasher(memory_cost=1024, iterations=1))
    stack.add_client()
    yield issue
    issue.settings.cache_clear()
    issue.service.cache_clear()


def test_handler_issues_the_hooks_claims(issue, lambda_context) -> None:
    response = issue.lambda_handler(sample_event("issue_token_password.json"), lambda_context)
    assert response["statusCode"] == 200, response
    assert claims_of(json.loads(response["body"])["access_token"])["tenant"] == "t-1"


@pytest.mark.parametrize("mode", ["raise", "reserved", "bad"])
def test_handler_refuses_with_server_error_when_the_hook_fails(stack, issue, lambda_context, capsys, mode):
    claims_hooks.MODE["value"] = mode
    response = issue.lambda_handler(sample_event("issue_token_password.json"), lambda_context)
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "server_error"}
    assert "Retry-After" not in response["headers"]
    assert response["headers"]["Cache-Control"] == "no-store"
    assert families(stack) == []
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "ClaimsHookFailed" in text
    assert "the tenant service is down" not in text  # the hook's message is never logged
    assert "eyJ" not in text  # nor any token


def test_handler_refuses_when_the_reference_is_bad(stack, issue, lambda_context, monkeypatch) -> None:
    monkeypatch.setenv("CLAIMS_HOOK", "tests.functional.oauth.no_such_module:fn")
    issue.settings.cache_clear()
    issue.service.cache_clear()
    response = issue.lambda_handler(sample_event("issue_token_password.json"), lambda_context)
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "server_error"}
    assert families(stack) == []


def test_the_authorizer_passes_hook_claims_named_in_context_claims(stack, hooked, issuers, clock) -> None:
    from auth_core.authorizer.context import build_context
    from auth_core.jwk import JWKSet
    from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
    from tests.functional.oauth.conftest import AUD, ISS

    token = body(hooked.token(password_request(scope="read"), issuers))["access_token"]
    verifier = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(stack.jwks), clock=clock)
    claims = verifier.verify(token)
    context, dropped = build_context(claims, ("roles", "tenant", "entitlements"), json_values=False)
    assert (context["tenant"], context["entitlements"], dropped) == ("t-1", "user", ())
