from __future__ import annotations

from typing import Any

import pytest

from tests.unit.template.cfn import MODES, in_mode, load


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The template as a single-region stack deploys it (the default parameters): what the
    structure tests judge. tests/unit/template/test_multi_region.py judges the other modes."""
    return in_mode(load(), MODES["single-region"])


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="session")
def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: res.get("Properties") or {}
        for lid, res in resources.items()
        if res["Type"] == "AWS::Serverless::Function"
    }
