"""The authorizer's line writer honours the log level the functions' Powertools loggers honour:
``AWS_LAMBDA_LOG_LEVEL`` (Lambda's advanced logging controls, from the function's
``ApplicationLogLevel``) first, then ``POWERTOOLS_LOG_LEVEL``. Decisions are INFO lines: at WARN
none is written (Lambda would drop them anyway, after we paid for them), and an outage's ERROR
line still is. Every answer stays what it was."""

from __future__ import annotations

from typing import Any

import pytest

from auth_core.errors import ConfigurationError, RevocationStoreError
from auth_core.settings import Settings
from tests.functional.authorizer.conftest import TABLE, World, build_event


def _event(world: World, path: str = "/orders", **claims: Any) -> dict[str, Any]:
    return build_event("http_v2", "GET", path, f"GET {path}", f"Bearer {world.mint(**claims)}")


@pytest.mark.parametrize(
    ("variables", "written"),
    [
        ({}, True),
        ({"POWERTOOLS_LOG_LEVEL": "DEBUG"}, True),
        ({"AWS_LAMBDA_LOG_LEVEL": "WARN"}, False),
        ({"POWERTOOLS_LOG_LEVEL": "warning"}, False),
        ({"AWS_LAMBDA_LOG_LEVEL": "INFO", "POWERTOOLS_LOG_LEVEL": "ERROR"}, True),  # Lambda's wins
        ({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, False),
        ({"LOG_LEVEL": "error"}, False),  # Powertools' legacy variable
        ({"POWERTOOLS_LOG_LEVEL": "NOTSET"}, True),
        # Not one of Lambda's values (Lambda sets exactly these): ignored, as Powertools does.
        ({"AWS_LAMBDA_LOG_LEVEL": "warn", "POWERTOOLS_LOG_LEVEL": "ERROR"}, False),
        ({"AWS_LAMBDA_LOG_LEVEL": "LOUD"}, True),
    ],
)
def test_decision_lines_follow_the_log_level(
    world: World,
    decision_lines: Any,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    written: bool,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    allowed = _event(world)
    assert world.outcome(allowed) == "allow"
    assert world.outcome(allowed) == "allow"  # the repeated token's prebuilt answer
    assert world.outcome(_event(world, scope="other")) == "refused"  # 403: the scope is missing
    assert world.outcome(_event(world, aud="someone-else")) == "refused"  # a bad token
    decisions = [line for line in decision_lines() if "decision" in line]
    if written:
        assert [line["decision"] for line in decisions] == ["Allowed", "Allowed", "Denied", "Unauthorized"]
    else:
        assert decisions == []


def test_an_outage_is_still_written_at_warn(
    world: World, decision_lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
    assert world.outcome(_event(world)) == "allow"  # the cold start: its line is not written
    world.ddb.delete_table(TableName=TABLE)
    world.mono[0] += 60  # past REVOCATION_FEED_MAX_STALENESS: the feed must be read, and cannot
    with pytest.raises(RevocationStoreError):
        world.invoke(_event(world))
    lines = [line for line in decision_lines() if "decision" in line]
    assert [(line["level"], line["decision"]) for line in lines] == [("ERROR", "AuthorizerError")]
    assert lines[0]["cold_start"] is False  # not the first invocation


@pytest.mark.parametrize("level", ["INFO", "WARN"])
def test_every_line_of_the_first_invocation_is_the_cold_starts(
    world: World, decision_lines: Any, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    """As Powertools marks them: the key fetch, the decision, an outage of the first invocation."""
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", level)
    world.ddb.delete_table(TableName=TABLE)  # the first invocation's feed read fails
    with pytest.raises(RevocationStoreError):
        world.invoke(_event(world))
    first = decision_lines()
    assert first and all(line["cold_start"] is True for line in first)
    assert ("ERROR", "AuthorizerError") in [(line["level"], line.get("decision")) for line in first]
    with pytest.raises(RevocationStoreError):
        world.invoke(_event(world))
    second = decision_lines()
    assert second and all(line["cold_start"] is False for line in second)


def test_an_unknown_python_log_level_is_one_clear_configuration_error(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigurationError, match="POWERTOOLS_LOG_LEVEL must be one of"):
        Settings.from_env()
    with pytest.raises(ConfigurationError, match="log_level must be one of"):
        Settings(log_level="warn").validate()
