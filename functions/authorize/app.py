"""PLACEHOLDER, replaced by the hosted-pages branch (h/hosted): not the hosted sign-in pages.

It exists only so that the template's ``AuthorizeFunction`` (CodeUri ``functions/authorize/``)
has code for the template checks, ``sam build`` and the local stack to load. It implements
nothing: every route answers ``501 Not Implemented``. The real handler builds
``auth_core.oauth.authorize.AuthorizationService.from_settings(...)`` and renders the pages.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from auth_core.settings import Settings


@functools.cache
def settings() -> Settings:
    """Read once, like every function (so the template-wiring check has a factory to build)."""
    return Settings.from_env()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 501,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps({"error": "not_implemented", "error_description": "placeholder handler"}),
    }
