"""Request builders for the OAuth tests (core-level :class:`OAuthRequest` and handler events)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any
from urllib.parse import quote_plus, urlencode

from auth_core.oauth.request import OAuthRequest, parse_request
from tests.conftest import load_event


def http_event(
    path: str = "/token",
    params: dict[str, str] | None = None,
    *,
    body: str | None = None,
    method: str = "POST",
    content_type: str | None = "application/x-www-form-urlencoded",
    basic: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    b64: bool = False,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, built from the shape of events/issue_token_password.json.

    ``params`` of a confidential test client get its secret (``client_secret_post``) unless
    ``basic`` is given or they set ``client_secret`` (``""``: send none)."""
    event = copy.deepcopy(load_event("issue_token_password.json"))
    event["rawPath"] = path
    event["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = query
    hdrs = {k: v for k, v in event["headers"].items() if k != "content-type"}
    if content_type:
        hdrs["content-type"] = content_type
    if basic:
        raw = f"{quote_plus(basic[0])}:{quote_plus(basic[1])}".encode()
        hdrs["authorization"] = "Basic " + base64.b64encode(raw).decode()
    hdrs.update(headers or {})
    event["headers"] = hdrs
    if body is None and params is not None:
        body = urlencode(params if basic else _with_secret(params))
    if b64 and body is not None:
        body = base64.b64encode(body.encode()).decode()
    event["isBase64Encoded"] = b64
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = body
    return event


#: client_id -> secret of the confidential clients ``Stack.add_client`` created (those with the
#: password grant get one made up by :func:`client_secret_for`: that grant is confidential-only)
CLIENT_SECRETS: dict[str, str] = {}


#: a public client (a browser or mobile app): the authorization code grant and refresh only
PUBLIC_CLIENT = "public-spa"
PUBLIC_CLIENT_SETTINGS: dict[str, Any] = {
    "grants": ("authorization_code", "refresh_token"),
    "redirect_uris": ("https://app.example.com/cb",),
    "first_party": True,
}


def code_flow(
    stack: Any,
    service: Any,
    issuers: Any,
    clock: Any,
    client_id: str = PUBLIC_CLIENT,
    headers: dict[str, str] | None = None,
    authorization: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Sign ``alice`` in through the authorization code flow with PKCE (the way a public client
    gets tokens), on ``service``'s ``clock``; the token response. ``authorization``: more
    authorization request parameters; ``headers``: the token request's."""
    from auth_core.oauth import pkce
    from auth_core.oauth.authorize import AuthorizationService
    from auth_core.oauth.request import ClientCredentials
    from tests.functional.oauth.conftest import FAST_HASHER, PASSWORD

    verifier = "v" * 50
    settings = stack.settings(key_fetch_strategy="sdk")
    authz = AuthorizationService.from_settings(settings, hasher=FAST_HASHER, clock=clock)
    request = authz.parse(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": PUBLIC_CLIENT_SETTINGS["redirect_uris"][0],
            "code_challenge": pkce.challenge_of(verifier),
            "code_challenge_method": "S256",
            **(authorization or {}),
        }
    )
    signed = authz.sign_in(request, "alice", PASSWORD, None)
    code = authz.issue_code(request, signed.session).params["code"]
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.redirect_uri,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    token_request = OAuthRequest(
        params=params, client=ClientCredentials(client_id, None, "none"), headers=headers or {}
    )
    return json.loads(service.token(token_request, issuers).body)


def client_secret_for(client_id: str) -> str:
    """The made-up secret of a test client that has the password grant."""
    return ("secret-" + client_id + "-" + "x" * 43)[:64]


def _with_secret(params: dict[str, str]) -> dict[str, str]:
    """``params`` plus ``client_secret`` (``client_secret_post``) when the client is a confidential
    test client and the caller set none (``client_secret=""`` means: send none)."""
    if "client_secret" not in params and params.get("client_id") in CLIENT_SECRETS:
        return {**params, "client_secret": CLIENT_SECRETS[params["client_id"]]}
    return {k: v for k, v in params.items() if not (k == "client_secret" and v == "")}


def form(params: dict[str, str], *, basic: tuple[str, str] | None = None) -> OAuthRequest:
    """A parsed form request, as the handlers would build it (with the client's test secret,
    unless it authenticates with ``basic`` or sets ``client_secret`` itself: :func:`http_event`)."""
    return parse_request(http_event(params=params, basic=basic))


def password_request(
    username: str = "alice", password: str | None = None, client_id: str = "demo-spa", **extra: str
) -> OAuthRequest:
    from tests.functional.oauth.conftest import PASSWORD

    params = {
        "grant_type": "password",
        "username": username,
        "password": PASSWORD if password is None else password,
        "client_id": client_id,
        **extra,
    }
    return form(params)


def refresh_request(token: str, client_id: str = "demo-spa", **extra: str) -> OAuthRequest:
    return form({"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id, **extra})


def body(result: Any) -> dict[str, Any]:
    """The JSON body of a TokenResult or a handler response."""
    text = result.body if hasattr(result, "body") else result["body"]
    return json.loads(text)


#: what the sample events' ``{{placeholders}}`` become in tests (the local stack fills its own).
SAMPLE_VALUES = {"username": "alice", "client_id": "demo-spa", "client_secret": ""}


def sample_event(name: str, **values: str) -> dict[str, Any]:
    """``events/<name>`` with its ``{{placeholders}}`` filled, encoded for the event's content type.

    Defaults: user ``alice`` with the test password, public client ``demo-spa`` (an empty
    ``client_secret`` counts as absent, RFC 6749 §3.1).
    """
    import re

    from tests.functional.oauth.conftest import PASSWORD

    event = copy.deepcopy(load_event(name))
    merged = {**SAMPLE_VALUES, "password": PASSWORD, **values}
    if not values.get("client_secret") and merged["client_id"] in CLIENT_SECRETS:
        merged["client_secret"] = CLIENT_SECRETS[merged["client_id"]]
    is_json = event["headers"].get("content-type") == "application/json"

    def encode(match: re.Match[str]) -> str:
        value = merged[match.group(1)]
        return json.dumps(value)[1:-1] if is_json else quote_plus(value)

    event["body"] = re.sub(r"\{\{(\w+)\}\}", encode, event["body"])
    return event


def poke_user(ddb: Any, username: str, **values: Any) -> None:
    """Change a user item's attributes directly (no version bump, no cut-off): for tests that
    prove one check works on its own. Values: bool -> BOOL, int -> N."""
    names = {f"#a{i}": name for i, name in enumerate(values)}
    encoded = {
        f":v{i}": ({"BOOL": value} if isinstance(value, bool) else {"N": str(value)})
        for i, value in enumerate(values.values())
    }
    ddb.update_item(
        TableName="users",
        Key={"username": {"S": username}},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=encoded,
    )
