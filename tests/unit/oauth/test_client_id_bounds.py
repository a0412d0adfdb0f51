"""Client ids are bounded before any AWS call (real DynamoDB refuses keys over 2,048 bytes).

The store is a real :class:`ClientStore` whose DynamoDB client fails the test on any call: a
client id that could never be stored must end as ``invalid_client`` (401) without a request
that real DynamoDB would answer with a ``ValidationException`` (a 5xx for an anonymous caller;
moto accepts such keys, so only this test notices).
"""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.errors import InvalidClientError
from auth_core.oauth.client_auth import MAX_CLIENT_ID_LENGTH, authenticate_client, is_valid_client_id
from auth_core.oauth.request import ClientCredentials
from auth_core.stores.clients import ClientStore


class NoCalls:
    """A DynamoDB client that must not be used."""

    def __getattr__(self, name: str) -> Any:
        pytest.fail(f"DynamoDB {name} called for a client id that cannot exist")


class Recording:
    def __init__(self) -> None:
        self.keys: list[Any] = []

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.keys.append(kwargs["Key"])
        return {}


@pytest.mark.parametrize(
    "client_id",
    [
        "a" * (MAX_CLIENT_ID_LENGTH + 1),
        "a" * 8192,  # what the request parser lets through
        "x" * 2049,  # over DynamoDB's key limit
        "caf\u00e9",  # not VSCHAR (RFC 6749 A.1)
        "\u00e9" * 1100,  # 1,100 characters but 2,200 UTF-8 bytes
        "tab\there",
        "nul\x00",
        "del\x7f",
    ],
)
@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize("secret", [None, "s3cret"])
def test_unstorable_client_id_is_invalid_client_without_a_store_call(
    client_id: str, fresh: bool, secret: str | None
) -> None:
    store = ClientStore("clients", client=NoCalls())
    with pytest.raises(InvalidClientError) as info:
        authenticate_client(ClientCredentials(client_id, secret, "post"), store, fresh=fresh)
    assert info.value.status == 401
    assert info.value.error_code == "invalid_client"
    assert info.value.reason == "client_id_invalid"


@pytest.mark.parametrize("client_id", ["a" * MAX_CLIENT_ID_LENGTH, "svc:odd id", "web-app", "~!"])
def test_plausible_client_ids_are_looked_up(client_id: str) -> None:
    ddb = Recording()
    store = ClientStore("clients", client=ddb)
    with pytest.raises(InvalidClientError) as info:
        authenticate_client(ClientCredentials(client_id, None, "none"), store, fresh=True)
    assert info.value.reason == "client_unknown"
    assert ddb.keys == [{"client_id": {"S": client_id}}]


def test_bound_is_far_below_dynamodb_key_limit() -> None:
    longest = "~" * MAX_CLIENT_ID_LENGTH
    assert is_valid_client_id(longest)
    assert len(longest.encode()) <= 2048
    assert not is_valid_client_id("")
