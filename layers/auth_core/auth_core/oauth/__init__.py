"""The OAuth 2.0 endpoints' core: ``/token``, ``/refresh`` (RFC 6749) and ``/revoke`` (RFC 7009).

* ``request.py`` -- strict request parsing: form or JSON bodies, base64 bodies, HTTP Basic,
  repeated-parameter and size rejection. Everything a client sends goes through it.
* ``client_auth.py`` -- who the client is (``client_secret_basic`` / ``client_secret_post`` /
  public clients).
* ``grants.py`` -- :class:`TokenService`: the password, client_credentials and refresh_token grants.
* ``refresh.py`` -- refresh-token minting, rotation, reuse detection, the retry-safe grace window.
* ``grace.py`` -- sealing the cached grace response under a key derived from the parent token.
* ``revocation.py`` -- RFC 7009 revocation and "log out everywhere".
* ``audit.py`` -- the security-event sink (log line + metric) the core reports to.
"""
