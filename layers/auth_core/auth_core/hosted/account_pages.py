"""The account pages (sign-up, verify, forgot, reset): the sign-in pages' layout, headers and
rules (:mod:`auth_core.hosted.pages`: escaping, CSP by hash, labels, autocomplete)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auth_core.hosted import csrf
from auth_core.hosted.branding import Branding
from auth_core.hosted.pages import _alert, _page, esc
from auth_core.http import Response

__all__ = ["done_page", "form_page"]

#: route -> (title, introduction, fields, button); a field is (name, label, type, autocomplete)
_FORMS: dict[str, tuple[str, str, tuple[tuple[str, str, str, str], ...], str]] = {
    "/account/signup": (
        "Create an account",
        "Your email address is your username.",
        (
            ("email", "Email address", "email", "email"),
            ("password", "Password", "password", "new-password"),
            ("given_name", "Given name (optional)", "text", "given-name"),
            ("family_name", "Family name (optional)", "text", "family-name"),
        ),
        "Create account",
    ),
    "/account/verify": (
        "Confirm your email address",
        "Enter the code from the message we sent, and the password you chose.",
        (
            ("email", "Email address", "email", "email"),
            ("code", "Code", "text", "one-time-code"),
            ("password", "Password", "password", "current-password"),
        ),
        "Confirm",
    ),
    "/account/forgot": (
        "Forgot your password?",
        "We will send a code to the account's email address.",
        (("email", "Email address", "email", "email"),),
        "Send code",
    ),
    "/account/password": (
        "Change your password",
        "Enter your current password and a new one. Every session will be signed out, this one too.",
        (
            ("current_password", "Current password", "password", "current-password"),
            ("new_password", "New password", "password", "new-password"),
        ),
        "Change password",
    ),
    "/account/reset": (
        "Choose a new password",
        "Enter the code from the message we sent and a new password. Every session will be signed out.",
        (
            ("email", "Email address", "email", "email"),
            ("code", "Code", "text", "one-time-code"),
            ("password", "New password", "password", "new-password"),
        ),
        "Change password",
    ),
}


def form_page(
    branding: Branding,
    route: str,
    *,
    carried: Mapping[str, str],
    values: Mapping[str, str],
    csrf_token: str,
    message: str | None = None,
    status: int = 200,
    cookies: Iterable[str] = (),
    minutes: int = 0,
) -> Response:
    """One account form; ``carried`` goes back hidden, ``values`` pre-fill (never a password)."""
    title, intro, fields, button = _FORMS[route]
    inputs = "".join(
        f'<label for="{name}">{esc(label)}</label>\n'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{auto}"'
        + ("" if "optional" in label else " required")
        + ("" if kind == "password" else f' value="{esc(values.get(name, ""))}"')
        + (' inputmode="numeric" autocapitalize="none"' if name == "code" else "")
        + ">\n"
        for name, label, kind, auto in fields
    )
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">\n' for k, v in sorted(carried.items())
    )
    note = f'<p class="muted">Codes expire in {minutes} minutes and work once.</p>\n' if minutes else ""
    body = (
        f"<h1>{esc(title)}</h1>\n<p>{esc(intro)}</p>\n{_alert(message)}"
        f'<form method="post" action="{esc(route)}">\n{hidden}'
        f'<input type="hidden" name="{csrf.FIELD}" value="{esc(csrf_token)}">\n'
        f'{inputs}<button type="submit" class="primary">{esc(button)}</button>\n</form>\n{note}'
    )
    return _page(branding, status, title, body, cookies=cookies)


def done_page(
    branding: Branding, title: str, text: str, target: str, cookies: Iterable[str] = ()
) -> Response:
    """A result; ``target`` (a path on this site) is offered as the way on."""
    link = f'<p><a class="primary" href="{esc(target)}">Continue to sign in</a></p>\n' if target else ""
    body = f"<h1>{esc(title)}</h1>\n<p>{esc(text)}</p>\n{link}"
    return _page(branding, 200, title, body, cookies=cookies)
