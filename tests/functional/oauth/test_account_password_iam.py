"""The hosted change-password page's DynamoDB calls are all allowed by AccountFunction's role
as the expanded template states it (the method of ``test_hosted_iam``): the SSO session and
global cut-off reads, the sign-in path's password check and the end of every session."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from auth_core.hosted.branding import Branding
from tests.functional.oauth.conftest import CODE_FLOW_CB, FAST_HASHER, ISS, PASSWORD
from tests.functional.oauth.test_hosted_iam import (
    TEMPLATE,
    Recorder,
    _cookies,
    _Fields,
    _jar,
    allowed,
    iam,
)
from tests.hosted_fake import http_event

PAGE = "/account/password"


def test_every_dynamodb_call_of_the_change_password_page_is_allowed_by_its_role(
    browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth_core import aws
    from auth_core.accounts.endpoint import AccountEndpoint
    from auth_core.accounts.service import AccountService
    from auth_core.mail import Mailer
    from auth_core.oauth import pkce
    from auth_core.oauth.authorize import AuthorizationService
    from tests.functional.oauth.test_self_service import NEW_PASSWORD, Outbox

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    policy = iam.grants(iam._roles(iam.expand(TEMPLATE.read_text()))["AccountFunction"])
    settings = browser.settings(key_fetch_strategy="sdk")
    # alice signs in on the hosted pages (the authorize function's calls: not recorded)
    authz = AuthorizationService.from_settings(settings, hasher=FAST_HASHER, clock=time.time)
    request = authz.parse(
        {
            "response_type": "code",
            "client_id": "web",
            "redirect_uri": CODE_FLOW_CB,
            "scope": "openid",
            "code_challenge": pkce.challenge_of("q" * 64),
            "code_challenge_method": "S256",
        }
    )
    jar = {"__Host-session": authz.sign_in(request, "alice", PASSWORD, None).cookie_value}
    core = replace(
        AccountService.from_settings(settings, mailer=Mailer("no-reply@example.com", transport=Outbox())),
        hasher=FAST_HASHER,
    )
    endpoint = AccountEndpoint(
        lambda: core, Branding.from_settings(settings), issuer=ISS, logger=logging.getLogger("test")
    )
    recorder = Recorder()
    ddb = aws.client("dynamodb")
    ddb.meta.events.register("provide-client-params.dynamodb.*", recorder)
    try:
        page = endpoint.page(PAGE, http_event("GET", PAGE, cookies=_cookies(jar)))
        assert page.status_code == 200, page.body
        jar = _jar(page, jar)
        fields = {**_Fields(page.body).fields, "current_password": PASSWORD, "new_password": NEW_PASSWORD}
        done = endpoint.page(PAGE, http_event("POST", PAGE, body=urlencode(fields), cookies=_cookies(jar)))
        assert done.status_code == 200 and "Password changed" in done.body, done.body
    finally:
        ddb.meta.events.unregister("provide-client-params.dynamodb.*", recorder)
    assert any(call[2] and call[2].startswith("sso#") for call in recorder.calls)
    refused = sorted({call for call in recorder.calls if not allowed(call, policy)}, key=str)
    assert not refused, f"AccountFunction's role would refuse: {refused}"
