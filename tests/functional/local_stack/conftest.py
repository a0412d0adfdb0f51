"""Fixtures shared by the local stack's socket tests."""

from __future__ import annotations

import pytest

from local_stack.apigw import Gateway
from local_stack.server import GatewayServer
from tests.functional.local_stack.helpers import make_model
from tests.functional.local_stack.test_gateway import Clock, FakeInvoker


@pytest.fixture
def served(tmp_path):
    invoker = FakeInvoker()
    server = GatewayServer("127.0.0.1", 0)
    server.gateway = Gateway(
        make_model(tmp_path), invoker, domain_name=f"127.0.0.1:{server.port}", clock=Clock()
    )
    server.start()
    try:
        yield server, invoker
    finally:
        server.stop()
