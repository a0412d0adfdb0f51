"""DPoP at a resource the token service answers itself (RFC 9449 §7): ``/userinfo``.

The API routes behind the Lambda authorizer check DPoP there (:mod:`auth_core.authorizer.dpop`);
``/userinfo`` is a Lambda function of its own (it must send RFC 6750 challenges, which an
authorizer cannot), so it checks the same things here, with the authorizer's check
(:class:`~auth_core.authorizer.dpop.DPoPCheck`):

1. the credentials are ``Authorization: DPoP <token>`` (the authorizer's grammar,
   :func:`auth_core.authorizer.dpop.dpop_token`); the token must be bound (``cnf.jkt``): a
   bearer token sent as ``DPoP`` is ``invalid_token``, and a bound token sent as ``Bearer`` is
   refused by :class:`~auth_core.oauth.userinfo.UserinfoService` (§7.2, the stolen-token case);
2. one ``DPoP`` header (API Gateway joins repeated headers with a comma, which no compact JWS
   has), a proof passing every check of :mod:`auth_core.dpop` for this request -- ``htm`` its
   method, ``htu`` the issuer plus ``/userinfo`` (the public URL, behind API Gateway and a custom
   domain, as at ``/token``) -- with ``ath`` the hash of this token, by the key ``cnf.jkt`` names;
3. the proof is new: this instance's memory, then the shared record in the sessions table (the
   same ``dpop#`` records as ``/token`` and the authorizer: a proof is spent everywhere at once).

Errors (§7.1) are 401 with a ``DPoP`` challenge naming the error (``invalid_token``,
``invalid_dpop_proof``) and the ``algs`` accepted: :func:`challenge`. Server nonces are the
token endpoint's (``DPOP_NONCE_REQUIRED``): ``/userinfo`` does not ask for them (§9 leaves that
to each resource server; it would need the signing key set's secret, which this function may not
read). A replay record that cannot be written is a 503: the proof is refused, never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auth_core.errors import TokenError

if TYPE_CHECKING:
    from auth_core.authorizer.dpop import DPoPCheck

__all__ = ["DPoPPresentation", "challenge", "check_presentation"]


@dataclass(frozen=True)
class DPoPPresentation:
    """What a ``DPoP``-scheme request presents beside its token."""

    #: the ``DPoP`` header (``None``: the request had none)
    proof: str | None
    #: the request's method and public URL (what ``htm`` and ``htu`` must name)
    method: str
    url: str


def check_presentation(check: DPoPCheck, presentation: DPoPPresentation, token: str, jkt: str | None) -> None:
    """Refuse unless ``presentation`` carries a new proof by key ``jkt`` for ``token``, with the
    authorizer's check (:meth:`auth_core.authorizer.dpop.DPoPCheck.spend`).

    :param jkt: the token's ``cnf.jkt`` (:func:`auth_core.authorizer.dpop.bound_key`).
    :raises TokenError: the token is not bound (``invalid_token``).
    :raises InvalidDPoPProofError: the proof is missing, fails a check, or was used before.
    :raises StoreUnavailableError: the shared replay record could not be written (503).
    """
    if not jkt:
        raise TokenError("a DPoP request needs a DPoP-bound token", reason="dpop_token_not_bound")
    check.spend(presentation.proof, method=presentation.method, url=presentation.url, token=token, jkt=jkt)


def challenge(scheme: str, error: str, algorithms: Iterable[str] = ()) -> str:
    """A ``WWW-Authenticate`` challenge (RFC 6750 §3, RFC 9449 §7.1): ``scheme error="error"``
    (no ``error`` when ``error`` is empty: a request without credentials, RFC 6750 §3.1), and for
    ``DPoP`` the ``algs`` the proofs may use."""
    params = [f'error="{error}"'] if error else []
    algs = " ".join(algorithms)
    if scheme == "DPoP" and algs:
        params.append(f'algs="{algs}"')
    return f"{scheme} {', '.join(params)}" if params else scheme
