"""The second step of a browser sign-in: TOTP (RFC 6238) or a recovery code, or enrolment.

:class:`SecondFactor` is used by ``AuthorizationService`` (the protocol core); the hosted pages
never see a secret's storage or a rule of it. The flow:

1. The password is right and :func:`auth_core.mfa.policy.effective` (the user's and the client's
   ``mfa`` setting, the stricter, raised by ``acr_values=aal2``) asks for a second factor: an
   enrolled user gets ``verify``, an unenrolled user under ``required`` gets ``enrol`` (a new
   secret and ten recovery codes, held in the pending item until confirmed). No SSO session
   exists yet; the login throttle has not been told of the success.
2. :meth:`SecondFactor.start` stores the pending sign-in (``mfa#``, :data:`PENDING_TTL`
   seconds, :data:`MAX_ATTEMPTS` codes) under the hash of a random ticket, bound to the hash of
   the browser's CSRF secret and of the authorization request's fields.
3. :meth:`SecondFactor.complete`: the ticket must fit this browser and request (else
   :class:`MfaExpiredError`), the throttle takes an attempt (a wrong code counts like a wrong
   password), the code is checked: a TOTP code of a step within ±1 that is later than the last
   step used, or an unused recovery code; then one transaction uses up the ticket, the step or
   the recovery code (conditional writes, so a code replayed concurrently loses) and creates
   the SSO session. ``amr`` is ``["pwd", "otp", "mfa"]`` either way (RFC 8176: a recovery code
   is a one-time password too), ``acr`` follows from it (``aal2``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from auth_core.errors import InvalidRequestError
from auth_core.mfa import policy, recovery, totp
from auth_core.oauth.audit import Audit
from auth_core.oauth.authorization import (
    AuthorizationRequest,
    MfaChallenge,
    MfaExpiredError,
    SecondFactorFailedError,
)
from auth_core.stores.interfaces import Check, Checked, CheckFailed, Committed, Throttle
from auth_core.stores.mfa import ENROL, VERIFY, MfaStore, PendingMfa, PendingMfaStore
from auth_core.stores.signin import SsoRecord, SsoSessionStore
from auth_core.stores.users import User

__all__ = ["AMR_MFA", "MAX_ATTEMPTS", "PENDING_TTL", "SecondFactor"]

#: how long a pending sign-in waits for its second factor, seconds
PENDING_TTL = 300
#: wrong codes a pending sign-in takes before the password must be entered again
MAX_ATTEMPTS = 5
AMR_MFA = ("pwd", "otp", "mfa")
_TICKET_BYTES = 32


def _h(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def request_hash(request: AuthorizationRequest) -> str:
    """What a pending sign-in is bound to: the request as its pages post it back."""
    fields = sorted((k, v) for k, v in request.form_fields.items())
    return _h(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))


class SecondFactor:
    def __init__(
        self,
        *,
        mfa: MfaStore,
        pending: PendingMfaStore,
        throttle: Throttle,
        sso: SsoSessionStore,
        audit: Audit,
        issuer_name: str = "",
        clock: Callable[[], float],
    ) -> None:
        self.mfa = mfa
        self.pending = pending
        self.throttle = throttle
        self.sso = sso
        self.audit = audit
        self.issuer_name = issuer_name
        self._clock = clock

    # ------------------------------------------------------------------ after the password
    def mode_for(self, user: User, request: AuthorizationRequest) -> str | None:
        """``verify``, ``enrol`` or ``None`` (no second factor for this sign-in)."""
        state = self.mfa.get(user.username)
        level = policy.effective(state.policy, request.client.mfa, request.acr_values)
        if level == policy.OFF:
            return None
        if state.enrolled:
            return VERIFY
        return ENROL if level == policy.REQUIRED else None

    def start(
        self, user: User, request: AuthorizationRequest, mode: str, browser: str | None
    ) -> MfaChallenge:
        """Store the pending sign-in; the challenge names it."""
        if not browser:  # the sign-in form's CSRF check guarantees one; fail closed anyway
            raise InvalidRequestError("no browser binding", reason="mfa_no_browser")
        ticket = secrets.token_urlsafe(_TICKET_BYTES)
        now = int(self._clock())
        secret, codes = (totp.new_secret(), tuple(recovery.new_codes())) if mode == ENROL else ("", ())
        self.pending.put(
            PendingMfa(
                ticket_hash=_h(ticket),
                username=user.username,
                subject=user.subject,
                sessions_version=user.sessions_version,
                client_id=request.client.client_id,
                request_hash=request_hash(request),
                browser_hash=_h(browser),
                mode=mode,
                expires_at=now + PENDING_TTL,
                enrol_secret=secret,
                enrol_codes=codes,
            )
        )
        self.audit.record("MfaChallenged", client_id=request.client.client_id, mode=mode)
        return self._challenge(ticket, mode, user.username, secret, codes)

    def _challenge(
        self, ticket: str, mode: str, username: str, secret: str, codes: tuple[str, ...]
    ) -> MfaChallenge:
        if mode != ENROL:
            return MfaChallenge(ticket, mode, username)
        uri = totp.otpauth_uri(secret, issuer=self.issuer_name or "Sign in", account=username)
        return MfaChallenge(ticket, mode, username, secret, uri, codes)

    # ------------------------------------------------------------------ the second page
    def pending_for(self, request: AuthorizationRequest, ticket: str, browser: str | None) -> PendingMfa:
        """The usable pending sign-in ``ticket`` names, for this browser and request.

        :raises MfaExpiredError: otherwise.
        """
        found = self.pending.get(_h(ticket)) if ticket else None
        now = int(self._clock())
        if (
            found is None
            or not browser
            or not found.usable(now, MAX_ATTEMPTS)
            or not hmac.compare_digest(found.browser_hash, _h(browser))
            or not hmac.compare_digest(found.request_hash, request_hash(request))
            or found.client_id != request.client.client_id
        ):
            raise MfaExpiredError(reason="mfa_ticket_unusable")
        return found

    def challenge(self, request: AuthorizationRequest, ticket: str, browser: str | None) -> MfaChallenge:
        found = self.pending_for(request, ticket, browser)
        return self._challenge(ticket, found.mode, found.username, found.enrol_secret, found.enrol_codes)

    def complete(
        self,
        request: AuthorizationRequest,
        ticket: str,
        code: str,
        source_ip: str | None,
        *,
        browser: str | None,
        session: Callable[[PendingMfa, tuple[str, ...]], tuple[str, SsoRecord]],
    ) -> PendingMfa:
        """Check ``code`` and commit (see the module docstring); ``session`` makes the SSO
        session (the cookie's hash and the record) for the pending sign-in and its ``amr``.

        :raises MfaExpiredError: / :raises SecondFactorFailedError: / :raises SlowDownError:
        """
        found = self.pending_for(request, ticket, browser)
        client_id = request.client.client_id
        self.throttle.take(found.username, source_ip)  # a code is a guess like a password
        now = self._clock()
        factor, method = self._factor(found, code, now)
        if factor is None:
            self._failed(found, client_id, method)
        assert factor is not None  # noqa: S101 - _failed raises
        outcome = self.pending.complete(
            found.ticket_hash,
            now=int(now),
            max_attempts=MAX_ATTEMPTS,
            factor=factor,
            session=self.sso.create_write(*session(found, AMR_MFA)),
        )
        if outcome == CheckFailed(Checked.MFA):  # the step or recovery code was used meanwhile
            self._failed(found, client_id, "replayed")
        if not isinstance(outcome, Committed):
            raise MfaExpiredError(reason="mfa_ticket_raced")
        self.throttle.succeeded(found.username, source_ip)
        self.audit.record("MfaSucceeded", client_id=client_id, method=method)
        return found

    def _factor(self, found: PendingMfa, code: str, now: float) -> tuple[Check | None, str]:
        """The conditional write that spends ``code``, and the method's name (or why not)."""
        if found.mode == ENROL:
            step = totp.matching_step(found.enrol_secret, code, now)
            if step is None:
                return None, "wrong_code"
            hashes = [recovery.hash_code(found.subject, c) for c in found.enrol_codes]
            write = self.mfa.enrol(
                found.username, found.enrol_secret, step, hashes, sessions_version=found.sessions_version
            )
            return write, "enrol"
        state = self.mfa.get(found.username)
        if not state.enrolled:
            return None, "not_enrolled"  # reset by an operator meanwhile
        if recovery.looks_like_recovery_code(code):
            hashed = recovery.hash_code(found.subject, code)
            if hashed not in state.recovery_hashes:
                return None, "wrong_recovery_code"
            write = self.mfa.use_recovery_code(
                found.username, hashed, sessions_version=found.sessions_version
            )
            return write, "recovery_code"
        step = totp.matching_step(state.secret, code, now)
        if step is None:
            return None, "wrong_code"
        if step <= state.last_step:
            return None, "replayed"
        return self.mfa.use_step(found.username, step, sessions_version=found.sessions_version), "totp"

    def _failed(self, found: PendingMfa, client_id: str, reason: str) -> None:
        self.audit.record("MfaFailed", client_id=client_id, reason=reason)
        if not self.pending.fail(found.ticket_hash, now=int(self._clock()), max_attempts=MAX_ATTEMPTS):
            raise MfaExpiredError(reason="mfa_attempts_spent")
        raise SecondFactorFailedError(reason=reason)


def describe(state: Any) -> Mapping[str, object]:
    """What ``authctl users show`` prints of a user's MFA state (never the secret)."""
    return {
        "policy": state.policy or policy.OPTIONAL,
        "enrolled": state.enrolled,
        "recovery_codes_left": state.recovery_left,
    }
