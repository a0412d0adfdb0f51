"""Test tables built from ``template.yaml``: one source of truth for keys, indexes and TTL.

Tests name a table by its logical id and give it any physical name; the key schema, GSIs, TTL
and PITR come from the template, exactly as the local stack creates them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from local_stack.cfn import Template, load_template
from local_stack.resources import create_table
from local_stack.sam import table_spec

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


@cache
def _template() -> Template:
    return load_template(TEMPLATE)


def create_template_table(ddb: Any, logical_id: str, name: str) -> None:
    """Create ``template.yaml``'s ``logical_id`` table on ``ddb`` (moto) under ``name``."""
    resource = _template().resources[logical_id]
    create_table(ddb, table_spec(logical_id, name, resource, resource.get("Properties") or {}))
