"""RFC 7662 introspection (``POST /introspect``) over moto tables.

Core tests drive :class:`IntrospectionService` with the real :class:`TokenService` (fake clock)
minting the tokens; handler tests run the sample events through ``functions/introspect_token``
with tokens minted by ``functions/issue_token`` (real clock).
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from auth_core.errors import InvalidClientError, InvalidRequestError, TemporarilyUnavailableError
from auth_core.jwk import JWKSet
from auth_core.oauth.introspection import INACTIVE, IntrospectionService
from auth_core.oauth.refresh import hash_refresh_token, new_refresh_token
from auth_core.stores.clients import ClientStore
from auth_core.stores.revocations import RevocationStore
from auth_core.stores.sessions import SessionStore
from auth_core.stores.users import UserStore
from auth_core.tokens import AccessTokenVerifier, ClaimsPolicy
from tests.functional.oauth.conftest import AUD, BACKEND_SECRET, ISS, NOW
from tests.functional.oauth.helpers import (
    PUBLIC_CLIENT,
    PUBLIC_CLIENT_SETTINGS,
    body,
    code_flow,
    form,
    http_event,
    password_request,
    poke_user,
    refresh_request,
    sample_event,
)

WEB_SECRET = "web-app-secret-0123456789abcdefghijklmnopqrstuv"
OTHER_SECRET = "other-app-secret-0123456789abcdefghijklmnopqrs"
RS_SECRET = "resource-server-secret-0123456789abcdefghijklm"
FAMILY_GRANTS = ("password", "refresh_token")


@pytest.fixture
def seeded(stack):
    stack.add_user()
    stack.add_client()  # demo-spa: confidential (the password grant needs a secret)
    stack.add_client(PUBLIC_CLIENT, **PUBLIC_CLIENT_SETTINGS)  # a browser app: no secret
    stack.add_client("web-app", secret=WEB_SECRET, grants=FAMILY_GRANTS)
    stack.add_client("other-app", secret=OTHER_SECRET, grants=FAMILY_GRANTS)
    stack.add_client("resource-server", secret=RS_SECRET, grants=("client_credentials",), introspect_any=True)
    stack.add_client("backend-svc", secret=BACKEND_SECRET, grants=("client_credentials",), scopes=("read",))
    return stack


@pytest.fixture
def introspection(seeded, service, clock, audit):
    verifier = AccessTokenVerifier(ClaimsPolicy(ISS, AUD), JWKSet.from_dict(seeded.jwks), clock=clock)
    return IntrospectionService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        users=service.users,
        verifier=verifier,
        audit=audit,
        clock=clock,
    )


def login(service, issuers, client_id="web-app", secret=WEB_SECRET):
    return body(service.token(password_request(client_id=client_id, client_secret=secret), issuers))


@pytest.fixture
def pair(seeded, service, issuers):
    return login(service, issuers)


def ask(introspection, token, client=("web-app", WEB_SECRET), **extra):
    """Introspect as ``client`` (HTTP Basic)."""
    return introspection.introspect(form({"token": token, **extra}, basic=client))


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


# ---------------------------------------------------------------- access tokens
@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "id_token"])
def test_active_access_token_metadata(introspection, pair, hint, audit):
    extra = {"token_type_hint": hint} if hint else {}
    doc = ask(introspection, pair["access_token"], **extra)
    claims = claims_of(pair["access_token"])
    assert doc == {
        "active": True,
        "scope": claims["scope"],
        "client_id": "web-app",
        "token_type": "Bearer",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "sub": claims["sub"],  # the user's opaque id (no username: it is not in the token)
        "aud": AUD,
        "iss": ISS,
        "jti": claims["jti"],
        "sid": claims["sid"],
        "roles": ["user"],
    }
    assert (
        "TokenIntrospected",
        {"client_id": "web-app", "kind": "access_token", "active": True},
    ) in audit.events


def test_client_credentials_token_has_no_username_and_no_session(seeded, service, issuers, introspection):
    cc = body(
        service.token(
            form({"grant_type": "client_credentials"}, basic=("backend-svc", BACKEND_SECRET)), issuers
        )
    )
    doc = ask(introspection, cc["access_token"], client=("backend-svc", BACKEND_SECRET))
    assert doc["active"] is True
    assert doc["sub"] == doc["client_id"] == "backend-svc"
    assert "username" not in doc and "sid" not in doc and "roles" not in doc


def test_expired_access_token_is_inactive_even_within_the_verifiers_leeway(introspection, pair, clock):
    ttl = claims_of(pair["access_token"])["exp"] - NOW
    clock.advance(ttl - 1)
    assert ask(introspection, pair["access_token"])["active"] is True
    clock.advance(1)  # exp reached: a verifier with 60 s leeway still accepts it, "active" is about now
    assert ask(introspection, pair["access_token"]) == INACTIVE
    clock.advance(3600)
    assert ask(introspection, pair["access_token"]) == INACTIVE


def _flip(segment: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_tampered_access_tokens_are_inactive(introspection, pair):
    header, payload, signature = pair["access_token"].split(".")
    forged_claims = {**claims_of(pair["access_token"]), "scope": "admin"}
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    for token in (
        f"{header}.{payload}.{_flip(signature)}",
        f"{header}.{forged}.{signature}",
        f"{none_header}.{payload}.",
        f"{header}.{payload}.",
        "a.b.c",
    ):
        assert ask(introspection, token) == INACTIVE


def test_revoked_jti_is_inactive(introspection, service, pair):
    claims = claims_of(pair["access_token"])
    service.revoker.revocations.revoke_jti(claims["jti"], claims["exp"])
    assert ask(introspection, pair["access_token"]) == INACTIVE
    assert ask(introspection, pair["refresh_token"])["active"] is True  # the session lives on


def test_revoked_session_makes_every_token_of_it_inactive(introspection, service, issuers, pair, clock):
    clock.advance(5)
    child = body(
        service.token(
            refresh_request(pair["refresh_token"], client_id="web-app", client_secret=WEB_SECRET), issuers
        )
    )
    assert ask(introspection, child["access_token"])["active"] is True
    assert service.revoker.revoke_family(claims_of(pair["access_token"])["sid"], reason="test")
    for token in (pair["access_token"], child["access_token"], child["refresh_token"], pair["refresh_token"]):
        assert ask(introspection, token) == INACTIVE


def test_logout_all_cuts_off_earlier_tokens_only(introspection, service, issuers, pair, clock):
    clock.advance(10)
    service.revoker.logout_all("alice")
    assert ask(introspection, pair["access_token"]) == INACTIVE
    assert ask(introspection, pair["refresh_token"]) == INACTIVE
    clock.advance(2)  # the cut-off is planned 2 s ahead of the write (oauth.revocation)
    fresh = login(service, issuers)
    assert ask(introspection, fresh["access_token"])["active"] is True
    assert ask(introspection, fresh["refresh_token"])["active"] is True


def test_cut_off_alone_ends_a_family_the_sweep_missed(introspection, service, pair, clock):
    """A family the log-out sweep missed (the index lags): the user's sessions_version and the
    sub# cut-off still make both of its tokens inactive."""
    clock.advance(10)
    poke_user(service.users.ddb, "alice", sessions_version=1)
    service.revoker.revocations.set_user_cutoff(
        service.users.get("alice").user_id, int(clock() * 1000), max_token_lifetime=3600
    )
    assert ask(introspection, pair["refresh_token"]) == INACTIVE
    assert ask(introspection, pair["access_token"]) == INACTIVE


# ---------------------------------------------------------------- refresh tokens
@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])
def test_live_refresh_token_metadata(introspection, pair, hint):
    extra = {"token_type_hint": hint} if hint else {}
    doc = ask(introspection, pair["refresh_token"], **extra)
    idle = 604800
    assert doc == {
        "active": True,
        "scope": pair["scope"],
        "client_id": "web-app",
        "token_type": "refresh_token",
        "exp": NOW + idle,  # idle expiry comes before the 30-day absolute one
        "iat": NOW,
        "sub": claims_of(pair["access_token"])["sub"],
        "username": "alice",
    }
    text = json.dumps(doc)
    assert pair["refresh_token"] not in text and hash_refresh_token(pair["refresh_token"]) not in text


def test_rotated_refresh_token_is_inactive_and_its_child_active(introspection, service, issuers, pair, clock):
    clock.advance(100)
    child = body(
        service.token(
            refresh_request(pair["refresh_token"], client_id="web-app", client_secret=WEB_SECRET), issuers
        )
    )
    assert ask(introspection, pair["refresh_token"]) == INACTIVE
    doc = ask(introspection, child["refresh_token"])
    assert (doc["active"], doc["iat"]) == (True, NOW + 100)


def test_refresh_token_revoked_at_the_revocation_endpoint_is_inactive(introspection, service, pair):
    from auth_core.oauth.revocation import RevocationService

    revocation = RevocationService(
        clients=service.clients,
        sessions=service.sessions,
        revocations=service.revoker.revocations,
        revoker=service.revoker,
        verifier=None,
    )
    revocation.revoke(form({"token": pair["refresh_token"]}, basic=("web-app", WEB_SECRET)))
    assert ask(introspection, pair["refresh_token"]) == INACTIVE
    assert ask(introspection, pair["access_token"]) == INACTIVE  # RFC 7009 §2.1: the grant's tokens


def test_the_family_is_the_authority_on_the_live_token(seeded, introspection, pair):
    """A token item still marked active is not live once its family points elsewhere."""
    sid = claims_of(pair["access_token"])["sid"]
    seeded.ddb.update_item(
        TableName="sessions",
        Key={"pk": {"S": f"fam#{sid}"}},
        UpdateExpression="SET #c = :other",
        ExpressionAttributeNames={"#c": "current"},
        ExpressionAttributeValues={":other": {"S": "0" * 64}},
    )
    assert ask(introspection, pair["refresh_token"]) == INACTIVE


def test_idle_refresh_token_is_inactive(introspection, pair, clock):
    clock.advance(604800 - 1)
    assert ask(introspection, pair["refresh_token"])["active"] is True
    clock.advance(1)
    assert ask(introspection, pair["refresh_token"]) == INACTIVE


def test_absolute_expiry_bounds_exp_and_activity(seeded, service, issuers, introspection, clock):
    seeded.add_client("short", secret=WEB_SECRET, grants=FAMILY_GRANTS, refresh_max_age=600)
    rt = login(service, issuers, client_id="short")["refresh_token"]
    assert ask(introspection, rt, client=("short", WEB_SECRET))["exp"] == NOW + 600
    clock.advance(600)
    assert ask(introspection, rt, client=("short", WEB_SECRET)) == INACTIVE


@pytest.mark.parametrize("token", [new_refresh_token(), "garbage", "x" * 5000, "' OR 1=1 --", "a.b"])
def test_unknown_or_malformed_tokens_are_inactive(introspection, token, audit):
    assert ask(introspection, token) == INACTIVE
    ((_, fields),) = audit.events
    assert fields["active"] is False


# ---------------------------------------------------------------- who may ask
def test_other_clients_tokens_are_inactive_to_a_plain_client(introspection, pair, audit):
    for token in (pair["access_token"], pair["refresh_token"]):
        assert ask(introspection, token, client=("other-app", OTHER_SECRET)) == INACTIVE
    reasons = [f.get("reason") for name, f in audit.events if name == "TokenIntrospected"]
    assert reasons == ["foreign_client", "foreign_client"]


def test_introspect_any_client_sees_every_clients_tokens(introspection, pair):
    rs = ("resource-server", RS_SECRET)
    assert ask(introspection, pair["access_token"], client=rs)["client_id"] == "web-app"
    assert ask(introspection, pair["refresh_token"], client=rs)["client_id"] == "web-app"


def test_refresh_token_of_a_disabled_client_is_inactive(introspection, pair):
    ClientStore("clients").set_enabled("web-app", False)
    introspection.clients.invalidate()
    assert ask(introspection, pair["refresh_token"], client=("resource-server", RS_SECRET)) == INACTIVE


def test_authctl_registers_an_introspect_any_client(stack, introspection, pair, monkeypatch, capsys):
    from authctl.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    argv = [
        "clients",
        "create",
        "rs2",
        "--confidential",
        "--grants",
        "client_credentials",
        "--introspect-any",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["introspect_any"] is True
    assert ClientStore("clients", cache_ttl=0).get("rs2").introspect_any is True
    assert ask(introspection, pair["access_token"], client=("rs2", out["client_secret"]))["active"] is True
    # plain clients get no flag; a public client cannot have it
    assert main(["clients", "create", "plain", "--confidential"]) == 2  # grants are required now
    assert main(["clients", "create", "plain", "--confidential", "--grants", "client_credentials"]) == 0
    capsys.readouterr()
    assert ClientStore("clients", cache_ttl=0).get("plain").introspect_any is False
    assert "introspect_any" not in stack.item("clients", {"client_id": {"S": "plain"}})
    assert main(["clients", "create", "pub", "--grants", "refresh_token", "--introspect-any"]) == 2


@pytest.mark.parametrize(
    "request_params",
    [
        {"token": "x", "client_id": PUBLIC_CLIENT},  # public client
        {"token": "x"},  # no client at all
        {"token": "x", "client_id": "web-app", "client_secret": "wrong"},
        {"token": "x", "client_id": "nobody", "client_secret": "wrong"},
    ],
)
def test_only_authenticated_confidential_clients_may_introspect(introspection, pair, request_params):
    with pytest.raises(InvalidClientError):
        introspection.introspect(form({**request_params, "token": pair["access_token"]}))


def test_public_clients_cannot_introspect_their_own_tokens(seeded, service, issuers, clock, introspection):
    own = code_flow(seeded, service, issuers, clock)  # issued to the public client
    with pytest.raises(InvalidClientError) as info:
        introspection.introspect(form({"token": own["access_token"], "client_id": PUBLIC_CLIENT}))
    assert info.value.reason == "introspection_public_client"


def test_missing_token_is_invalid_request(introspection):
    with pytest.raises(InvalidRequestError):
        introspection.introspect(form({"token_type_hint": "access_token"}, basic=("web-app", WEB_SECRET)))


# ---------------------------------------------------------------- reads: consistent, fail closed
class _Spy:
    """A DynamoDB client that records every call (and can fail one operation)."""

    def __init__(self, real: Any, fail: str | None = None) -> None:
        self.real, self.fail, self.calls = real, fail, []

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            if name == self.fail:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, name)
            return getattr(self.real, name)(**kwargs)

        return call


def _spied(introspection, spy):
    return IntrospectionService(
        clients=introspection.clients,
        sessions=SessionStore("sessions", client=spy),
        revocations=RevocationStore("revocations", client=spy),
        users=UserStore("users", client=spy),
        verifier=introspection.verifier,
        clock=introspection._clock,
    )


def test_every_read_is_strongly_consistent_and_nothing_is_written(seeded, introspection, pair):
    spy = _Spy(seeded.ddb)
    service = _spied(introspection, spy)
    assert ask(service, pair["access_token"])["active"] is True
    assert ask(service, pair["refresh_token"])["active"] is True
    assert {name for name, _ in spy.calls} == {"get_item", "batch_get_item"}
    for name, kwargs in spy.calls:
        if name == "get_item":
            assert kwargs["ConsistentRead"] is True
        else:
            assert all(spec["ConsistentRead"] is True for spec in kwargs["RequestItems"].values())


def test_revocation_table_failure_is_503_not_inactive(seeded, introspection, pair):
    service = _spied(introspection, _Spy(seeded.ddb, fail="batch_get_item"))
    with pytest.raises(TemporarilyUnavailableError):
        ask(service, pair["access_token"])


# ---------------------------------------------------------------- the handler
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def apps(seeded):
    import functions.introspect_token.app as introspect
    import functions.issue_token.app as issue

    for module in (issue, introspect):
        module.settings.cache_clear()
        module.service.cache_clear()
    yield issue, introspect
    for module in (issue, introspect):
        module.settings.cache_clear()
        module.service.cache_clear()


def call(module, event, lambda_context):
    response = module.lambda_handler(event, lambda_context)
    assert response["statusCode"] < 500, response
    return response


def doc(response):
    return json.loads(response["body"])


def handler_login(issue, lambda_context):
    event = sample_event("issue_token_password.json", client_id="web-app", client_secret=WEB_SECRET)
    response = call(issue, event, lambda_context)
    assert response["statusCode"] == 200, response
    return doc(response)


def test_sample_events_through_the_handler(apps, lambda_context):
    issue, introspect = apps
    pair = handler_login(issue, lambda_context)
    creds = {"client_id": "web-app", "client_secret": WEB_SECRET}
    at = call(
        introspect,
        sample_event("introspect_token_access.json", access_token=pair["access_token"], **creds),
        lambda_context,
    )
    assert at["statusCode"] == 200
    assert at["headers"]["Cache-Control"] == "no-store"
    assert doc(at)["active"] is True and doc(at)["token_type"] == "Bearer"
    assert doc(at)["iss"] == ISS
    rt = call(
        introspect,
        sample_event("introspect_token_refresh.json", refresh_token=pair["refresh_token"], **creds),
        lambda_context,
    )
    assert (rt["statusCode"], doc(rt)["active"], doc(rt)["token_type"]) == (200, True, "refresh_token")
    garbage = call(
        introspect,
        sample_event("introspect_token_refresh.json", refresh_token="nope", **creds),
        lambda_context,
    )
    assert (garbage["statusCode"], garbage["body"]) == (200, '{"active":false}')


def test_handler_public_client_is_401_and_missing_token_400(apps, lambda_context):
    _, introspect = apps
    public = call(
        introspect, http_event("/introspect", {"token": "x", "client_id": PUBLIC_CLIENT}), lambda_context
    )
    assert (public["statusCode"], doc(public)["error"]) == (401, "invalid_client")
    assert public["headers"]["WWW-Authenticate"].startswith("Basic")
    missing = call(
        introspect,
        http_event("/introspect", {"token_type_hint": "access_token"}, basic=("web-app", WEB_SECRET)),
        lambda_context,
    )
    assert (missing["statusCode"], doc(missing)["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"method": "GET", "content_type": None}, 405),
        ({"query": "token=abc"}, 400),
        ({"body": "token=a&token=b"}, 400),
        ({"body": "token=a", "content_type": "text/plain"}, 400),
        ({"body": '{"token":["a"]}', "content_type": "application/json"}, 400),
        ({"body": "token=%ff%fe"}, 400),
        ({"body": "not base64!!", "b64": True}, 400),
        ({"body": "token=a", "headers": {"authorization": "Bearer abc"}}, 400),
    ],
)
def test_hostile_requests_never_500(apps, lambda_context, kwargs, status):
    _, introspect = apps
    response = call(introspect, http_event("/introspect", **kwargs), lambda_context)
    assert response["statusCode"] == status
    assert "Traceback" not in response["body"]


def test_key_store_outage_is_503(apps, lambda_context):
    import boto3

    issue, introspect = apps
    pair = handler_login(issue, lambda_context)
    boto3.client("secretsmanager").delete_secret(SecretId="jwt/public-jwks", ForceDeleteWithoutRecovery=True)
    event = http_event("/introspect", {"token": pair["access_token"]}, basic=("web-app", WEB_SECRET))
    response = introspect.lambda_handler(event, lambda_context)
    assert (response["statusCode"], doc(response)["error"]) == (503, "temporarily_unavailable")


def test_logs_never_contain_the_token(apps, lambda_context, capsys):
    issue, introspect = apps
    handler = introspect.logger.registered_handler
    buf = io.StringIO()
    original = handler.setStream(buf)
    try:
        pair = handler_login(issue, lambda_context)
        for token in (pair["access_token"], pair["refresh_token"], pair["access_token"][:-4] + "AAAA"):
            for client in (("web-app", WEB_SECRET), ("other-app", OTHER_SECRET)):
                event = http_event("/introspect", {"token": token}, basic=client)
                call(introspect, copy.deepcopy(event), lambda_context)
        call(
            introspect,
            http_event("/introspect", {"token": pair["access_token"], "client_id": PUBLIC_CLIENT}),
            lambda_context,
        )
    finally:
        handler.setStream(original)
    logs = buf.getvalue() + capsys.readouterr().out
    assert "TokenIntrospected" in logs and "foreign_client" in logs and "invalid_client" in logs
    secrets_ = [
        pair["access_token"],
        pair["refresh_token"],
        hash_refresh_token(pair["refresh_token"]),
        WEB_SECRET,
        OTHER_SECRET,
        *pair["access_token"].split("."),
    ]
    assert [s[:12] for s in secrets_ if s in logs] == []
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", logs)


def test_functions_that_check_access_tokens_report_their_key_store(apps, lambda_context, capsys, caplog):
    """Issue 12: /introspect and /revoke load the public key set too; its events are a log line and
    a metric there as in the token and JWKS functions (they were silent)."""
    import functions.revoke_token.app as revoke

    issue, introspect = apps
    revoke.settings.cache_clear()
    revoke.service.cache_clear()
    pair = handler_login(issue, lambda_context)
    creds = {"client_id": "web-app", "client_secret": WEB_SECRET}
    for module, name in ((introspect, "introspect_token_access.json"), (revoke, "revoke_token_access.json")):
        capsys.readouterr()
        caplog.clear()
        call(module, sample_event(name, access_token=pair["access_token"], **creds), lambda_context)
        emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
        assert any(doc.get("KeySetFetched") == [1.0] for doc in emf), module.__name__  # the metric
        assert "KeySetFetched" in [r.getMessage() for r in caplog.records], module.__name__  # the log line
    revoke.settings.cache_clear()
    revoke.service.cache_clear()
