"""More than one region (docs/operations.md, "More than one region").

The key secrets are Secrets Manager secrets replicated to other regions; a replica has the
primary's name and the primary's ARN with its own region in it. A function deployed in a replica
region must read the replica in its region: a full ARN naming another region would send the
request across regions (or be refused), so the secret ids of the settings are rewritten to the
function's region (:func:`secret_id_in_region`). Names (not ARNs) are region-independent already.

A replica cannot be written: rotation and key revocation run in the primary region only
(:func:`replica_primary_region` tells a replica from the primary by what ``DescribeSecret``
returns, and :mod:`auth_core.secrets_rotation` refuses with a clear error).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: ``arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>``
_SECRET_ARN = re.compile(r"^(arn:[a-z0-9-]+:secretsmanager:)([a-z0-9-]*)(:[0-9]{12}:secret:.+)$")


def secret_id_in_region(secret_id: str, region: str | None) -> str:
    """``secret_id`` as seen from ``region``: a Secrets Manager ARN of another region becomes the
    ARN of its replica in ``region`` (same account, name and suffix); a name, an ARN of
    ``region`` itself, or no region (nothing to rewrite to) are returned unchanged.

    A secret that is not replicated to ``region`` is then simply not found there: the key store
    fails closed (503), never reads across regions.
    """
    if not region:
        return secret_id
    found = _SECRET_ARN.match(secret_id)
    if found is None or found.group(2) == region:
        return secret_id
    return f"{found.group(1)}{region}{found.group(3)}"


def arn_region(arn: str) -> str:
    """The region field of an ARN (``""`` when there is none)."""
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 else ""


def replica_primary_region(describe_secret: Mapping[str, Any]) -> str | None:
    """The primary region of the secret ``DescribeSecret`` answered for, when that answer is a
    replica's (its ``PrimaryRegion`` differs from the region of its ``ARN``); ``None`` for a
    primary secret or a secret that is not replicated."""
    primary = describe_secret.get("PrimaryRegion")
    if not primary:
        return None
    here = arn_region(str(describe_secret.get("ARN") or ""))
    return str(primary) if here and here != primary else None
