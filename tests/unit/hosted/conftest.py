"""The hosted function with the fake core behind it, and helpers to read its pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.conftest import FakeLambdaContext
from tests.hosted_fake import FakeAuthorization


class Page(HTMLParser):
    """What the tests look at in a page: tags, forms' fields, texts, attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def fields(self) -> dict[str, str]:
        """The hidden and filled inputs of the (first) form."""
        return {a["name"]: a.get("value", "") for a in self.all("input") if "name" in a}

    def action(self) -> str:
        return self.all("form")[0]["action"]

    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture
def fake() -> FakeAuthorization:
    return FakeAuthorization()


@pytest.fixture
def call(fake: FakeAuthorization, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., dict[str, Any]]]:
    """``call(event)`` runs the real ``lambda_handler`` with ``fake`` as the core."""
    monkeypatch.delenv("ISSUER", raising=False)
    import functions.authorize.app as hosted_app

    monkeypatch.setattr(hosted_app, "service_factory", lambda _settings, _audit: fake)
    for factory in (hosted_app.settings, hosted_app.service, hosted_app.hosted):
        factory.cache_clear()

    def run(event: dict[str, Any]) -> dict[str, Any]:
        return hosted_app.lambda_handler(event, FakeLambdaContext())

    yield run
    for factory in (hosted_app.settings, hosted_app.service, hosted_app.hosted):
        factory.cache_clear()


def cookie_pairs(response: dict[str, Any]) -> list[str]:
    """The ``name=value`` of each ``Set-Cookie`` (what a browser would send back)."""
    return [c.split(";", 1)[0] for c in response["cookies"]]
