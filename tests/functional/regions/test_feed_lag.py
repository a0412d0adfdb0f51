"""The revocation feed across regions. A revocation replicated into another region keeps its
writer's ``changed_ms``; each read of the feed re-reads only ``REVOCATION_FEED_OVERLAP`` back.
With the single-region default (30 s) an entry replicated 60 s late is missed until the hourly
full reload; with the multi-region setting (300 s, what the template sets) it applies within
one interval of its arrival. Two moto regions, replication done by copying items as they are."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from auth_core import aws
from auth_core.revocation_feed import feed_from_settings
from auth_core.settings import Settings
from auth_core.stores.revocations import RevocationStore
from tests.tables import create_template_table

TABLE = "auth-revocations"


def _replicate(src: Any, dst: Any) -> None:
    for item in src.scan(TableName=TABLE, ConsistentRead=True)["Items"]:
        dst.put_item(TableName=TABLE, Item=item)  # global tables keep the writer's changed_ms


def _late_revocation(overlap: str | None, lag: int) -> tuple[bool, bool]:
    """Revoke in us-east-1, replicate ``lag`` seconds later into eu-west-1 whose feed polls
    every 5 s: (seen one interval after arrival, seen after the full reload)."""
    with mock_aws():
        a = boto3.client("dynamodb", region_name="us-east-1")
        b = boto3.client("dynamodb", region_name="eu-west-1")
        for c in (a, b):
            create_template_table(c, "RevocationsTable", TABLE)
        aws.set_client("dynamodb", b)  # the functions in eu-west-1
        wall, mono = [1_800_000_000.0], [0.0]
        env = {"REVOCATIONS_TABLE": TABLE, "REVOCATION_FEED_INTERVAL": "5"}
        if overlap is not None:
            env["REVOCATION_FEED_OVERLAP"] = overlap
        feed = feed_from_settings(Settings.from_env(env), clock=lambda: mono[0], wall=lambda: wall[0])

        def tick(seconds: int) -> None:
            for _ in range(seconds // 5):
                wall[0] += 5
                mono[0] += 5
                feed.current()

        feed.current()
        RevocationStore(TABLE, client=a, clock=lambda: wall[0]).revoke_jti("stolen", int(wall[0]) + 7200)
        tick(lag)
        _replicate(a, b)
        tick(5)
        soon = "stolen" in feed.current().jtis
        tick(3600)
        return soon, "stolen" in feed.current().jtis


def test_the_multi_region_overlap_applies_a_late_revocation_within_one_interval() -> None:
    assert _late_revocation("300", lag=60) == (True, True)
    assert _late_revocation("300", lag=240) == (True, True)


def test_the_single_region_default_waits_for_the_full_reload() -> None:
    """The documented bound beyond the overlap: the next full reload (an hour)."""
    assert Settings.from_env({}).revocation_feed_overlap == 30
    assert _late_revocation(None, lag=60) == (False, True)
    assert _late_revocation(None, lag=20) == (True, True)


@pytest.mark.parametrize("raw", ["4", "3601", "soon"])
def test_the_overlap_is_validated(raw: str) -> None:
    from auth_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="REVOCATION_FEED_OVERLAP"):
        Settings.from_env({"REVOCATION_FEED_OVERLAP": raw})
