"""auth_core: the shared layer of the serverless JWT authentication service.

Where things live (folder and file names say it):

* ``algorithms.py`` -- the only importer of ``cryptography.hazmat`` for signing: RS256, PS256,
  ES256, EdDSA keys; a key carries its one algorithm.
* ``jwk.py`` -- JWK / JWKS import and export, RFC 7638 thumbprints (our key ids).
* ``keyset.py`` -- the key-set document stored in Secrets Manager (status, dates).
* ``jws.py`` -- compact JWS: where a token is **signed** (``sign_compact``) and **verified**
  (``verify_compact``), with every structural and header rule.
* ``claims.py`` -- RFC 9068 access-token claim rules; ``tokens.py`` -- issue/verify recipes.
* ``keystore.py`` -- where keys are **loaded** (Secrets Manager, TTL cache, stale window).
* ``errors.py`` -- the one exception hierarchy; ``http.py`` maps it to responses.

Nothing heavy is imported here: functions import the submodules they need.
"""

__version__ = "0.1.0"
