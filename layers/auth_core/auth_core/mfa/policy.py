"""Who must present a second factor: the user's ``mfa`` setting and the client's, the stricter wins.

``off``       no second factor, even for an enrolled user (a client of a kiosk or a test rig);
``optional``  (the default) an enrolled user is asked for one; an unenrolled user is not;
``required``  every user must present one; one not enrolled yet enrols during sign-in.

A request's ``acr_values`` naming :data:`ACR_MFA` raises the level to ``required`` for that
request (OpenID Connect Core §3.1.2.1: a voluntary request we choose to honour).
"""

from __future__ import annotations

__all__ = ["ACR_MFA", "ACR_PASSWORD", "LEVELS", "acr_for", "effective", "is_level"]

OFF, OPTIONAL, REQUIRED = "off", "optional", "required"
LEVELS = (OFF, OPTIONAL, REQUIRED)
#: ``acr`` of a sign-in with a password only / with a second factor (NIST SP 800-63B AAL1/AAL2)
ACR_PASSWORD = "aal1"
ACR_MFA = "aal2"


def is_level(value: str) -> bool:
    return value in LEVELS


def effective(user: str, client: str, acr_values: tuple[str, ...] = ()) -> str:
    """The stricter of the two settings (an unknown or empty value reads as ``optional``)."""
    rank = {level: i for i, level in enumerate(LEVELS)}
    levels = [v if v in rank else OPTIONAL for v in (user, client)]
    if ACR_MFA in acr_values:
        levels.append(REQUIRED)
    return max(levels, key=rank.__getitem__)


def acr_for(amr: tuple[str, ...]) -> str:
    """The ``acr`` a sign-in with these methods reached."""
    return ACR_MFA if "otp" in amr else ACR_PASSWORD
