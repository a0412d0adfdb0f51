"""The authorizer handler end to end over moto: every format x every outcome, the Bearer and
API Gateway cases of docs/threat-model.md (T-HTTP, T-AWS), the time cases (T-TIME), revocation, and failures
that must be 500s (never Allow, never a disguised 401)."""

from __future__ import annotations

import json

import pytest

from auth_core.errors import KeyStoreError, RevocationStoreError
from tests.functional.authorizer.conftest import (
    AUDIENCE,
    DROP,
    JWKS_SECRET,
    NOW,
    TABLE,
    World,
    build_event,
    evaluate_policy,
    event_arn,
    with_token,
)

FORMATS = ["rest_token", "rest_request", "http_v1", "http_v2", "http_v2_iam"]
ROUTES = {
    "orders": ("GET", "/orders", "GET /orders"),
    "delete": ("DELETE", "/orders/42", "DELETE /orders/{id}"),
    "me": ("GET", "/me", "GET /me"),
}


def _expected(fmt: str, outcome: str) -> str:
    """HTTP API simple responses collapse 401 and 403 into ``isAuthorized: false``."""
    if fmt == "http_v2" and outcome in {"deny", "unauthorized"}:
        return "refused"
    return outcome


@pytest.fixture(params=FORMATS)
def fmt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "http_v2_iam":
        monkeypatch.setenv("AUTHORIZER_RESPONSE_FORMAT", "iam")
    return request.param


TOKEN_CASES = {
    "valid": lambda w: w.mint(),
    "expired": lambda w: w.mint(iat=NOW - 400, exp=NOW - 61),
    "bad_signature": lambda w: w.mint()[:-4] + ("AAAA" if not w.mint().endswith("AAAA") else "BBBB"),
    "wrong_audience": lambda w: w.mint(aud="https://billing.example.com"),
    "not_a_jwt": lambda w: "opaque-refresh-token-value",
    "no_exp": lambda w: w.mint(exp=DROP),
}


@pytest.mark.parametrize(
    ("route", "token_case", "outcome"),
    [
        ("orders", "valid", "allow"),
        ("me", "valid", "allow"),
        ("delete", "valid", "deny"),
        ("orders", "expired", "unauthorized"),
        ("orders", "bad_signature", "unauthorized"),
        ("orders", "wrong_audience", "unauthorized"),
        ("me", "not_a_jwt", "unauthorized"),
        ("me", "no_exp", "unauthorized"),
    ],
)
def test_format_x_outcome(world: World, fmt: str, route: str, token_case: str, outcome: str) -> None:
    method, path, key = ROUTES[route]
    event = build_event(fmt, method, path, key, f"Bearer {TOKEN_CASES[token_case](world)}")
    assert world.outcome(event) == _expected(fmt, outcome)


def test_missing_header_is_unauthorized_in_every_format(world: World, fmt: str) -> None:
    event = build_event(fmt, "GET", "/me", "GET /me", None)
    assert world.outcome(event) == _expected(fmt, "unauthorized")


def test_revoked_token_is_unauthorized_in_every_format(world: World, fmt: str) -> None:
    world.revoke_jti("j-revoked")
    event = build_event(fmt, "GET", "/me", "GET /me", f"Bearer {world.mint(jti='j-revoked')}")
    assert world.outcome(event) == _expected(fmt, "unauthorized")


@pytest.mark.parametrize(
    ("name", "scope", "outcome"),
    [
        ("authorizer_rest_token_allow.json", "read", "allow"),
        ("authorizer_rest_token_china_allow.json", "read", "allow"),
        ("authorizer_rest_token_console_test.json", "read", "allow"),  # stage "*"
        ("authorizer_rest_token_unauthorized.json", "read", "unauthorized"),
        ("authorizer_rest_request_allow.json", "read", "allow"),
        ("authorizer_rest_request_deny.json", "read", "deny"),
        ("authorizer_rest_request_unauthorized.json", "read", "unauthorized"),
        ("authorizer_http_v1_allow.json", "write", "allow"),
        ("authorizer_http_v1_unauthorized.json", "read", "unauthorized"),
        ("authorizer_http_v2_allow.json", "read", "allow"),
        ("authorizer_http_v2_govcloud_allow.json", "read", "allow"),
        ("authorizer_http_v2_deny.json", "read", "refused"),
        ("authorizer_http_v2_unauthorized.json", "read", "refused"),
    ],
)
def test_sample_events(world: World, name: str, scope: str, outcome: str) -> None:
    event = with_token(name, world.mint(scope=scope))
    assert world.outcome(event) == outcome


@pytest.mark.parametrize(
    ("name", "partition"),
    [
        ("authorizer_rest_token_china_allow.json", "arn:aws-cn:execute-api:cn-north-1:"),
        ("authorizer_rest_token_allow.json", "arn:aws:execute-api:us-east-1:"),
    ],
)
def test_policy_uses_the_partition_of_the_request(world: World, name: str, partition: str) -> None:
    response = world.invoke(with_token(name, world.mint()))
    resources = [r for st in response["policyDocument"]["Statement"] for r in st["Resource"]]
    assert resources
    assert all(r.startswith(partition) for r in resources)


def test_context_is_flat_for_iam_and_json_for_simple(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = world.mint(scope="read write", roles=["admin", "ops"], org={"id": 7})
    monkeypatch.setenv("CONTEXT_CLAIMS", "roles org kid typ")
    rest = world.invoke(with_token("authorizer_rest_token_allow.json", token))
    assert rest["principalId"] == "alice"
    assert rest["context"] == {
        "sub": "alice",
        "client_id": "web-app",
        "scope": "read write",
        "jti": "6f1c0c9e-6d8a-4b0e-9b1e-2f8a0d6c1a11",
        "roles": "admin ops",
        "org": '{"id":7}',
    }
    simple = world.invoke(with_token("authorizer_http_v2_allow.json", token))
    assert simple["context"]["roles"] == ["admin", "ops"]
    assert simple["context"]["org"] == {"id": 7}
    assert token not in json.dumps([rest, simple])  # T-AWS-6


# ------------------------------------------------------------------ T-HTTP Bearer grammar
@pytest.mark.parametrize(
    ("template", "outcome"),
    [
        ("Bearer {t}", "allow"),  # T-HTTP-1
        ("bearer {t}", "allow"),  # T-HTTP-2
        ("BEARER {t}", "allow"),
        ("BeArEr {t}", "allow"),
        ("Bearer  {t}", "allow"),  # T-HTTP-3
        ("Bearer\t{t}", "unauthorized"),  # T-HTTP-4
        ("{t}", "unauthorized"),  # T-HTTP-5
        ("Bearer", "unauthorized"),  # T-HTTP-6
        ("Bearer ", "unauthorized"),
        ("", "unauthorized"),
        ("Bearer {t} {t}", "unauthorized"),  # T-HTTP-7
        ("Bearer {t},Bearer {t}", "unauthorized"),
        ("Bearer {t};", "unauthorized"),
        ("Basic dXNlcjpwYXNz", "unauthorized"),  # T-HTTP-8
        ("DPoP {t}", "unauthorized"),
        ("Token {t}", "unauthorized"),
        ("  Bearer {t}  ", "allow"),  # T-HTTP-9: OWS trimmed, consistently
        ("Bearer {t}\u00e9", "unauthorized"),  # T-HTTP-13
    ],
)
def test_bearer_header_values(world: World, template: str, outcome: str) -> None:
    for fmt in ("rest_token", "rest_request", "http_v1", "http_v2"):
        event = build_event(fmt, "GET", "/orders", "GET /orders", template.format(t=world.mint()))
        assert world.outcome(event) == _expected(fmt, outcome), fmt


def test_two_authorization_headers_are_refused_in_both_orders(world: World) -> None:  # T-HTTP-10
    good, bad = world.mint(), world.mint(sub="mallory", aud="https://other")
    for first, second in ((good, bad), (bad, good)):
        event = build_event("rest_request", "GET", "/orders", "GET /orders", f"Bearer {first}")
        event["multiValueHeaders"]["Authorization"] = [f"Bearer {first}", f"Bearer {second}"]
        assert world.outcome(event) == "unauthorized"
        event = build_event("rest_request", "GET", "/orders", "GET /orders", f"Bearer {first}")
        event["headers"]["authorization"] = f"Bearer {second}"
        event["multiValueHeaders"] = None
        assert world.outcome(event) == "unauthorized"


def test_token_in_query_cookie_or_other_header_is_ignored(world: World) -> None:  # T-HTTP-11
    token = world.mint()
    event = build_event("http_v2_iam", "GET", "/orders", "GET /orders", None)
    event["queryStringParameters"] = {"access_token": token}
    event["rawQueryString"] = f"access_token={token}"
    event["cookies"] = [f"access_token={token}"]
    event["headers"]["x-access-token"] = token
    event["identitySource"] = [f"Bearer {token}"]
    assert world.outcome(event) == "refused"


def test_lower_case_header_name_is_accepted(world: World) -> None:  # T-HTTP-12
    event = build_event("rest_request", "GET", "/orders", "GET /orders", None)
    event["headers"] = {"authorization": f"Bearer {world.mint()}"}
    event["multiValueHeaders"] = None
    assert world.outcome(event) == "allow"


def test_configured_identity_header(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_HEADER", "X-Api-Authorization")
    event = build_event("rest_request", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    assert world.outcome(event) == "unauthorized"  # Authorization is no longer read
    event["headers"]["X-API-Authorization"] = event["headers"].pop("Authorization")
    event["multiValueHeaders"] = None
    assert world.outcome(event) == "allow"


# ------------------------------------------------------------------ T-TIME time claims
@pytest.mark.parametrize(
    ("payload", "outcome"),
    [
        ({"exp": DROP}, "unauthorized"),  # T-TIME-1
        ({"exp": NOW}, "allow"),  # T-TIME-2 (leeway 60)
        ({"iat": NOW - 200, "exp": NOW - 59}, "allow"),  # T-TIME-3
        ({"iat": NOW - 200, "exp": NOW - 60}, "unauthorized"),  # T-TIME-4
        ({"iat": NOW - 200, "exp": NOW - 61}, "unauthorized"),  # T-TIME-5
        ({"nbf": NOW + 60}, "allow"),  # T-TIME-6
        ({"nbf": NOW + 61}, "unauthorized"),  # T-TIME-7
        ({"iat": NOW + 61, "exp": NOW + 361}, "unauthorized"),  # T-TIME-8
        ({"iat": DROP}, "unauthorized"),  # T-TIME-9
        ({"exp": NOW + 86400}, "unauthorized"),  # T-TIME-10
        ({"exp": str(NOW + 300)}, "unauthorized"),  # T-TIME-11
        ({"exp": NOW + 300.5}, "allow"),  # T-TIME-12
        ({"exp": True}, "unauthorized"),  # T-TIME-13
        ({"exp": False}, "unauthorized"),
        ({"nbf": False}, "unauthorized"),
        ({"iat": True}, "unauthorized"),
        ({"exp": None}, "unauthorized"),  # T-TIME-14
        ({"exp": []}, "unauthorized"),
        ({"exp": {}}, "unauthorized"),
        ({"exp": [NOW + 300]}, "unauthorized"),
        ({"exp": 10**20}, "unauthorized"),  # T-TIME-16
        ({"exp": 9007199254740993}, "unauthorized"),
        ({"exp": -1}, "unauthorized"),  # T-TIME-17
        ({"exp": 0}, "unauthorized"),
        ({"nbf": -1}, "allow"),  # T-TIME-18
        ({"iat": -1}, "unauthorized"),  # T-TIME-19
    ],
)
def test_time_claims(world: World, payload: dict, outcome: str) -> None:
    token = world.mint(**payload)
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    assert world.outcome(event) == outcome


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309", "-0.0"])
def test_time_claims_non_finite_numbers(world: World, literal: str) -> None:  # T-TIME-15/17
    claims = json.dumps(world.claims(exp="__EXP__")).replace('"__EXP__"', literal)
    token = world.mint_bytes(claims.encode())
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    assert world.outcome(event) == "unauthorized"


def test_verified_token_cache_never_outlives_exp(world: World) -> None:  # T-TIME-20, T-AWS-1
    token = world.mint(exp=NOW + 300)
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    world.clock[0] = NOW + 299
    assert world.outcome(event) == "allow"
    world.clock[0] = NOW + 361
    assert world.outcome(event) == "unauthorized"
    world.clock[0] = NOW + 300 + 60 + 1  # exp + LEEWAY + 1
    assert world.outcome(event) == "unauthorized"


def test_repeated_token_still_gets_route_scopes_and_revocation(world: World) -> None:
    token = world.mint(scope="read", jti="j-repeat")
    allow = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {token}")
    deny = build_event("http_v2", "DELETE", "/orders/1", "DELETE /orders/{id}", f"Bearer {token}")
    assert world.outcome(allow) == "allow"
    assert world.outcome(deny) == "refused"  # cache hit, scopes still evaluated per request
    assert world.outcome(allow) == "allow"
    world.revoke_jti("j-repeat")
    world.feed_due()  # the revocation feed's interval elapsed
    assert world.outcome(allow) == "refused"


# ------------------------------------------------------------------ revocation: T-AWS-2 and T-JTI-2
def test_revocation_latency_is_bounded_by_the_feed_interval(world: World, decision_lines) -> None:
    token = world.mint(jti="j-live")
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    assert world.outcome(event) == "allow"
    world.revoke_jti("j-live")
    world.mono[0] += 4.9
    assert world.outcome(event) == "allow"  # documented: within REVOCATION_FEED_INTERVAL
    world.mono[0] += 0.1
    assert world.outcome(event) == "unauthorized"
    lines = decision_lines()
    assert lines[-1]["reason"] == "revoked"


def test_subject_not_before_revokes_earlier_tokens(world: World) -> None:
    world.revoke_subject("alice", NOW - 10)
    old = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(iat=NOW - 11)}")
    new = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(jti='j-new')}")
    assert world.outcome(old) == "unauthorized"
    assert world.outcome(new) == "allow"


def test_revocation_check_can_be_switched_off(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVOCATION_CHECK", "false")
    world.revoke_jti("j-off")
    world.ddb.delete_table(TableName=TABLE)  # not even read
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint(jti='j-off')}")
    assert world.outcome(event) == "allow"


# ------------------------------------------------------------------ failures are 500s (T-AWS-4/5)
@pytest.mark.parametrize("fmt_", ["rest_token", "http_v2"])
@pytest.mark.parametrize("fault", ["deleted", "garbage"])
def test_key_store_outage_is_a_500_not_a_401_nor_allow(
    world: World, decision_lines, fmt_: str, fault: str
) -> None:
    if fault == "deleted":
        world.sm.delete_secret(SecretId=JWKS_SECRET, ForceDeleteWithoutRecovery=True)
    else:
        world.sm.put_secret_value(SecretId=JWKS_SECRET, SecretString="not json")
    event = build_event(fmt_, "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    with pytest.raises(KeyStoreError):
        world.invoke(event)
    line = decision_lines()[-1]
    assert (line["level"], line["decision"], line["AuthorizerError"]) == ("ERROR", "AuthorizerError", 1)


def test_key_store_events_are_log_lines_and_metrics(world: World, decision_lines) -> None:
    """Issue 12: the authorizer reports its key store as the token functions do (it was silent)."""
    event = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    assert world.outcome(event) == "allow"
    fetched = [x for x in decision_lines() if x.get("KeySetFetched") == 1]
    assert len(fetched) == 1 and fetched[0]["level"] == "INFO"
    metrics = fetched[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert metrics == [{"Name": "KeySetFetched", "Unit": "Count"}]
    world.sm.put_secret_value(SecretId=JWKS_SECRET, SecretString="not json")
    world.mono[0] += 301  # past KEY_CACHE_TTL: the refetch fails, the cached set is served stale
    again = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    assert world.outcome(again) == "allow"
    degraded = {x["message"]: x["level"] for x in decision_lines() if "key store" in x.get("message", "")}
    assert degraded == {"key store: KeySetFetchFailed": "WARNING", "key store: KeySetStaleServed": "WARNING"}


def test_revocation_store_outage_is_a_500(world: World, decision_lines) -> None:
    world.ddb.delete_table(TableName=TABLE)
    event = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    with pytest.raises(RevocationStoreError):
        world.invoke(event)
    assert decision_lines()[-1]["reason"] == "revocation_store_unavailable"


def test_unexpected_error_propagates_and_never_allows(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from auth_core.authorizer import service

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(service, "build_context", boom)
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    with pytest.raises(RuntimeError):
        world.invoke(event)


def test_missing_issuer_for_token_events_is_a_configuration_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth_core.errors import ConfigurationError

    monkeypatch.delenv("ISSUER")
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    with pytest.raises(ConfigurationError):
        world.invoke(event)


def test_issuer_derived_from_api_domain_when_unset(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ISSUER")
    domain_issuer = "https://abcdef1234.execute-api.us-east-1.amazonaws.com"
    event = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint(iss=domain_issuer)}")
    assert world.outcome(event) == "allow"
    other = build_event("http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint()}")
    assert world.outcome(other) == "refused"


# ------------------------------------------------------------------ logging
def test_one_decision_line_per_request_without_the_token(world: World, decision_lines) -> None:
    token = world.mint(sub="user\r\nINFO forged")
    expired = world.mint(exp=NOW - 100, iat=NOW - 200)
    for value in (f"Bearer {token}", f"Bearer {expired}", "Basic x"):
        world.outcome(build_event("rest_token", "GET", "/orders", "GET /orders", value))
    lines = [x for x in decision_lines() if "decision" in x]  # (the feed's reload line is not one)
    assert [(x["decision"], x["reason"]) for x in lines] == [
        ("Allowed", "ok"),
        ("Unauthorized", "expired"),
        ("Unauthorized", "bad_bearer"),
    ]
    assert lines[0]["sub"] == "user\r\nINFO forged"
    assert "sub" not in lines[1]  # nothing from an unverified token
    raw = decision_lines.raw
    assert token not in raw
    assert expired not in raw
    assert token.split(".")[2] not in raw
    # the CR/LF in sub is escaped, not a new line (plus the feed's reload and the key fetch lines)
    assert len([line for line in raw.splitlines() if '"decision"' in line]) == 3
    assert len(raw.splitlines()) == 5
    emf = lines[1]["_aws"]["CloudWatchMetrics"][0]
    assert emf["Metrics"] == [{"Name": "Unauthorized", "Unit": "Count"}]
    assert emf["Dimensions"] == [["service"]]


def test_audience_mismatch_reason_is_logged_not_returned(world: World, decision_lines) -> None:
    event = build_event(
        "http_v2", "GET", "/orders", "GET /orders", f"Bearer {world.mint(aud=AUDIENCE + '/')}"
    )
    response = world.invoke(event)
    assert response == {"isAuthorized": False}
    assert decision_lines()[-1]["reason"] == "bad_audience"


def test_policy_helper_sanity() -> None:
    policy = {
        "policyDocument": {
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:x/prod/*"]},
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny",
                    "Resource": ["arn:x/prod/DELETE/orders/*"],
                },
            ]
        }
    }
    assert evaluate_policy(policy, "arn:x/prod/GET/orders") == "allow"
    assert evaluate_policy(policy, "arn:x/prod/DELETE/orders/1") == "deny"
    assert evaluate_policy(policy, "arn:y/prod/GET/orders") == "deny"
    assert event_arn({"version": "2.0", "routeArn": "a", "methodArn": "b"}) == "a"
    assert event_arn({"routeArn": "a", "methodArn": "b"}) == "b"


def test_snapstart_restore_hook_forgets_cached_answers(world: World) -> None:
    from functions.authorizer import app

    token = world.mint(jti="j-snap")
    event = build_event("rest_token", "GET", "/orders", "GET /orders", f"Bearer {token}")
    assert world.outcome(event) == "allow"
    world.revoke_jti("j-snap")
    assert world.outcome(event) == "allow"  # cached revocation answer
    app._forget_caches()  # what the after-restore hook runs
    assert len(app._authorizer().cache) == 0
    assert world.outcome(event) == "unauthorized"
