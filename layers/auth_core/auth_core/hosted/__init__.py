"""The hosted sign-in pages: HTML, cookies, CSRF form tokens and security headers.

The browser side of the authorization endpoint (``functions/authorize``). It turns HTTP into calls
on :class:`auth_core.oauth.authorization.AuthorizationProtocol` and its answers into pages,
redirects and cookies; it never sees a table or a rule of the protocol.

- :mod:`~auth_core.hosted.branding`: the deployment's name, logo and colours, checked once;
- :mod:`~auth_core.hosted.pages`: server-rendered HTML (no external assets, no JavaScript needed
  to sign in, every interpolated value escaped) with its ``Content-Security-Policy``;
- :mod:`~auth_core.hosted.cookies`: the SSO session and CSRF cookies (``__Host-`` on https);
- :mod:`~auth_core.hosted.csrf`: double-submit form tokens bound to the authorization request;
- :mod:`~auth_core.hosted.endpoint`: the routes' logic, so the function module stays thin.
"""
