"""Fixtures of the boto3-free client's unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from auth_core import aws_json


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every socket path raises: a refusal that came too late (after a connect or a DNS lookup)
    fails the test. Starts from no cached client."""

    def forbidden(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a socket was opened or a name resolved")

    monkeypatch.setattr("socket.socket.connect", forbidden)
    monkeypatch.setattr("socket.create_connection", forbidden)
    monkeypatch.setattr("socket.getaddrinfo", forbidden)
    aws_json.reset_clients()
