"""A client created just after its id was looked up works at once: misses are not cached
(hits are, and the cache stays bounded: unknown ids are attacker-chosen)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from auth_core.errors import InvalidClientError
from auth_core.stores.clients import ClientStore
from authctl.cli import main
from tests.functional.oauth.helpers import body, password_request


def test_new_client_usable_at_once_by_a_warm_service(stack, service, issuers, capsys):
    stack.add_user()
    with pytest.raises(InvalidClientError):  # a client used just before it exists
        service.token(password_request(client_id="web", scope="read"), issuers)
    capsys.readouterr()
    argv = [
        "clients",
        "create",
        "web",
        "--grants",
        "password",
        "--confidential",
        "--scopes",
        "openid",
        "read",
    ]
    assert main(argv) == 0
    secret = json.loads(capsys.readouterr().out)["client_secret"]
    login = password_request(client_id="web", scope="read", client_secret=secret)
    assert "access_token" in body(service.token(login, issuers))


class CountingDynamo:
    def __init__(self, real: Any) -> None:
        self._real = real
        self.gets = 0

    def get_item(self, **kw: Any) -> Any:
        self.gets += 1
        return self._real.get_item(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_misses_are_not_cached_hits_are(stack):
    ddb = CountingDynamo(boto3.client("dynamodb"))
    store = ClientStore("clients", client=ddb)
    for i in range(2000):
        assert store.get(f"unknown-{i}") is None
    assert ddb.gets == 2000  # one GetItem per unknown id, as the first miss always cost
    assert len(store._cache) == 0  # attacker-chosen ids never enter the cache
    assert store.get("web") is None
    stack.add_client("web")
    assert store.get("web") is not None  # created after the miss: found at once
    assert store.get("web") is not None
    assert ddb.gets == 2002  # the hit was cached


def test_a_fresh_miss_does_not_poison_the_cache(stack):
    store = ClientStore("clients")
    assert store.get_fresh("web") is None
    stack.add_client("web")
    assert store.get("web") is not None
