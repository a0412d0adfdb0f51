"""Custom claims hooks the functional tests name in ``CLAIMS_HOOK`` (imported by reference, as
a deployment's hook module in a layer is). ``MODE`` switches what :func:`by_mode` does."""

from __future__ import annotations

from typing import Any

from auth_core.oauth.claims_hook import ClaimsHookInput

#: what :func:`by_mode` does: "ok", "raise", "raise_on_id", "reserved", "bad"
MODE = {"value": "ok"}
#: every input :func:`by_mode` was called with
CALLS: list[ClaimsHookInput] = []


def by_mode(request: ClaimsHookInput) -> Any:
    CALLS.append(request)
    mode = MODE["value"]
    if mode == "raise" or (mode == "raise_on_id" and request.token_kind == "id"):
        raise RuntimeError("the tenant service is down")
    if mode == "reserved":
        return {"tenant": "t-1", "sub": "admin"}
    if mode == "bad":
        return ["tenant", "t-1"]
    if request.token_kind == "id":
        return {"tenant_name": "Tenant One"}
    return {"tenant": "t-1", "entitlements": list(request.roles)}


NOT_CALLABLE = "a string"
