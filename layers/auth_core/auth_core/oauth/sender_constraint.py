"""DPoP at the token endpoint (RFC 9449 §5): proofs in, key-bound tokens out.

:class:`DPoPGate` is the token endpoint's one DPoP step, run before a grant:

* no ``DPoP`` header: the request goes on as it is (its client may still require one:
  :meth:`DPoPGate.require_for`);
* a header: the proof is checked (:mod:`auth_core.dpop`) for ``POST`` to the endpoint's public
  URL -- the issuer plus the route, which is what the client addressed behind API Gateway and a
  custom domain -- its ``jti`` is recorded once (:mod:`auth_core.stores.dpop`, shared by every
  instance), and the request carries the key's thumbprint (``OAuthRequest.dpop_jkt``).

What a bound request gets (``TokenService``): access tokens with ``cnf.jkt`` and
``token_type: DPoP`` (:func:`bind_issuers`), and, for a public client, a refresh-token family bound
to the same key: every refresh must come with a proof by it (§5). A confidential client's refresh
tokens are bound by its client authentication instead, as §5 says.

Server nonces (§8) are on with ``DPOP_NONCE_REQUIRED``: a proof without a fresh nonce gets
``use_dpop_nonce`` and the nonce in a ``DPoP-Nonce`` header. Nonces are stateless (an HMAC of the
time window) under a key derived from the key set's server-side secret, so every instance of
``/token`` and ``/refresh`` issues and accepts the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from auth_core.dpop import DPoPVerifier, NonceIssuer, ReplayCache
from auth_core.errors import ConfigurationError, InvalidDPoPProofError
from auth_core.oauth.request import DPOP_HEADER, OAuthRequest

__all__ = ["DPoPGate", "bind_issuers"]



class DPoPGate:
    """Checks a token request's DPoP proof (module docstring).

    :param nonce_secret: the server-side secret nonces are derived from (called on the first
        request that needs one); ``None`` when nonces are off.
    """

    def __init__(
        self,
        verifier: DPoPVerifier,
        replay: ReplayCache,
        *,
        require_nonce: bool = False,
        nonce_secret: Callable[[], bytes | None] | None = None,
    ) -> None:
        self.verifier = verifier
        self.replay = replay
        self.require_nonce = require_nonce
        self._nonce_secret = nonce_secret

    def check(self, request: OAuthRequest, url: str) -> OAuthRequest:
        """``request``, with ``dpop_jkt`` set when it carries a valid proof for ``POST url``
        (its replay record is written by :meth:`record`, after client authentication).

        :raises InvalidDPoPProofError: the proof fails a check.
        :raises UseDPoPNonceError: nonces are required and the proof has no fresh one.
        """
        proof = request.headers.get(DPOP_HEADER)
        if proof is None:
            return request
        if self.require_nonce and self.verifier.nonces is None:
            self.verifier.nonces = self._nonces()
        checked = self.verifier.verify(proof, method="POST", url=url, require_nonce=self.require_nonce)
        return replace(request, dpop_jkt=checked.jkt, dpop_replay=(checked.replay_key(), checked.expires_at))

    def record(self, request: OAuthRequest) -> None:
        """Record the request's proof as used, once its client has authenticated (so that
        nobody writes replay records without credentials).

        :raises InvalidDPoPProofError: ``dpop_replay``: the proof was used before.
        :raises StoreUnavailableError: the replay record could not be written (503).
        """
        if request.dpop_replay is not None and not self.replay.first_use(*request.dpop_replay):
            raise InvalidDPoPProofError(reason="dpop_replay")

    def _nonces(self) -> NonceIssuer:
        secret = self._nonce_secret() if self._nonce_secret is not None else None
        if not secret:
            raise ConfigurationError("DPOP_NONCE_REQUIRED needs the key set's server-side secret")
        key = hmac.new(secret, b"dpop-nonce", hashlib.sha256).digest()
        return NonceIssuer(key, clock=self.verifier.clock)


class _BoundIssuer:
    """An access-token issuer whose every token is bound to one DPoP key."""

    def __init__(self, inner: Any, jkt: str) -> None:
        self._inner = inner
        self._jkt = jkt

    @property
    def issuer(self) -> str:
        return str(self._inner.issuer)

    def issue(self, key: Any, **kwargs: Any) -> Any:
        return self._inner.issue(key, confirmation=self._jkt, **kwargs)


def bind_issuers(issuers: Callable[[int], Any], jkt: str | None) -> Callable[[int], Any]:
    """``issuers`` whose tokens carry ``cnf.jkt`` = ``jkt`` (unchanged when ``jkt`` is None)."""
    if jkt is None:
        return issuers
    return lambda ttl: _BoundIssuer(issuers(ttl), jkt)
