"""Self-service two-step verification (``/authorize/mfa/setup``) through the real
:class:`HostedEndpoint` and :class:`AuthorizationService` on moto: a signed-in user under the
default ``optional`` policy enrols TOTP (after which sign-ins ask for a code) and replaces the
recovery codes; the refusals (no session, wrong code, CSRF from another page, session or site);
and the race of an enrolment against the end of its session."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from auth_core.mfa import totp
from auth_core.oauth.authorize import AuthorizationService
from auth_core.stores.mfa import MfaStore
from tests.functional.oauth.test_hosted_iam import (
    _cookies,
    _Fields,
    _jar,
    _query,
    _sign_in,
    recorded,  # noqa: F401 - the fixture
)
from tests.hosted_fake import http_event

ROUTE = "/authorize/mfa/setup"
#: the cookies' names on https (the issuer of these tests)
SESSION, CSRF = "__Host-session", "__Host-csrf"


@pytest.fixture
def hosted(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("recorded")[1]


@pytest.fixture
def authz(hosted: Any) -> AuthorizationService:
    return hosted._service()


def get(hosted: Any, jar: dict[str, str]) -> tuple[Any, dict[str, str]]:
    page = hosted.mfa_setup(http_event("GET", ROUTE, cookies=_cookies(jar)))
    return page, _jar(page, jar)


def post(hosted: Any, page: Any, jar: dict[str, str], **fields: str) -> tuple[Any, dict[str, str]]:
    form = {**_Fields(page.body).fields, **fields}
    done = hosted.mfa_setup(http_event("POST", ROUTE, body=urlencode(form), cookies=_cookies(jar)))
    return done, _jar(done, jar)


def signed_in(hosted: Any) -> dict[str, str]:
    """A browser signed in through the ``web`` client (policy ``optional``: no second factor)."""
    done, jar = _sign_in(hosted, _query(), {})
    assert done.status_code == 302 and "code=" in done.headers["Location"], done.body
    assert SESSION in jar
    return jar


def sign_out(authz: AuthorizationService, jar: dict[str, str]) -> None:
    authz.end_session(
        jar[SESSION], id_token_hint=None, client_id=None, post_logout_redirect_uri=None, state=None
    )


def before_first(owner: Any, name: str, other: Any) -> dict[str, Any]:
    """Make ``owner.name`` run ``other()`` to its end the first time it is called, then itself:
    another tab's request landing between this one's checks and its commit. The answer of
    ``other`` is in the returned dict's ``"other"``."""
    real = getattr(owner, name)
    results: dict[str, Any] = {}

    def interleaved(*args: Any, **kwargs: Any) -> Any:
        if "other" not in results:
            results["other"] = "running"
            results["other"] = other()
        return real(*args, **kwargs)

    setattr(owner, name, interleaved)
    return results


def shown(html: str) -> tuple[str, list[str]]:
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', html)
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>", html)
    assert len(codes) == 10, html
    return (secret.group(1) if secret else ""), codes


def enrolled_browser(hosted: Any, clock: Any) -> tuple[dict[str, str], str, list[str]]:
    jar = signed_in(hosted)
    page, jar = get(hosted, jar)
    secret, codes = shown(page.body)
    done, jar = post(hosted, page, jar, code=totp.code_at(secret, int(clock()) // totp.STEP))
    assert done.status_code == 200 and "Two-step verification is on" in done.body, done.body
    return jar, secret, codes


def test_a_signed_in_user_enrols_and_the_next_sign_in_asks_for_the_code(hosted, clock, audit):
    jar = signed_in(hosted)
    page, jar = get(hosted, jar)
    assert page.status_code == 200 and "Set up two-step verification" in page.body
    assert "<svg" in page.body and "<script" not in page.body
    assert page.headers["Cache-Control"] == "no-store"
    secret, _ = shown(page.body)
    assert MfaStore("users").get("alice").enrolled is False  # nothing stored before a code
    step = int(clock()) // totp.STEP
    wrong, jar = post(hosted, page, jar, code=totp.code_at(secret, step + 5))
    assert wrong.status_code == 400 and "not valid" in wrong.body
    assert shown(wrong.body)[0] == secret  # the same pending enrolment, shown again
    done, jar = post(hosted, wrong, jar, code=totp.code_at(secret, step))
    assert done.status_code == 200 and "Two-step verification is on" in done.body
    assert MfaStore("users").get("alice").enrolled
    assert "MfaEnrolled" in [e[0] for e in audit.events]
    # the page now shows the status, not a new secret
    status, jar = get(hosted, jar)
    assert "10 recovery codes left" in status.body and "totp-secret" not in status.body
    # a later sign-in (a new browser) asks for the code, and the code of a new step passes
    clock.advance(30)
    challenge, jar2 = _sign_in(hosted, _query(), {})
    assert challenge.status_code == 200 and "Two-step verification" in challenge.body
    fields = {**_Fields(challenge.body).fields, "code": totp.code_at(secret, step + 1)}
    after = hosted.second_factor(
        http_event("POST", "/authorize/mfa", body=urlencode(fields), cookies=_cookies(jar2))
    )
    assert after.status_code == 302 and "code=" in after.headers["Location"]


def test_without_a_session_the_page_says_sign_in_first(hosted):
    page, _ = get(hosted, {})
    assert page.status_code == 401 and "Sign in first" in page.body
    forged = hosted.mfa_setup(http_event("GET", ROUTE, cookies=[f"{SESSION}=" + "x" * 43]))
    assert forged.status_code == 401


def test_a_session_ended_after_the_page_was_shown_cannot_enrol(hosted, authz, clock):
    jar = signed_in(hosted)
    page, jar = get(hosted, jar)
    secret, _ = shown(page.body)
    sign_out(authz, jar)
    done, _ = post(hosted, page, jar, code=totp.code_at(secret, int(clock()) // totp.STEP))
    assert done.status_code == 401 and "Sign in first" in done.body
    assert not MfaStore("users").get("alice").enrolled


def test_forms_from_another_page_session_or_site_are_refused(hosted, clock):
    jar = signed_in(hosted)
    page, jar = get(hosted, jar)
    secret, _ = shown(page.body)
    code = totp.code_at(secret, int(clock()) // totp.STEP)
    no_cookie, _ = post(hosted, page, {SESSION: jar[SESSION]}, code=code)  # a cross-site post
    assert no_cookie.status_code == 400 and "expired or was not sent from this site" in no_cookie.body
    other = signed_in(hosted)  # the same user's other browser session, same CSRF secret
    other_session, _ = post(hosted, page, {**jar, SESSION: other[SESSION]}, code=code)
    assert other_session.status_code == 400
    sign_in_page = hosted.authorize(http_event("GET", "/authorize", query=_query(), cookies=_cookies(jar)))
    assert sign_in_page.status_code == 302  # signed in: no form; the token of a sign-in form, then
    from auth_core.hosted import csrf

    sign_in_token = csrf.form_token(jar[CSRF], csrf.SIGN_IN, {"action": "enrol", "mfa_ticket": ""})
    wrong_purpose, _ = post(hosted, page, jar, code=code, csrf_token=sign_in_token)
    assert wrong_purpose.status_code == 400
    tampered, _ = post(hosted, page, jar, code=code, mfa_ticket="another-ticket")
    assert tampered.status_code == 400
    assert not MfaStore("users").get("alice").enrolled
    done, _ = post(hosted, page, jar, code=code)  # the genuine form still works
    assert done.status_code == 200


def test_recovery_codes_are_replaced_against_a_fresh_code(hosted, clock):
    jar, secret, old_codes = enrolled_browser(hosted, clock)
    step = int(clock()) // totp.STEP
    status, jar = get(hosted, jar)
    replayed, jar = post(hosted, status, jar, code=totp.code_at(secret, step))  # used by the enrolment
    assert replayed.status_code == 400 and "not valid" in replayed.body
    recovery_code, jar = post(hosted, replayed, jar, code=old_codes[0])
    assert recovery_code.status_code == 400
    clock.advance(30)
    done, jar = post(hosted, recovery_code, jar, code=totp.code_at(secret, step + 1))
    assert done.status_code == 200 and "New recovery codes" in done.body
    _, new_codes = shown(done.body)
    assert not set(new_codes) & set(old_codes)
    # a sign-in: an old recovery code is refused, a new one works
    clock.advance(30)
    challenge, jar2 = _sign_in(hosted, _query(), {})
    for code, status_code in ((old_codes[1], 200), (new_codes[0], 302)):
        fields = {**_Fields(challenge.body).fields, "code": code}
        challenge = hosted.second_factor(
            http_event("POST", "/authorize/mfa", body=urlencode(fields), cookies=_cookies(jar2))
        )
        assert challenge.status_code == status_code, challenge.body


def test_an_enrolment_racing_the_end_of_its_session_does_not_commit(hosted, authz, clock):
    """Deterministic interleaving: the code is right and the enrolment is about to commit when
    the session is signed out (another tab). The transaction re-checks the session: no factor
    is stored, the ticket stays unused, and the page says to sign in."""
    jar = signed_in(hosted)
    page, jar = get(hosted, jar)
    secret, _ = shown(page.body)
    before_first(authz.mfa.pending, "complete", lambda: sign_out(authz, jar))  # type: ignore[union-attr]
    done, _ = post(hosted, page, jar, code=totp.code_at(secret, int(clock()) // totp.STEP))
    assert done.status_code == 401
    assert not MfaStore("users").get("alice").enrolled


def test_two_tabs_enrolling_at_once_store_one_factor(hosted, clock):
    """Deterministic interleaving: tab A's code is right and its enrolment is about to commit
    when tab B (another setup page of the same session) commits its own. A's transaction fails
    on "no factor yet": the factor is B's, and A's page shows the status instead."""
    jar = signed_in(hosted)
    page_a, jar = get(hosted, jar)
    page_b, jar = get(hosted, jar)
    secret_a, _ = shown(page_a.body)
    secret_b, _ = shown(page_b.body)
    assert secret_a != secret_b
    step = int(clock()) // totp.STEP
    store = MfaStore("users")
    results = before_first(
        hosted._service().mfa.pending,
        "complete",
        lambda: post(hosted, page_b, jar, code=totp.code_at(secret_b, step))[0],
    )
    done_a, _ = post(hosted, page_a, jar, code=totp.code_at(secret_a, step))
    assert results["other"].status_code == 200 and "Two-step verification is on" in results["other"].body
    assert done_a.status_code == 200 and "recovery codes left" in done_a.body
    assert store.get("alice").secret == secret_b


def test_one_code_replacing_recovery_codes_twice_at_once_passes_once(hosted, authz, clock):
    """Deterministic interleaving: two tabs post the same fresh code to replace the recovery
    codes; B commits between A's check and A's commit. A's write fails on the step's condition:
    one set of new codes exists, B's."""
    jar, secret, _ = enrolled_browser(hosted, clock)
    clock.advance(30)
    step = int(clock()) // totp.STEP
    status_a, jar = get(hosted, jar)
    status_b, jar = get(hosted, jar)
    results = before_first(
        authz.mfa.mfa,  # type: ignore[union-attr]
        "commit",
        lambda: post(hosted, status_b, jar, code=totp.code_at(secret, step))[0],
    )
    done_a, _ = post(hosted, status_a, jar, code=totp.code_at(secret, step))
    assert results["other"].status_code == 200 and "New recovery codes" in results["other"].body
    assert done_a.status_code == 400 and "not valid" in done_a.body
    _, codes_b = shown(results["other"].body)
    from auth_core.mfa import recovery

    state = MfaStore("users").get("alice")
    user_id = authz.users.get("alice").subject  # type: ignore[union-attr]
    assert state.recovery_hashes == {recovery.hash_code(user_id, c) for c in codes_b}
