# ruff: noqa: F811 - the fixtures imported from test_self_service
"""The hosted change-password page (``/account/password``): for the user signed in on this
browser (the sign-in pages' single sign-on session cookie), through the account function's
handler with moto tables."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from auth_core.hosted.cookies import CookieJar
from auth_core.stores.users import UserStore
from tests.functional.oauth.conftest import FAST_HASHER, PASSWORD, FakeClock
from tests.functional.oauth.helpers import PUBLIC_CLIENT, PUBLIC_CLIENT_SETTINGS, sample_event
from tests.functional.oauth.test_self_service import account_app, outbox  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
NEW_PASSWORD = "a different long passphrase"
JAR = CookieJar(secure=True)  # the sample event's issuer is https


def _sign_in(stack: Any) -> str:
    """``alice`` signs in through the authorization endpoint's service: her session cookie."""
    from auth_core.oauth import pkce
    from auth_core.oauth.authorize import AuthorizationService

    stack.add_client(PUBLIC_CLIENT, **PUBLIC_CLIENT_SETTINGS)
    authz = AuthorizationService.from_settings(
        stack.settings(key_fetch_strategy="sdk"),
        hasher=FAST_HASHER,
        clock=FakeClock(now=time.time()),  # the account function reads the real clock
    )
    request = authz.parse(
        {
            "response_type": "code",
            "client_id": PUBLIC_CLIENT,
            "redirect_uri": PUBLIC_CLIENT_SETTINGS["redirect_uris"][0],
            "code_challenge": pkce.challenge_of("v" * 50),
            "code_challenge_method": "S256",
        }
    )
    return authz.sign_in(request, "alice", PASSWORD, None).cookie_value


def _page(
    app: Any, context: Any, method: str, cookies: dict[str, str], form: dict[str, str] | None = None
) -> Any:
    event = sample_event("account_verify_refused.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/account/password"
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} /account/password"
    event["requestContext"]["http"]["method"] = method
    event["cookies"] = [f"{k}={v}" for k, v in cookies.items()]
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    event["body"] = urlencode(form or {}) if method == "POST" else None
    return app.lambda_handler(event, context)


def _set_cookies(response: Any) -> dict[str, str]:
    found = {}
    for line in response.get("cookies") or []:
        name, _, rest = line.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def _has_password(password: str) -> bool:
    user = UserStore("users").get("alice")
    assert user is not None
    try:
        FAST_HASHER.verify(password, user.password_hash)
    except Exception:  # noqa: BLE001 - any refusal
        return False
    return True


def _form_token(response: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response["body"])
    assert found, response["body"]
    return found.group(1)


@pytest.fixture
def signed_in(stack, account_app, lambda_context) -> dict[str, Any]:
    stack.add_user()
    session = _sign_in(stack)
    shown = _page(account_app, lambda_context, "GET", {JAR.session_name: session})
    assert shown["statusCode"] == 200, shown["body"]
    cookies = {JAR.session_name: session, **_set_cookies(shown)}
    return {"cookies": cookies, "token": _form_token(shown)}


def test_without_a_session_the_page_asks_to_sign_in_first(stack, account_app, lambda_context):
    stack.add_user()
    for method in ("GET", "POST"):
        response = _page(account_app, lambda_context, method, {}, {"current_password": PASSWORD})
        assert response["statusCode"] == 401 and "Sign in" in response["body"]
    forged = _page(account_app, lambda_context, "GET", {JAR.session_name: "x" * 43})
    assert forged["statusCode"] == 401


def test_the_signed_in_user_changes_the_password_and_every_session_ends(
    stack, account_app, lambda_context, signed_in
):
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": signed_in["token"]}
    done = _page(account_app, lambda_context, "POST", signed_in["cookies"], form)
    assert done["statusCode"] == 200 and "Password changed" in done["body"], done["body"]
    cleared = [c for c in done.get("cookies") or [] if c.startswith(JAR.session_name + "=")]
    assert cleared and "Max-Age=0" in cleared[0]
    assert _has_password(NEW_PASSWORD) and not _has_password(PASSWORD)
    # the session is over: the page asks to sign in again
    again = _page(account_app, lambda_context, "GET", signed_in["cookies"])
    assert again["statusCode"] == 401
    assert NEW_PASSWORD not in done["body"] and PASSWORD not in done["body"]


def test_a_wrong_current_password_or_a_weak_new_one_is_refused_on_the_page(
    stack, account_app, lambda_context, signed_in
):
    before = UserStore("users").get("alice")
    wrong = {
        "current_password": "not my password",
        "new_password": NEW_PASSWORD,
        "csrf_token": signed_in["token"],
    }
    refused = _page(account_app, lambda_context, "POST", signed_in["cookies"], wrong)
    assert refused["statusCode"] == 400 and "current password is not correct" in refused["body"]
    weak = {"current_password": PASSWORD, "new_password": "password", "csrf_token": signed_in["token"]}
    refused = _page(account_app, lambda_context, "POST", signed_in["cookies"], weak)
    assert refused["statusCode"] == 400
    assert UserStore("users").get("alice") == before  # nothing changed


def test_the_form_needs_its_csrf_token(stack, account_app, lambda_context, signed_in):
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": "forged"}
    refused = _page(account_app, lambda_context, "POST", signed_in["cookies"], form)
    assert refused["statusCode"] != 200 and "Password changed" not in refused["body"]
    assert _has_password(PASSWORD)
