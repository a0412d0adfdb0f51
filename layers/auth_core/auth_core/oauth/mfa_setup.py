"""Self-service two-step verification: a signed-in user enrols TOTP, or replaces recovery codes.

Whatever the policy (``optional`` included), a browser with a live SSO session may, at
``/authorize/mfa/setup`` (:mod:`auth_core.hosted.mfa_setup`):

- **enrol**, when the user has no factor yet: :meth:`MfaSetup.begin` makes a new secret and ten
  recovery codes and keeps them, until confirmed, in a pending item (``mfa#``, the same store and
  limits as a sign-in's second step: :data:`~auth_core.oauth.second_factor.PENDING_TTL` seconds,
  :data:`~auth_core.oauth.second_factor.MAX_ATTEMPTS` codes) bound to the browser (its CSRF
  secret) and to the SSO session (the hash of its cookie). :meth:`MfaSetup.confirm` checks a
  code of the new secret and commits one transaction: the ticket used up, the enrolment written
  (only if the user has none, is enabled and has the ``sessions_version`` the session was made
  with: a logout-all or a password reset meanwhile refuses it) and the SSO session still active.
- **replace the recovery codes**, when enrolled: :meth:`MfaSetup.regenerate` asks for a fresh
  TOTP code (a recovery code will not do: it could be one of the codes being replaced) and
  writes, in one transaction with the same session check, the code's step as used and the new
  codes' hashes in place of the old ones.

Every code goes through the login throttle first (a code is a guess like a password). The
session this happens in keeps its ``amr``: the next sign-in asks for the code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from auth_core.mfa import recovery, totp
from auth_core.oauth.authorization import MfaChallenge, MfaExpiredError, SecondFactorFailedError, SsoSession
from auth_core.oauth.refresh import hash_refresh_token
from auth_core.oauth.second_factor import MAX_ATTEMPTS, PENDING_TTL, SecondFactor
from auth_core.stores.interfaces import Checked, CheckFailed, Committed
from auth_core.stores.mfa import MfaState, PendingMfa

__all__ = ["SETUP", "MfaSetup"]

#: the pending item's mode (a sign-in's are ``verify`` and ``enrol``)
SETUP = "setup"
#: the ``client_id`` audit records and pending items carry for this page (no client is involved)
ACCOUNT = "account"


def _h(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _binding(cookie: str) -> str:
    """What a pending setup is bound to: the SSO session cookie it was begun under (hashed twice:
    the store holds no value that names a session item)."""
    return _h(f"setup:{hash_refresh_token(cookie)}")


class MfaSetup:
    """The self-service flows over a :class:`SecondFactor`'s stores, throttle and audit."""

    def __init__(self, second: SecondFactor) -> None:
        self.second = second

    def _now(self) -> int:
        return int(self.second._clock())

    def state(self, session: SsoSession) -> MfaState:
        return self.second.mfa.get(session.username)

    # ------------------------------------------------------------------ enrolment
    def begin(self, session: SsoSession, cookie: str, browser: str) -> MfaChallenge:
        """A new secret and recovery codes, pending until :meth:`confirm`."""
        ticket = secrets.token_urlsafe(32)
        secret, codes = totp.new_secret(), tuple(recovery.new_codes())
        self.second.pending.put(
            PendingMfa(
                ticket_hash=_h(ticket),
                username=session.username,
                subject=session.subject,
                sessions_version=getattr(session, "sessions_version", 0),
                client_id=ACCOUNT,
                request_hash=_binding(cookie),
                browser_hash=_h(browser),
                mode=SETUP,
                expires_at=self._now() + PENDING_TTL,
                enrol_secret=secret,
                enrol_codes=codes,
            )
        )
        self.second.audit.record("MfaChallenged", client_id=ACCOUNT, mode=SETUP)
        return self._challenge(ticket, session.username, secret, codes)

    def _challenge(self, ticket: str, username: str, secret: str, codes: tuple[str, ...]) -> MfaChallenge:
        uri = totp.otpauth_uri(secret, issuer=self.second.issuer_name or "Sign in", account=username)
        return MfaChallenge(ticket, "enrol", username, secret, uri, codes)

    def pending_for(self, session: SsoSession, cookie: str, ticket: str, browser: str) -> PendingMfa:
        """:raises MfaExpiredError: the ticket is not a usable setup of this session and browser."""
        found = self.second.pending.get(_h(ticket)) if ticket else None
        if (
            found is None
            or found.mode != SETUP
            or not found.usable(self._now(), MAX_ATTEMPTS)
            or not hmac.compare_digest(found.browser_hash, _h(browser))
            or not hmac.compare_digest(found.request_hash, _binding(cookie))
            or found.username != session.username
        ):
            raise MfaExpiredError(reason="mfa_setup_ticket_unusable")
        return found

    def challenge(self, session: SsoSession, cookie: str, ticket: str, browser: str) -> MfaChallenge:
        """The pending enrolment's page again (after a wrong code)."""
        found = self.pending_for(session, cookie, ticket, browser)
        return self._challenge(ticket, found.username, found.enrol_secret, found.enrol_codes)

    def confirm(
        self,
        session: SsoSession,
        cookie: str,
        ticket: str,
        code: str,
        source_ip: str | None,
        *,
        browser: str,
    ) -> None:
        """:raises MfaExpiredError: / :raises SecondFactorFailedError: / :raises SlowDownError:"""
        found = self.pending_for(session, cookie, ticket, browser)
        self.second.throttle.take(found.username, source_ip)
        now = self._now()
        step = totp.matching_step(found.enrol_secret, code, now)
        if step is None:
            self._failed(found, "wrong_code")
        assert step is not None  # noqa: S101 - _failed raises
        hashes = [recovery.hash_code(found.subject, c) for c in found.enrol_codes]
        outcome = self.second.pending.complete(
            found.ticket_hash,
            now=now,
            max_attempts=MAX_ATTEMPTS,
            factor=self.second.mfa.enrol(
                found.username, found.enrol_secret, step, hashes, sessions_version=found.sessions_version
            ),
            session=self.second.sso.touch_check(hash_refresh_token(cookie), now=now),
        )
        if not isinstance(outcome, Committed):
            # enrolled meanwhile (another tab), the user changed, or the session ended
            raise MfaExpiredError(reason="mfa_setup_raced")
        self.second.throttle.succeeded(found.username, source_ip)
        self.second.audit.record("MfaEnrolled", client_id=ACCOUNT, method="self_service")

    def _failed(self, found: PendingMfa, reason: str) -> None:
        self.second.audit.record("MfaFailed", client_id=ACCOUNT, reason=reason)
        if not self.second.pending.fail(found.ticket_hash, now=self._now(), max_attempts=MAX_ATTEMPTS):
            raise MfaExpiredError(reason="mfa_attempts_spent")
        raise SecondFactorFailedError(reason=reason)

    # ------------------------------------------------------------------ recovery codes
    def regenerate(
        self, session: SsoSession, cookie: str, code: str, source_ip: str | None
    ) -> tuple[str, ...]:
        """Ten new recovery codes (shown once), replacing the old ones; ``code`` must be a fresh
        TOTP code. :raises SecondFactorFailedError: / :raises MfaExpiredError: (not enrolled, or
        the session ended) / :raises SlowDownError:"""
        state = self.state(session)
        if not state.enrolled:
            raise MfaExpiredError(reason="mfa_not_enrolled")
        self.second.throttle.take(session.username, source_ip)
        now = self._now()
        step = totp.matching_step(state.secret, code, now)
        if step is None or step <= state.last_step:
            reason = "wrong_code" if step is None else "replayed"
            self.second.audit.record("MfaFailed", client_id=ACCOUNT, reason=reason)
            raise SecondFactorFailedError(reason=reason)
        codes = tuple(recovery.new_codes())
        outcome = self.second.mfa.commit(
            self.second.mfa.replace_recovery_codes(
                session.username,
                step,
                [recovery.hash_code(session.subject, c) for c in codes],
                sessions_version=getattr(session, "sessions_version", 0),
            ),
            self.second.sso.touch_check(hash_refresh_token(cookie), now=now),
        )
        if outcome == CheckFailed(Checked.MFA):  # the step was used meanwhile (or the user changed)
            self.second.audit.record("MfaFailed", client_id=ACCOUNT, reason="replayed")
            raise SecondFactorFailedError(reason="replayed")
        if not isinstance(outcome, Committed):
            raise MfaExpiredError(reason="mfa_setup_raced")
        self.second.throttle.succeeded(session.username, source_ip)
        self.second.audit.record("MfaRecoveryCodesReplaced", client_id=ACCOUNT)
        return codes
