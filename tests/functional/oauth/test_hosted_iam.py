"""The hosted function's role allows every DynamoDB call its flows make (moto enforces no IAM).

Each flow of the hosted pages -- a failed and a good sign-in, single sign-on, a pushed request
with a DPoP proof, consent (Allow), logout with a matching ``id_token_hint`` -- runs under moto
through the real :class:`HostedEndpoint` and :class:`AuthorizationService`, on a DynamoDB client that records
every call (operation, table, partition key; a transaction's items one by one, as IAM
authorises them). Each call must be allowed by ``AuthorizeFunction``'s policy as the
*expanded* template states it (``tests/unit/template/test_iam_expanded.py``): action, table or
index, and ``dynamodb:LeadingKeys``. A call the role lacks would be a 503 in AWS only.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest

from auth_core.hosted.branding import Branding
from auth_core.hosted.endpoint import HostedEndpoint
from auth_core.oauth import pkce
from auth_core.oauth.authorize import AuthorizationService
from auth_core.oauth.request import ClientCredentials, OAuthRequest
from tests.dpop_client import DPoPKey
from tests.functional.oauth.conftest import CODE_FLOW_CB, FAST_HASHER, ISS, PASSWORD, TABLES
from tests.hosted_fake import http_event
from tests.unit.template.cfn import TEMPLATE

iam = pytest.importorskip("tests.unit.template.test_iam_expanded", reason="aws-sam-translator")

CB = CODE_FLOW_CB
VERIFIER = "q" * 64
#: a transaction's items are authorised as these actions, each on its own item
TX_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
LOGICAL = {
    TABLES["users_table"][0]: iam.USERS,
    TABLES["clients_table"][0]: iam.CLIENTS,
    TABLES["sessions_table"][0]: iam.SESSIONS,
    TABLES["revocations_table"][0]: iam.REVOCATIONS,
}

#: granted, and called, but not by these flows: a rehash on login and the one-time user_id
NOT_EXERCISED = {(iam.UPDATE, iam.USERS, None)}

Call = tuple[str, str, str | None]  # (dynamodb:Action, table or table/index/Name, partition key)


class Recorder:
    """A ``provide-client-params`` hook: every DynamoDB call, as IAM sees it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        if op == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                self._one(TX_ACTIONS[kind], body["TableName"], body.get("Key") or body.get("Item"))
        elif op == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    self._one(op, table, key)
        elif op == "Query":
            self.calls.append(
                (f"dynamodb:{op}", f"{LOGICAL[params['TableName']]}/index/{params['IndexName']}", None)
            )
        else:
            self._one(op, params["TableName"], params.get("Key") or params.get("Item"))

    def _one(self, op: str, table: str, key: dict[str, Any] | None) -> None:
        pk = next(iter(key.values()))["S"] if key else None
        self.calls.append((f"dynamodb:{op}", LOGICAL[table], pk))


def allowed(call: Call, grants: set[Any]) -> bool:
    action, resource, pk = call
    for g_action, g_resource, keys in grants:
        if g_action != action or g_resource != resource:
            continue
        if keys is None or (pk is not None and any(fnmatch.fnmatchcase(pk, k) for k in keys)):
            return True
    return False


class _Fields(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.fields[str(named["name"])] = named.get("value") or ""


def _jar(response: Any, jar: dict[str, str]) -> dict[str, str]:
    out = dict(jar)
    for cookie in response.cookies or []:
        name, _, value = cookie.split(";", 1)[0].partition("=")
        if "Max-Age=0" in cookie:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _cookies(jar: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in jar.items()]


def _query(client: str = "web", redirect: str = CB, **extra: str) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": client,
            "redirect_uri": redirect,
            "scope": "openid read",
            "state": "st",
            "nonce": "n-1",
            "code_challenge": pkce.challenge_of(VERIFIER),
            "code_challenge_method": "S256",
            **extra,
        }
    )


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> set[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    roles = iam._roles(iam.expand(TEMPLATE.read_text()))
    return iam.grants(roles["AuthorizeFunction"])


@pytest.fixture
def recorded(browser: Any, clock: Any, audit: Any) -> Iterator[tuple[Recorder, Any]]:
    stack = browser
    stack.add_client(
        "conf",
        secret="c" * 43,
        grants=("authorization_code",),
        scopes=("read",),
        redirect_uris=(CB,),
        first_party=True,
    )
    recorder = Recorder()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.meta.events.register("provide-client-params.dynamodb.*", recorder)
    settings = stack.settings(key_fetch_strategy="sdk")
    authz = AuthorizationService.from_settings(
        settings, audit=audit, clock=clock, hasher=FAST_HASHER, dynamodb=ddb
    )
    hosted = HostedEndpoint(
        lambda: authz, Branding.from_settings(settings), issuer=ISS, logger=logging.getLogger("test")
    )
    yield recorder, hosted


def _sign_in(
    hosted: HostedEndpoint, query: str, jar: dict[str, str], password: str = PASSWORD
) -> tuple[Any, dict]:
    page = hosted.authorize(http_event("GET", "/authorize", query=query, cookies=_cookies(jar)))
    jar = _jar(page, jar)
    assert page.status_code == 200, page.body
    fields = {**_Fields(page.body).fields, "username": "alice", "password": password}
    done = hosted.sign_in(http_event("POST", "/authorize", body=urlencode(fields), cookies=_cookies(jar)))
    return done, _jar(done, jar)


def test_every_dynamodb_call_of_the_hosted_flows_is_allowed_by_the_role(
    recorded: tuple[Recorder, HostedEndpoint], policy: set[Any], service: Any, issuers: Any, clock: Any
) -> None:
    recorder, hosted = recorded
    # a failed sign-in (the throttle), then a good one
    failed, jar = _sign_in(hosted, _query(), {}, password="wrong-password")
    assert failed.status_code == 200
    done, jar = _sign_in(hosted, _query(), jar)
    assert done.status_code == 302
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    # single sign-on: the session is reused (current_session reads the all# cut-off)
    again = hosted.authorize(http_event("GET", "/authorize", query=_query(), cookies=_cookies(jar)))
    assert again.status_code == 302 and "code=" in again.headers["Location"]
    # a pushed request (PAR) with a DPoP proof (RFC 9449 §10.1: its replay record), used by reference
    before_par = len(recorder.calls)
    pushed = hosted.par(
        http_event(
            "POST",
            "/par",
            body=urlencode({**parse_qs(_query("conf", scope="read")), "client_secret": "c" * 43}, doseq=True),
            headers={"dpop": DPoPKey().proof("POST", ISS + "/par", iat=int(clock()))},
        )
    )
    assert pushed.status_code == 201, pushed.body
    assert any(call[2] and call[2].startswith("dpop#") for call in recorder.calls[before_par:])
    request_uri = json.loads(pushed.body)["request_uri"]
    by_ref = hosted.authorize(
        http_event(
            "GET",
            "/authorize",
            query=urlencode({"client_id": "conf", "request_uri": request_uri}),
            cookies=_cookies(jar),
        )
    )
    assert by_ref.status_code == 302 and "code=" in by_ref.headers["Location"]  # the par# is used up
    # consent (Allow) for a third-party client
    page = hosted.authorize(http_event("GET", "/authorize", query=_query("app3"), cookies=_cookies(jar)))
    assert page.status_code == 200
    fields = {**_Fields(page.body).fields, "action": "allow"}
    allowed_code = hosted.consent(
        http_event("POST", "/authorize/consent", body=urlencode(fields), cookies=_cookies(jar))
    )
    assert allowed_code.status_code == 302 and "code=" in allowed_code.headers["Location"]
    # logout with a matching hint: the SSO session and the refresh-token family end
    tokens = json.loads(
        service.token(
            OAuthRequest(
                params={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": CB,
                    "code_verifier": VERIFIER,
                    "client_id": "web",
                },
                client=ClientCredentials("web", None, "none"),
            ),
            issuers,
        ).body
    )
    before_logout = len(recorder.calls)
    bye = hosted.logout(
        http_event(
            "GET",
            "/logout",
            query=urlencode(
                {
                    "id_token_hint": tokens["id_token"],
                    "post_logout_redirect_uri": "https://app.example.com/bye",
                }
            ),
            cookies=_cookies(jar),
        )
    )
    assert bye.status_code == 302, bye.body
    assert any(call[2] and call[2].startswith("sid#") for call in recorder.calls[before_logout:])

    refused = sorted({call for call in recorder.calls if not allowed(call, policy)}, key=str)
    assert not refused, f"AuthorizeFunction's role would refuse: {refused}"
    # and the role grants nothing the flows never use (beyond the public JWKS secret)
    used = {g for g in policy for call in recorder.calls if allowed(call, {g})}
    unused = {
        g
        for g in policy
        if g not in used and not g[0].startswith("secretsmanager:") and g not in NOT_EXERCISED
    }
    assert not unused, f"granted but never used: {sorted(unused, key=str)}"


# ---------------------------------------------------------------------- self-service accounts
def _account_page(
    endpoint: Any, path: str, jar: dict[str, str], query: str = "", **fields: str
) -> tuple[Any, dict]:
    """GET the account page, then POST its form with ``fields`` filled in."""
    page = endpoint.page(path, http_event("GET", path, query=query, cookies=_cookies(jar)))
    assert page.status_code == 200, page.body
    jar = _jar(page, jar)
    posted = {**_Fields(page.body).fields, **fields}
    done = endpoint.page(path, http_event("POST", path, body=urlencode(posted), cookies=_cookies(jar)))
    return done, _jar(done, jar)


def test_every_dynamodb_call_of_the_account_flows_is_allowed_by_its_role(
    browser: Any, monkeypatch: pytest.MonkeyPatch, service: Any, issuers: Any
) -> None:
    """Sign-up (fresh and for an address in use), a wrong and a right verification code, sign-in,
    forgot (known and unknown address), a reset that ends a live session, and a change of
    password: each DynamoDB call within AccountFunction's role."""
    from dataclasses import replace

    from auth_core import aws
    from auth_core.accounts.endpoint import AccountEndpoint
    from auth_core.accounts.service import AccountService
    from auth_core.mail import Mailer
    from tests.functional.oauth.test_ending_access import login
    from tests.functional.oauth.test_self_service import NEW_PASSWORD, Outbox

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    policy = iam.grants(iam._roles(iam.expand(TEMPLATE.read_text()))["AccountFunction"])
    browser.add_client(
        "signup-app",
        grants=("authorization_code",),
        scopes=("openid",),
        redirect_uris=(CB,),
        allow_signup=True,
    )
    browser.add_client()  # demo-spa: the password grant, for a live session to end
    outbox = Outbox()
    settings = browser.settings()
    core = replace(
        AccountService.from_settings(settings, mailer=Mailer("no-reply@example.com", transport=outbox)),
        hasher=FAST_HASHER,
    )
    endpoint = AccountEndpoint(
        lambda: core, Branding.from_settings(settings), issuer=ISS, logger=logging.getLogger("test")
    )
    recorder = Recorder()
    ddb = aws.client("dynamodb")
    ddb.meta.events.register("provide-client-params.dynamodb.*", recorder)
    try:
        signup = _query("signup-app")
        done, jar = _account_page(
            endpoint, "/account/signup", {}, signup, email="fay@example.com", password=PASSWORD
        )
        assert done.status_code == 200 and "Confirm your email" in done.body
        wrong, jar = _account_page(
            endpoint, "/account/verify", jar, email="fay@example.com", code="00000000", password=PASSWORD
        )
        assert wrong.status_code == 400
        code = outbox.code("fay@example.com")
        ok, jar = _account_page(
            endpoint,
            "/account/verify",
            jar,
            "next=" + urlencode({"q": _query("signup-app")})[2:],
            email="fay@example.com",
            code=code,
            password=PASSWORD,
        )
        assert ok.status_code == 200 and "/authorize?" in ok.body, ok.body
        again, jar = _account_page(
            endpoint, "/account/signup", jar, signup, email="fay@example.com", password=PASSWORD
        )
        assert again.status_code == 200
        ddb.meta.events.unregister("provide-client-params.dynamodb.*", recorder)
        session = login(service, issuers, username="fay@example.com")  # the token function's calls
        ddb.meta.events.register("provide-client-params.dynamodb.*", recorder)
        for address in ("nobody@example.com", "fay@example.com"):
            sent, jar = _account_page(endpoint, "/account/forgot", jar, email=address)
            assert sent.status_code == 200 and "Choose a new password" in sent.body
        reset, jar = _account_page(
            endpoint,
            "/account/reset",
            jar,
            email="fay@example.com",
            code=outbox.code("fay@example.com"),
            password=NEW_PASSWORD,
        )
        assert reset.status_code == 200 and "Password changed" in reset.body, reset.body
        assert any(call[2] and call[2].startswith("sid#") for call in recorder.calls)  # the session ended
        assert session["refresh_token"]
        user = core.users.get("fay@example.com")
        assert user is not None
        core.change_password(
            subject=user.user_id,
            client_id="web",
            current=NEW_PASSWORD,
            new=PASSWORD + " 2",
            source_ip="203.0.113.9",
        )
    finally:
        ddb.meta.events.unregister("provide-client-params.dynamodb.*", recorder)
    refused = sorted({call for call in recorder.calls if not allowed(call, policy)}, key=str)
    assert not refused, f"AccountFunction's role would refuse: {refused}"


def _ids(html: str) -> dict[str, str]:
    """The enrolment page's secret and recovery codes (by their element ids)."""
    import re

    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', html)
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>", html)
    assert secret is not None and len(codes) == 10, html
    return {"secret": secret.group(1), **{f"r{i}": c for i, c in enumerate(codes)}}


def _post_code(
    hosted: HostedEndpoint, page: Any, jar: dict[str, str], code: str
) -> tuple[Any, dict[str, str]]:
    fields = {**_Fields(page.body).fields, "code": code}
    done = hosted.second_factor(
        http_event("POST", "/authorize/mfa", body=urlencode(fields), cookies=_cookies(jar))
    )
    return done, _jar(done, jar)


def test_every_dynamodb_call_of_the_mfa_flows_is_allowed_by_the_role(
    recorded: tuple[Recorder, HostedEndpoint], policy: set[Any], browser: Any, clock: Any
) -> None:
    """Enrolment under a client that requires MFA (a wrong code, then the right one), then a
    sign-in with a TOTP code and one with a recovery code, through the hosted pages."""
    from auth_core.mfa import totp

    recorder, hosted = recorded
    browser.add_client(
        "strict",
        grants=("authorization_code",),
        scopes=("openid", "read"),
        redirect_uris=(CB,),
        first_party=True,
        mfa="required",
    )
    step = int(clock()) // totp.STEP
    enrol_page, jar = _sign_in(hosted, _query("strict"), {})
    assert enrol_page.status_code == 200 and "Set up two-step verification" in enrol_page.body
    assert "<svg" in enrol_page.body and "script" not in enrol_page.body
    shown = _ids(enrol_page.body)
    wrong, jar = _post_code(hosted, enrol_page, jar, totp.code_at(shown["secret"], step + 9))
    assert wrong.status_code == 200 and "not valid" in wrong.body
    done, jar = _post_code(hosted, wrong, jar, totp.code_at(shown["secret"], step))
    assert done.status_code == 302 and "code=" in done.headers["Location"], done.body
    # a new browser: password, then a TOTP code of the next step
    clock.advance(30)
    page, jar2 = _sign_in(hosted, _query("strict"), {})
    assert "Two-step verification" in page.body and "totp-secret" not in page.body
    done, _ = _post_code(hosted, page, jar2, totp.code_at(shown["secret"], step + 1))
    assert done.status_code == 302 and "code=" in done.headers["Location"]
    # another: a recovery code; a ticket posted from a third browser is refused
    page, jar3 = _sign_in(hosted, _query("strict"), {})
    stolen, _ = _post_code(hosted, page, {}, shown["r0"])
    assert stolen.status_code == 400  # no CSRF cookie: the form is refused before anything
    done, _ = _post_code(hosted, page, jar3, shown["r0"])
    assert done.status_code == 302 and "code=" in done.headers["Location"]

    refused = sorted({call for call in recorder.calls if not allowed(call, policy)}, key=str)
    assert not refused, f"AuthorizeFunction's role would refuse: {refused}"
    assert any(call[2] and call[2].startswith("mfa#") for call in recorder.calls)


def test_every_dynamodb_call_of_the_self_service_mfa_page_is_allowed_by_the_role(
    recorded: tuple[Recorder, HostedEndpoint], policy: set[Any], clock: Any
) -> None:
    """``/authorize/mfa/setup``: a signed-in user under the ``optional`` policy enrols (a wrong
    code, then the right one), then replaces the recovery codes against a fresh code."""
    from auth_core.mfa import totp

    recorder, hosted = recorded
    done, jar = _sign_in(hosted, _query(), {})
    assert done.status_code == 302
    before = len(recorder.calls)

    def setup(page: Any | None, **fields: str) -> Any:
        nonlocal jar
        if page is None:
            event = http_event("GET", "/authorize/mfa/setup", cookies=_cookies(jar))
        else:
            body = urlencode({**_Fields(page.body).fields, **fields})
            event = http_event("POST", "/authorize/mfa/setup", body=body, cookies=_cookies(jar))
        answer = hosted.mfa_setup(event)
        jar = _jar(answer, jar)
        return answer

    step = int(clock()) // totp.STEP
    page = setup(None)
    secret = _ids(page.body)["secret"]
    wrong = setup(page, code=totp.code_at(secret, step + 9))
    assert wrong.status_code == 400
    assert setup(wrong, code=totp.code_at(secret, step)).status_code == 200
    clock.advance(30)
    status = setup(None)
    assert "recovery codes left" in status.body
    replaced = setup(status, code=totp.code_at(secret, step + 1))
    assert replaced.status_code == 200 and "New recovery codes" in replaced.body

    calls = recorder.calls[before:]
    refused = sorted({call for call in calls if not allowed(call, policy)}, key=str)
    assert not refused, f"AuthorizeFunction's role would refuse: {refused}"
    assert any(call[2] and call[2].startswith("mfa#") for call in calls)
