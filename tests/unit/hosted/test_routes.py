"""Every route of the hosted function, through the real ``lambda_handler`` over the fake core."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest

from auth_core.errors import TemporarilyUnavailableError
from auth_core.hosted import csrf
from auth_core.hosted.pages import FAILED, THROTTLED
from tests.hosted_fake import (
    APP,
    PASSWORD,
    THIRD,
    USERNAME,
    FakeAuthorization,
    authorize_query,
    http_event,
    id_token_of,
)
from tests.unit.hosted.conftest import Page, cookie_pairs

Call = Callable[[dict[str, Any]], dict[str, Any]]


def sign_in_page(
    call: Call, query: str | None = None, cookies: list[str] | None = None
) -> tuple[Page, list[str]]:
    response = call(http_event("GET", "/authorize", query=query or authorize_query(), cookies=cookies))
    assert response["statusCode"] == 200, response["body"]
    return Page(response["body"]), (cookies or []) + cookie_pairs(response)


def post_form(call: Call, page: Page, cookies: list[str], **override: str) -> dict[str, Any]:
    fields = {**page.fields(), **override}
    return call(http_event("POST", page.action(), body=urlencode(fields), cookies=cookies))


def location(response: dict[str, Any]) -> tuple[str, dict[str, list[str]]]:
    assert response["statusCode"] == 302, response["body"]
    parts = urlsplit(response["headers"]["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def signed_in(call: Call, query: str | None = None) -> tuple[dict[str, Any], list[str]]:
    page, cookies = sign_in_page(call, query)
    response = post_form(call, page, cookies, username=USERNAME, password=PASSWORD)
    return response, cookies + cookie_pairs(response)


# --------------------------------------------------------------------------- GET /authorize
def test_no_session_shows_the_sign_in_page_with_a_csrf_cookie(call: Call) -> None:
    response = call(http_event("GET", "/authorize", query=authorize_query(login_hint="bob")))
    assert response["statusCode"] == 200
    page = Page(response["body"])
    assert page.fields()["username"] == "bob"  # login_hint pre-fills
    assert page.action() == "/authorize"
    [csrf_cookie] = response["cookies"]
    assert csrf_cookie.startswith("__Host-csrf=")
    assert "; Secure" in csrf_cookie and "; HttpOnly" in csrf_cookie and "SameSite=Lax" in csrf_cookie


def test_sign_in_then_a_code_then_single_sign_on(call: Call, fake: FakeAuthorization) -> None:
    response, cookies = signed_in(call)
    target, params = location(response)
    assert target == APP.redirect_uris[0]
    assert params["code"] == [fake.codes[-1]] and params["state"] == ["st-1"]
    assert params["iss"] == [fake.issuer]
    assert any(c.startswith("__Host-session=") and "; Secure" in c for c in response["cookies"])
    # a second request with the session cookie: no page, straight back with a new code
    again = call(http_event("GET", "/authorize", query=authorize_query(), cookies=cookies))
    assert location(again)[1]["code"] == [fake.codes[-1]] and len(fake.codes) == 2
    assert fake.calls.count("sign_in") == 1


def test_prompt_none_without_a_session_is_login_required(call: Call, fake: FakeAuthorization) -> None:
    response = call(http_event("GET", "/authorize", query=authorize_query(prompt="none")))
    target, params = location(response)
    assert target == APP.redirect_uris[0] and params["error"] == ["login_required"]
    assert params["state"] == ["st-1"]


def test_prompt_login_asks_again_despite_a_session(call: Call) -> None:
    _, cookies = signed_in(call)
    response = call(http_event("GET", "/authorize", query=authorize_query(prompt="login"), cookies=cookies))
    assert response["statusCode"] == 200 and "Sign in" in Page(response["body"]).words()


def test_signing_in_again_ends_the_browsers_previous_session(call: Call, fake: FakeAuthorization) -> None:
    _, cookies = signed_in(call)
    [old] = fake.sessions
    page, cookies = sign_in_page(call, authorize_query(prompt="login"), cookies)
    response = post_form(call, page, cookies, username=USERNAME, password=PASSWORD)
    assert response["statusCode"] == 302 and old not in fake.sessions and len(fake.sessions) == 1


def test_prompt_none_needing_consent_is_consent_required(call: Call, fake: FakeAuthorization) -> None:
    _, cookies = signed_in(call)
    query = authorize_query(THIRD, prompt="none")
    response = call(http_event("GET", "/authorize", query=query, cookies=cookies))
    assert location(response)[1]["error"] == ["consent_required"]


def test_no_redirect_error_is_a_page_not_a_redirect(call: Call) -> None:
    query = authorize_query(redirect_uri="https://evil.example/cb")
    response = call(http_event("GET", "/authorize", query=query))
    assert response["statusCode"] == 400 and "Location" not in response["headers"]
    assert "redirect_uri is not registered" in Page(response["body"]).words()


def test_redirect_error_goes_back_to_the_client(call: Call) -> None:
    response = call(http_event("GET", "/authorize", query=authorize_query(response_type="token")))
    target, params = location(response)
    assert target == APP.redirect_uris[0] and params["error"] == ["unsupported_response_type"]


def test_form_post_mode_answers_with_the_auto_submitting_page(call: Call, fake: FakeAuthorization) -> None:
    _, cookies = signed_in(call)
    query = authorize_query(response_mode="form_post")
    response = call(http_event("GET", "/authorize", query=query, cookies=cookies))
    assert response["statusCode"] == 200
    page = Page(response["body"])
    assert page.action() == APP.redirect_uris[0]
    assert page.fields() == {"code": fake.codes[-1], "state": "st-1", "iss": fake.issuer}
    csp = response["headers"]["Content-Security-Policy"]
    assert "form-action 'self' https://app.example.com" in csp and "script-src 'sha256-" in csp


@pytest.mark.parametrize("query", ["a=1&a=2", "client_id=%FF", "x" * 20000, "a=\x01"])
def test_malformed_queries_are_an_error_page(call: Call, fake: FakeAuthorization, query: str) -> None:
    response = call(http_event("GET", "/authorize", query=query))
    assert response["statusCode"] == 400
    assert "parse" not in fake.calls


# --------------------------------------------------------------------------- POST /authorize
def test_wrong_password_and_unknown_user_get_the_same_message(call: Call) -> None:
    page, cookies = sign_in_page(call)
    answers = []
    for username, password in ((USERNAME, "wrong"), ("nobody", "wrong"), (USERNAME, "")):
        response = post_form(call, page, cookies, username=username, password=password)
        assert response["statusCode"] == 200
        again = Page(response["body"])
        assert FAILED in again.words()
        assert again.fields()["password"] == ""  # never echoed
        answers.append(again.words().replace(username, "USER"))
    assert answers[0] == answers[1] == answers[2]


def test_an_empty_password_is_no_sign_in_attempt(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = sign_in_page(call)
    post_form(call, page, cookies, username=USERNAME, password="")
    assert "sign_in" not in fake.calls


def test_throttled_sign_in_is_a_429_with_retry_after(call: Call, fake: FakeAuthorization) -> None:
    fake.throttled = True
    page, cookies = sign_in_page(call)
    response = post_form(call, page, cookies, username=USERNAME, password=PASSWORD)
    assert response["statusCode"] == 429 and response["headers"]["Retry-After"] == "30"
    assert THROTTLED in Page(response["body"]).words()


@pytest.mark.parametrize("case", ["no token", "no cookie", "other cookie", "other request", "edited field"])
def test_csrf_failures_are_an_error_page_and_never_a_sign_in(
    call: Call, fake: FakeAuthorization, case: str
) -> None:
    page, cookies = sign_in_page(call)
    fields = {**page.fields(), "username": USERNAME, "password": PASSWORD}
    if case == "no token":
        del fields["csrf_token"]
    elif case == "no cookie":
        cookies = []
    elif case == "other cookie":
        cookies = ["__Host-csrf=" + "A" * 43]
    elif case == "other request":  # a token from a page of another authorization request
        other, _ = sign_in_page(call, authorize_query(state="other"), cookies)
        fields["csrf_token"] = other.fields()["csrf_token"]
    else:
        fields["scope"] = "openid profile write"
    response = call(http_event("POST", "/authorize", body=urlencode(fields), cookies=cookies))
    assert response["statusCode"] == 400
    assert "expired or was not sent from this site" in Page(response["body"]).words()
    assert "sign_in" not in fake.calls


def test_a_base64_form_body_is_read(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = sign_in_page(call)
    fields = {**page.fields(), "username": USERNAME, "password": PASSWORD}
    event = http_event("POST", "/authorize", body=urlencode(fields), cookies=cookies, base64_body=True)
    assert location(call(event))[1]["code"] == [fake.codes[-1]]


def test_an_oversized_body_is_refused(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = sign_in_page(call)
    response = post_form(call, page, cookies, username=USERNAME, password="p" * 20000)
    assert response["statusCode"] == 400 and "sign_in" not in fake.calls


# --------------------------------------------------------------------------- consent
def consent_page(call: Call, **extra: str) -> tuple[Page, list[str]]:
    response, cookies = signed_in(call, authorize_query(THIRD, scope="openid read", **extra))
    assert response["statusCode"] == 200, response
    page = Page(response["body"])
    assert page.action() == "/authorize/consent"
    return page, cookies


def test_consent_allow_issues_a_code_and_is_remembered(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = consent_page(call)
    assert "third-party" in page.words() and "read" in page.words()
    response = post_form(call, page, cookies, action="allow")
    target, params = location(response)
    assert target == THIRD.redirect_uris[0] and params["code"] == [fake.codes[-1]]
    again = call(http_event("GET", "/authorize", query=authorize_query(THIRD), cookies=cookies))
    assert location(again)[1]["code"] == [fake.codes[-1]]


def test_consent_deny_is_access_denied(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = consent_page(call)
    _, params = location(post_form(call, page, cookies, action="deny"))
    assert params["error"] == ["access_denied"] and "grant_consent" not in fake.calls


def test_consent_needs_its_csrf_token(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = consent_page(call)
    response = post_form(call, page, cookies, action="allow", csrf_token="x")
    assert response["statusCode"] == 400 and "grant_consent" not in fake.calls


def test_consent_after_the_session_ended_asks_to_sign_in(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = consent_page(call)
    fake.sessions.clear()
    response = post_form(call, page, cookies, action="allow")
    assert response["statusCode"] == 200 and Page(response["body"]).action() == "/authorize"


def test_the_sign_in_pages_fields_posted_as_consent_get_no_code(call: Call, fake: FakeAuthorization) -> None:
    """Someone at a signed-in browser, asked to sign in again (prompt=login), cannot post the
    sign-in page's hidden fields as an Allow: its token is a sign-in page's (review finding)."""
    _, cookies = signed_in(call, authorize_query(THIRD))
    page, cookies = sign_in_page(call, authorize_query(THIRD, prompt="login"), cookies)
    issued = fake.calls.count("issue_code")
    response = call(
        http_event(
            "POST",
            "/authorize/consent",
            body=urlencode({**page.fields(), "action": "allow"}),
            cookies=cookies,
        )
    )
    assert response["statusCode"] == 400 and fake.calls.count("issue_code") == issued
    assert "grant_consent" not in fake.calls


def test_prompt_login_signs_in_then_consents_without_a_loop(call: Call, fake: FakeAuthorization) -> None:
    """After the sign-in prompt=login asked for, the consent page and its Allow re-check
    needs_login and find it met (the sign-in was for this request)."""
    _, cookies = signed_in(call, authorize_query(APP))
    page, cookies = consent_page(call, prompt="login")
    response = post_form(call, page, cookies, action="allow")
    assert location(response)[1]["code"] == [fake.codes[-1]]


def test_consent_re_checks_the_login_the_session_must_still_meet(call: Call, fake: FakeAuthorization) -> None:
    page, cookies = consent_page(call)
    fake.needs_login = lambda *_a, **_k: True  # type: ignore[method-assign]  # e.g. max_age ran out
    response = post_form(call, page, cookies, action="allow")
    assert response["statusCode"] == 200 and Page(response["body"]).action() == "/authorize"
    assert "issue_code" not in fake.calls and "grant_consent" not in fake.calls


def test_allow_without_a_consent_to_ask_records_none(call: Call, fake: FakeAuthorization) -> None:
    """A first-party client never needs consent: a (forged-by-the-test) consent form for it
    issues the code, after every check, without recording a consent."""
    _, cookies = signed_in(call, authorize_query(APP))
    secret = next(c.split("=", 1)[1] for c in cookies if c.startswith("__Host-csrf="))
    session = next(c.split("=", 1)[1] for c in cookies if c.startswith("__Host-session="))
    fields = dict(parse_qsl(authorize_query(APP)))
    token = csrf.form_token(secret, csrf.CONSENT, fields, session=session)
    body = urlencode({**fields, "csrf_token": token, "action": "allow"})
    answer = call(http_event("POST", "/authorize/consent", body=body, cookies=cookies))
    assert location(answer)[1]["code"] == [fake.codes[-1]] and "grant_consent" not in fake.calls


def test_an_unknown_consent_action_is_an_error_page(call: Call) -> None:
    page, cookies = consent_page(call)
    assert post_form(call, page, cookies, action="maybe")["statusCode"] == 400


# --------------------------------------------------------------------------- logout
def test_logout_with_the_sessions_own_hint_ends_it_at_once(call: Call, fake: FakeAuthorization) -> None:
    _, cookies = signed_in(call)
    [session] = fake.sessions.values()
    query = urlencode({"id_token_hint": id_token_of(session)})
    response = call(http_event("GET", "/logout", query=query, cookies=cookies))
    assert response["statusCode"] == 200 and "Signed out" in Page(response["body"]).words()
    assert any(c.startswith("__Host-session=;") and "Max-Age=0" in c for c in response["cookies"])
    assert not fake.sessions


@pytest.mark.parametrize("hint", [None, "id-token-of-someone-else"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_logout_without_the_sessions_own_hint_asks_first(
    call: Call, fake: FakeAuthorization, hint: str | None, method: str
) -> None:
    """RP-Initiated Logout §2: a bare /logout, or one with another user's hint (a link or form on
    any site: the session cookie is Lax), only shows a confirmation; nothing ends, no redirect."""
    _, cookies = signed_in(call)
    params = {"post_logout_redirect_uri": APP.post_logout_redirect_uris[0], "client_id": APP.client_id}
    encoded = urlencode({**params, **({"id_token_hint": hint} if hint else {})})
    event = (
        http_event("GET", "/logout", query=encoded, cookies=cookies)
        if method == "GET"
        else http_event("POST", "/logout", body=encoded, cookies=cookies)
    )
    response = call(event)
    page = Page(response["body"])
    assert response["statusCode"] == 200 and "Sign out?" in page.words()
    assert page.action() == "/logout" and page.fields()["csrf_token"]
    assert "end_session" not in fake.calls and len(fake.sessions) == 1
    assert not any(c.startswith("__Host-session=;") for c in response["cookies"])
    # "Sign out" ends it (and the registered redirect is then followed, by the core's rule)
    confirmed = post_form(call, page, cookies + cookie_pairs(response), action="logout")
    assert location(confirmed)[0] == APP.post_logout_redirect_uris[0] and not fake.sessions


def test_logout_confirmation_stay_or_a_forged_answer_ends_nothing(
    call: Call, fake: FakeAuthorization
) -> None:
    _, cookies = signed_in(call)
    response = call(http_event("GET", "/logout", cookies=cookies))
    page = Page(response["body"])
    stay = post_form(call, page, cookies, action="stay")
    assert stay["statusCode"] == 200 and "Still signed in" in Page(stay["body"]).words()
    forged = post_form(call, page, cookies, action="logout", csrf_token="forged")
    assert forged["statusCode"] == 400
    # a sign-in page's token is not a logout confirmation's
    sign_in, cookies = sign_in_page(call, authorize_query(prompt="login"), cookies)
    body = urlencode({"csrf_token": sign_in.fields()["csrf_token"], "action": "logout"})
    assert call(http_event("POST", "/logout", body=body, cookies=cookies))["statusCode"] == 400
    assert "end_session" not in fake.calls and len(fake.sessions) == 1


def test_logout_redirects_to_a_registered_uri(call: Call) -> None:
    query = urlencode(
        {"client_id": "spa", "post_logout_redirect_uri": "https://app.example.com/bye", "state": "s"}
    )
    target, params = location(call(http_event("GET", "/logout", query=query)))
    assert target == "https://app.example.com/bye" and params["state"] == ["s"]


def test_logout_post_with_a_form_or_no_body(call: Call) -> None:
    body = urlencode({"client_id": "spa", "post_logout_redirect_uri": "https://app.example.com/bye"})
    assert call(http_event("POST", "/logout", body=body))["statusCode"] == 302
    assert call(http_event("POST", "/logout"))["statusCode"] == 200


def test_logout_to_an_unregistered_uri_is_an_error_page(call: Call) -> None:
    query = urlencode({"client_id": "spa", "post_logout_redirect_uri": "https://evil.example/"})
    response = call(http_event("GET", "/logout", query=query))
    assert response["statusCode"] == 400 and "Location" not in response["headers"]


# --------------------------------------------------------------------------- PAR
def test_par_is_json_201(call: Call) -> None:
    response = call(http_event("POST", "/par", body=authorize_query()))
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert response["headers"]["Cache-Control"] == "no-store"


def test_par_errors_are_oauth_json(call: Call) -> None:
    response = call(http_event("POST", "/par", body=authorize_query(client_id="nobody")))
    assert response["statusCode"] == 401 and json.loads(response["body"]) == {"error": "invalid_client"}


# --------------------------------------------------------------------------- methods, failures
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/authorize", "GET, POST"),
        ("GET", "/authorize/consent", "POST"),
        ("DELETE", "/logout", "GET, POST"),
        ("PUT", "/authorize/mfa/setup", "GET, POST"),
    ],
)
def test_other_methods_are_405_pages(call: Call, method: str, path: str, allow: str) -> None:
    response = call(http_event(method, path))
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == allow
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


def test_the_mfa_setup_page_without_mfa_is_a_readable_404(call: Call) -> None:
    """A core without the second factor (this fake) has no self-service page: a page, no trace."""
    response = call(http_event("GET", "/authorize/mfa/setup"))
    assert response["statusCode"] == 404 and "not available" in response["body"]
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


def test_par_other_methods_are_405_json(call: Call) -> None:
    response = call(http_event("GET", "/par"))
    assert response["statusCode"] == 405 and response["headers"]["Allow"] == "POST"


def test_an_unexpected_failure_is_a_plain_500_page(call: Call, fake: FakeAuthorization) -> None:
    fake.broken = RuntimeError("internal detail /var/task/secret.py")
    response = call(http_event("GET", "/authorize", query=authorize_query()))
    assert response["statusCode"] == 500
    assert "internal detail" not in response["body"] and "Traceback" not in response["body"]
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


def test_an_outage_is_a_503_page_with_retry_after(call: Call, fake: FakeAuthorization) -> None:
    fake.broken = TemporarilyUnavailableError(reason="store_unavailable")
    response = call(http_event("GET", "/authorize", query=authorize_query()))
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"]


# --------------------------------------------------------------------------- cookies, paths, logs
def test_plain_http_local_stack_uses_bare_cookie_names(call: Call) -> None:
    event = http_event("GET", "/authorize", query=authorize_query(), domain="127.0.0.1:3000")
    [cookie] = call(event)["cookies"]
    assert cookie.startswith("csrf=") and "Secure" not in cookie


def test_a_named_stage_keeps_its_prefix_in_form_actions(call: Call) -> None:
    event = http_event("GET", "/prod/authorize", query=authorize_query())
    event["requestContext"]["stage"] = "prod"
    response = call(event)
    assert Page(response["body"]).action() == "/prod/authorize"


def test_logs_never_carry_passwords_cookies_codes_or_csrf_tokens(
    call: Call, fake: FakeAuthorization, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    page, cookies = sign_in_page(call)
    post_form(call, page, cookies, username=USERNAME, password="wrong-password-xyz")
    _, cookies = signed_in(call)
    [session] = fake.sessions.values()
    call(
        http_event(
            "GET", "/logout", query=urlencode({"id_token_hint": id_token_of(session)}), cookies=cookies
        )
    )
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    secrets_seen = [PASSWORD, "wrong-password-xyz", page.fields()["csrf_token"], *fake.codes]
    secrets_seen += [c.split("=", 1)[1] for c in cookies]
    assert "sign-in failed" in logged
    assert not [s for s in secrets_seen if s in logged]


# --------------------------------------------------------------------------- POST /authorize/mfa
def test_a_second_factor_page_then_a_code(call: Call, fake: FakeAuthorization) -> None:
    fake.mfa_codes[USERNAME] = "123456"
    response, cookies = signed_in(call)
    assert response["statusCode"] == 200 and not any(
        c.startswith("__Host-session=") for c in response["cookies"]
    )
    page = Page(response["body"])
    assert page.action() == "/authorize/mfa" and "Two-step verification" in page.words()
    wrong = post_form(call, page, cookies, code="654321")
    assert wrong["statusCode"] == 200 and "not valid" in Page(wrong["body"]).words()
    # the page's CSRF token is bound to its ticket: another ticket under it is refused
    calls = len(fake.calls)
    forged = post_form(call, page, cookies, mfa_ticket="another-ticket-0123456789", code="123456")
    assert forged["statusCode"] == 400 and len(fake.calls) == calls
    done = post_form(call, Page(wrong["body"]), cookies, code="123456")
    target, params = location(done)
    assert target == APP.redirect_uris[0] and params["code"] == [fake.codes[-1]]
    assert any(c.startswith("__Host-session=") for c in done["cookies"])
    [session] = fake.sessions.values()
    assert session.amr == ("pwd", "otp", "mfa")


def test_a_second_factor_from_another_browser_goes_back_to_the_password(
    call: Call, fake: FakeAuthorization
) -> None:
    fake.mfa_codes[USERNAME] = "123456"
    response, _cookies = signed_in(call)
    page = Page(response["body"])
    _other_page, other_cookies = sign_in_page(call)  # another browser's CSRF secret
    # its own valid CSRF token for this ticket, computed under its own secret (a thief's best case)
    secret = next(c.split("=", 1)[1] for c in other_cookies if c.startswith("__Host-csrf="))
    fields = {k: v for k, v in page.fields().items() if k not in ("csrf_token", "mfa_ticket", "code")}
    token = csrf.form_token(secret, csrf.MFA, fields, session=page.fields()["mfa_ticket"])
    stolen = post_form(call, page, other_cookies, csrf_token=token, code="123456")
    assert stolen["statusCode"] == 200 and "Sign in again" in stolen["body"]
    assert not fake.sessions


def test_a_throttled_or_expired_second_step(call: Call, fake: FakeAuthorization) -> None:
    fake.mfa_codes[USERNAME] = "123456"
    response, cookies = signed_in(call)
    page = Page(response["body"])
    fake.throttled = True
    throttled = post_form(call, page, cookies, code="123456")
    assert throttled["statusCode"] == 429 and throttled["headers"]["Retry-After"] == "30"
    assert (
        THROTTLED in Page(throttled["body"]).words() and Page(throttled["body"]).action() == "/authorize/mfa"
    )
    fake.throttled = False
    fake.tickets.clear()  # the pending sign-in expired meanwhile
    expired = post_form(call, page, cookies, code="123456")
    assert expired["statusCode"] == 200 and Page(expired["body"]).action() == "/authorize"
    assert "Sign in again" in expired["body"] and not fake.sessions
