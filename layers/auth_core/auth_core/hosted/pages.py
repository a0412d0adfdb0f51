"""Server-rendered pages: sign in, consent, error, signed out, and the form_post response.

Rules every page keeps (tests/unit/hosted, and a real browser in tests/browser):

- every interpolated value goes through :func:`html.escape` (quotes included): client ids,
  scopes, ``state``, usernames and error texts are all attacker-chosen;
- no external asset and no script to sign in: one ``<style>`` element allowed by its hash in
  the ``Content-Security-Policy`` (never ``unsafe-inline``); the form_post page alone has one fixed
  script (``document.forms[0].submit()``), allowed by its hash, and a visible "Continue" button
  that does the same without it;
- accessible: ``lang``, a ``<title>``, one ``<h1>``, ``<label for>`` on every input,
  ``autocomplete`` tokens, an ``role="alert"`` message, visible focus, a fluid layout from 320 px;
- every response, redirects too, carries the security headers of :func:`security_headers`.

``form-action`` lists the client's redirect origin on the sign-in and consent pages as well as
on the form_post page: browsers apply it to the redirect that answers a form's ``POST`` (the 302
to the client with the code), not only to the form's own ``action``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode, urlsplit

from auth_core.hosted import csrf
from auth_core.hosted.branding import Branding, csp_hash
from auth_core.http import Response
from auth_core.oauth.authorization import AuthorizationRequest, AuthorizationResponse, MfaChallenge

__all__ = [
    "FAILED",
    "RESERVED_FIELDS",
    "THROTTLED",
    "consent_page",
    "content_security_policy",
    "csp_source",
    "error_page",
    "form_post_page",
    "logout_confirm_page",
    "mfa_page",
    "redirect",
    "request_fields",
    "respond",
    "security_headers",
    "sign_in_page",
    "signed_out_page",
    "still_signed_in_page",
]

#: The one answer to a wrong username, wrong password, unknown or disabled user (no enumeration).
FAILED = "Incorrect username or password."
#: The answer once the login throttle refuses (HTTP 429).
THROTTLED = "Too many attempts. Try again later."
#: Field names the pages' forms use themselves; a request's ``form_fields`` never supply them.
RESERVED_FIELDS = frozenset({csrf.FIELD, "username", "password", "action", "mfa_ticket", "code"})

#: The form_post page's only script. Its hash is in that page's CSP; changing a byte changes it.
FORM_POST_SCRIPT = "document.forms[0].submit();"
_FORM_POST_SCRIPT_HASH = csp_hash(FORM_POST_SCRIPT)

#: What a scope lets the client do, in words (unknown scopes are shown by name only).
SCOPE_WORDS = {
    "openid": "Confirm who you are",
    "profile": "See your profile (username and name)",
    "email": "See your email address",
    "offline_access": "Stay signed in when you are away",
    "read": "Read your data",
    "write": "Change your data",
}

_CSP_SOURCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(//[A-Za-z0-9.\-\[\]:]+)?")


def esc(value: object) -> str:
    """HTML-escape for text and double- or single-quoted attributes."""
    return html.escape(str(value), quote=True)


# --------------------------------------------------------------------------- headers
def csp_source(uri: str) -> str | None:
    """A CSP source for where ``uri`` points: ``scheme://host[:port]`` for a URL with a host, or
    ``scheme:`` for a private-use scheme (RFC 8252 §7.1); ``None`` if it is neither cleanly."""
    parts = urlsplit(uri)
    if not parts.scheme:
        return None
    host = parts.netloc.rpartition("@")[2]
    source = f"{parts.scheme}://{host}" if host else f"{parts.scheme}:"
    return source.lower() if _CSP_SOURCE.fullmatch(source) else None


def content_security_policy(
    branding: Branding, *, form_targets: Iterable[str] = (), script: str | None = None
) -> str:
    """``default-src 'none'`` and only what the page uses: its style (by hash), images from our
    origin and the logo's, forms to our origin and ``form_targets``' origins."""
    img = " ".join(["'self'", *([branding.logo_origin] if branding.logo_origin else [])])
    forms = ["'self'"]
    for target in form_targets:
        source = csp_source(target)
        if source and source not in forms:
            forms.append(source)
    directives = [
        "default-src 'none'",
        f"style-src {branding.style_hash}",
        f"img-src {img}",
        f"form-action {' '.join(forms)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    if script:
        directives.insert(2, f"script-src {script}")
    return "; ".join(directives)


def security_headers(csp: str) -> dict[str, str]:
    """The headers every hosted response carries."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }


#: The policy of a response without a page (a redirect): nothing may load.
_NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def redirect(location: str, cookies: Iterable[str] = ()) -> Response:
    """A 302 to ``location`` (no body; the code or error travels in its query)."""
    headers = security_headers(_NOTHING)
    del headers["Content-Type"]
    headers["Location"] = location
    return Response(302, headers=headers, cookies=list(cookies))


# --------------------------------------------------------------------------- layout
def _document(branding: Branding, title: str, body: str) -> str:
    logo = (
        f'<img class="logo" src="{esc(branding.logo_url)}" alt="{esc(branding.name)}">'
        if branding.logo_url
        else ""
    )
    page_title = title if title == branding.name else f"{title} - {branding.name}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(page_title)}</title>\n"
        f"<style>{branding.css}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"{logo}{body}"
        "</main>\n</body>\n</html>\n"
    )


def _page(
    branding: Branding,
    status: int,
    title: str,
    body: str,
    *,
    form_targets: Iterable[str] = (),
    script: str | None = None,
    cookies: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    csp = content_security_policy(branding, form_targets=form_targets, script=script)
    return Response(
        status,
        body=_document(branding, title, body),
        headers={**security_headers(csp), **(headers or {})},
        cookies=list(cookies),
    )


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">\n'
        for k, v in sorted(fields.items())
        if k not in RESERVED_FIELDS
    )


def request_fields(request: AuthorizationRequest) -> dict[str, str]:
    """What a page's form sends back to continue ``request`` (and what its CSRF token covers)."""
    return {k: v for k, v in request.form_fields.items() if k not in RESERVED_FIELDS}


def _alert(message: str | None) -> str:
    return f'<p class="alert" role="alert">{esc(message)}</p>\n' if message else ""


# --------------------------------------------------------------------------- pages
def sign_in_page(
    branding: Branding,
    request: AuthorizationRequest,
    *,
    action: str,
    csrf_token: str,
    username: str | None = None,
    message: str | None = None,
    status: int = 200,
    cookies: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The sign-in form: ``username`` (or the request's ``login_hint``) pre-filled."""
    filled = username if username is not None else (request.login_hint or "")
    focus_password = " autofocus" if filled else ""
    focus_username = "" if filled else " autofocus"
    body = (
        f"<h1>{esc(branding.name)}</h1>\n"
        f"<p>to continue to <strong>{esc(request.client.client_id)}</strong></p>\n"
        f"{_alert(message)}"
        f'<form method="post" action="{esc(action)}">\n'
        f"{_hidden(request_fields(request))}"
        f'<input type="hidden" name="{csrf.FIELD}" value="{esc(csrf_token)}">\n'
        '<label for="username">Username</label>\n'
        '<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" '
        f'spellcheck="false" required value="{esc(filled)}"{focus_username}>\n'
        '<label for="password">Password</label>\n'
        f'<input id="password" name="password" type="password" autocomplete="current-password" '
        f"required{focus_password}>\n"
        '<button type="submit" class="primary">Sign in</button>\n'
        "</form>\n"
        f"{_account_links(request, action)}"
    )
    return _page(
        branding,
        status,
        "Sign in",
        body,
        form_targets=[request.redirect_uri],
        cookies=cookies,
        headers=headers,
    )


def _account_links(request: AuthorizationRequest, action: str) -> str:
    """Links to sign-up (keeping this authorization request) and to the forgotten-password
    page, when the client allows sign-up (``Client.allow_signup``)."""
    if not getattr(request.client, "allow_signup", False):
        return ""
    base = action.removesuffix("/authorize")
    query = urlencode(request_fields(request))
    return (
        f'<p class="muted"><a href="{esc(base)}/account/signup?{esc(query)}">Create an account</a>'
        f' &middot; <a href="{esc(base)}/account/forgot">Forgot your password?</a></p>\n'
    )


#: The one answer to a wrong, replayed or malformed code.
WRONG_CODE = "That code is not valid. Try the current code from your app, or a recovery code."


def enrolment_intro(challenge: MfaChallenge) -> str:
    """An enrolment's QR code (inline SVG, drawn here: no script, no external image), its
    secret as text and its ten recovery codes (shown on this page only)."""
    from auth_core.hosted.qr import qr_svg  # noqa: PLC0415 - the enrolment pages only

    return (
        "<h1>Set up two-step verification</h1>\n"
        "<p>Scan this code with an authenticator app, then enter the 6-digit code it shows.</p>\n"
        f'<div class="qr">{qr_svg(challenge.uri)}</div>\n'
        "<p>Or enter this key in the app:</p>\n"
        f'<p><code id="totp-secret">{esc(challenge.secret)}</code></p>\n'
        "<p>Keep these recovery codes somewhere safe. Each works once if you lose your device; "
        "they are not shown again.</p>\n"
        f"{recovery_list(challenge.recovery_codes)}"
    )


def recovery_list(codes: Iterable[str]) -> str:
    items = "".join(f"<li><code>{esc(c)}</code></li>\n" for c in codes)
    return f'<ul class="scopes" id="recovery-codes">\n{items}</ul>\n'


def mfa_page(
    branding: Branding,
    request: AuthorizationRequest,
    challenge: MfaChallenge,
    *,
    action: str,
    csrf_token: str,
    message: str | None = None,
    status: int = 200,
    cookies: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The second step: a code from the user's authenticator app (or a recovery code); for an
    enrolment, first the QR code (inline SVG, drawn here: no script, no external image), the
    secret as text and the ten recovery codes, shown on this page only."""
    enrol = challenge.mode == "enrol"
    if enrol:
        intro = enrolment_intro(challenge)
        label, title = "Code from your app", "Set up two-step verification"
    else:
        intro = (
            "<h1>Two-step verification</h1>\n"
            "<p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>\n"
        )
        label, title = "Code", "Two-step verification"
    body = (
        f"{intro}"
        f'<p class="muted">Signing in as {esc(challenge.username)} to '
        f"<strong>{esc(request.client.client_id)}</strong>.</p>\n"
        f"{_alert(message)}"
        f'<form method="post" action="{esc(action)}">\n'
        f"{_hidden(request_fields(request))}"
        f'<input type="hidden" name="{csrf.FIELD}" value="{esc(csrf_token)}">\n'
        f'<input type="hidden" name="mfa_ticket" value="{esc(challenge.ticket)}">\n'
        f'<label for="code">{esc(label)}</label>\n'
        '<input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" '
        'spellcheck="false" required autofocus>\n'
        '<button type="submit" class="primary">Verify</button>\n'
        "</form>\n"
    )
    return _page(
        branding, status, title, body, form_targets=[request.redirect_uri], cookies=cookies, headers=headers
    )


def consent_page(
    branding: Branding,
    request: AuthorizationRequest,
    *,
    action: str,
    csrf_token: str,
    username: str,
    cookies: Iterable[str] = (),
) -> Response:
    """Allow or deny a third-party client the scopes it asks for."""
    scopes = "".join(
        f"<li>{esc(SCOPE_WORDS[s])} (<code>{esc(s)}</code>)</li>\n"
        if s in SCOPE_WORDS
        else f"<li><code>{esc(s)}</code></li>\n"
        for s in request.scope
    )
    asks = (
        f'<ul class="scopes">\n{scopes}</ul>\n'
        if scopes
        else "<p>It asks for no particular permission.</p>\n"
    )
    body = (
        "<h1>Allow access?</h1>\n"
        f"<p><strong>{esc(request.client.client_id)}</strong> wants to:</p>\n"
        f"{asks}"
        f'<p class="muted">Signed in as {esc(username)}.</p>\n'
        f'<form method="post" action="{esc(action)}">\n'
        f"{_hidden(request_fields(request))}"
        f'<input type="hidden" name="{csrf.FIELD}" value="{esc(csrf_token)}">\n'
        '<div class="actions">\n'
        '<button type="submit" name="action" value="allow" class="primary">Allow</button>\n'
        '<button type="submit" name="action" value="deny" class="secondary">Deny</button>\n'
        "</div>\n</form>\n"
    )
    return _page(branding, 200, "Allow access?", body, form_targets=[request.redirect_uri], cookies=cookies)


def error_page(
    branding: Branding,
    message: str,
    *,
    status: int = 400,
    title: str = "Sign-in cannot continue",
    cookies: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A readable message and nothing else (no trace, no request echo but what ``message`` says)."""
    body = (
        f"<h1>{esc(title)}</h1>\n"
        f'<p role="alert">{esc(message)}</p>\n'
        '<p class="muted">Go back to the application you came from and try again.</p>\n'
    )
    return _page(branding, status, title, body, cookies=cookies, headers=headers)


def signed_out_page(branding: Branding, *, cookies: Iterable[str] = ()) -> Response:
    body = "<h1>Signed out</h1>\n<p>You have signed out. You can close this window.</p>\n"
    return _page(branding, 200, "Signed out", body, cookies=cookies)


def logout_confirm_page(
    branding: Branding,
    params: Mapping[str, str],
    *,
    action: str,
    csrf_token: str,
    cookies: Iterable[str] = (),
) -> Response:
    """Ask before ending the session (OpenID Connect RP-Initiated Logout 1.0 §2: a logout
    request without an ``id_token_hint`` for this very session may come from anyone's page).
    The logout request's parameters go back with the answer; only "Sign out" ends anything."""
    body = (
        "<h1>Sign out?</h1>\n"
        f"<p>Do you want to sign out of {esc(branding.name)}?</p>\n"
        f'<form method="post" action="{esc(action)}">\n'
        f"{_hidden(params)}"
        f'<input type="hidden" name="{csrf.FIELD}" value="{esc(csrf_token)}">\n'
        '<div class="actions">\n'
        '<button type="submit" name="action" value="logout" class="primary">Sign out</button>\n'
        '<button type="submit" name="action" value="stay" class="secondary">Stay signed in</button>\n'
        "</div>\n</form>\n"
    )
    return _page(branding, 200, "Sign out?", body, cookies=cookies)  # form-action: our origin


def still_signed_in_page(branding: Branding, *, cookies: Iterable[str] = ()) -> Response:
    body = "<h1>Still signed in</h1>\n<p>You did not sign out. You can close this window.</p>\n"
    return _page(branding, 200, "Still signed in", body, cookies=cookies)


def form_post_page(
    branding: Branding, response: AuthorizationResponse, *, cookies: Iterable[str] = ()
) -> Response:
    """OAuth 2.0 Form Post Response Mode: the parameters ``POST``ed to the redirect URI by an
    auto-submitting form (one hashed script), or by the visible button without script."""
    body = (
        "<h1>Returning to the application</h1>\n"
        f'<form method="post" action="{esc(response.redirect_uri)}">\n'
        + "".join(
            f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">\n' for k, v in response.params.items()
        )
        + "<p>If nothing happens, select Continue.</p>\n"
        '<button type="submit" class="primary">Continue</button>\n'
        "</form>\n"
        f"<script>{FORM_POST_SCRIPT}</script>\n"
    )
    return _page(
        branding,
        200,
        "Returning to the application",
        body,
        form_targets=[response.redirect_uri],
        script=_FORM_POST_SCRIPT_HASH,
        cookies=cookies,
    )


def respond(branding: Branding, response: AuthorizationResponse, *, cookies: Iterable[str] = ()) -> Response:
    """The browser's way back to the client: a 302 (``query``) or the form_post page."""
    if response.response_mode == "form_post":
        return form_post_page(branding, response, cookies=cookies)
    return redirect(response.location(), cookies)
