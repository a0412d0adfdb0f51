"""Sign-up, email verification, forgotten / reset password and change password.

Every step answers the same whatever exists (no user enumeration):

``sign_up``
    checks the input (address format, password policy, profile), throttles the address and the
    caller's IP, hashes the password (always: the same cost either way), then either stores a
    pending sign-up and mails a verification code, or -- the address already belongs to an
    account -- mails that address an "someone tried to sign up" notice instead. The answer is
    ``None`` both ways. No user exists before verification, so signing in is refused until then.
``verify``
    spends one attempt at the code (at most ``ACCOUNT_CODE_ATTEMPTS``, within
    ``ACCOUNT_CODE_TTL``), compares hashes in constant time, and then creates the user with the
    verified address in one transaction that also consumes the code and claims the address.
``forgot``
    throttled like sign-up; a reset code to a *verified* address's account, or a "no account"
    notice to any other address. Same answer.
``reset``
    spends an attempt, consumes the code, then ends every session of the user with the new
    password hash in one write (``SessionRevoker.set_password``), conditional on the
    ``sessions_version`` the code was issued against; mails "your password was changed".
``change_password``
    for a signed-in user (an access token's ``sub``): the current password is checked through
    the login path (throttle, Argon2id), then the same write as a reset: every session ends,
    the caller's own included (its access token is refused from the cut-off on; it signs in
    again with the new password).

A wrong, expired, used or exhausted code is one error: ``InvalidGrantError`` (reason
``code_invalid``) whose message does not say which.

Codes: 8 random decimal digits (``secrets``), stored only as SHA-256 of (purpose, address key,
code). 8 digits and 5 attempts give a guesser 5 in 10^8 per code; a new code (a new sign-up or
forgot request) voids the old one and its attempts count anew, so the per-address throttle
bounds how many codes an attacker can have issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from auth_core.accounts.profile import NAME_FIELDS, check_attributes, check_text
from auth_core.emails import email_key, normalize_email
from auth_core.errors import (
    AlreadyExistsError,
    InvalidGrantError,
    InvalidRequestError,
    SlowDownError,
    UnauthorizedClientError,
)
from auth_core.mail import (
    Mailer,
    account_exists_email,
    no_account_email,
    password_changed_email,
    reset_email,
    verification_email,
)
from auth_core.oauth.audit import Audit, NullAudit
from auth_core.oauth.login import authenticate_user
from auth_core.password_policy import PasswordPolicy
from auth_core.passwords import PasswordHasher
from auth_core.stores.accounts import RESET, SIGNUP, AccountStore, PendingCode
from auth_core.stores.throttle import LoginThrottle, ThrottleLimits
from auth_core.stores.users import User, UserStore
from auth_core.usernames import canonical_username

__all__ = [
    "ADDRESS_LIMITS",
    "IP_LIMITS",
    "AccountService",
    "code_hash",
]

#: sign-up / forgot requests per address: 3 per 15 minutes from one IP, 10 an hour in all
ADDRESS_LIMITS = ThrottleLimits(per_address=3, window=900, user_rate=10, user_burst=5)
#: sign-up / forgot / verify / reset requests per source IP: 30 per 15 minutes, 200 an hour
IP_LIMITS = ThrottleLimits(per_address=30, window=900, user_rate=200, user_burst=30)
#: paths of the hosted pages the mail links to (relative to the issuer)
VERIFY_PAGE = "/account/verify"
RESET_PAGE = "/account/reset"
FORGOT_PAGE = "/account/forgot"

CODE_INVALID = "The code (or the password you chose) is wrong, or the code has expired or was already used."


def code_hash(purpose: str, key: str, code: str) -> str:
    """What is stored of a code: SHA-256 of (purpose, address key, code)."""
    return hashlib.sha256(f"{purpose}\0{key}\0{code}".encode()).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


@dataclass
class AccountService:
    users: UserStore
    accounts: AccountStore
    clients: Any
    throttle: LoginThrottle
    ip_throttle: LoginThrottle
    hasher: PasswordHasher
    policy: PasswordPolicy
    mailer: Mailer
    revoker: Any
    #: the sign-in throttle (the current password of a change goes through it; a reset lifts it)
    login_throttle: Any = None
    brand: str = "Sign in"
    code_ttl: int = 900
    max_attempts: int = 5
    custom_attributes: tuple[str, ...] = ()
    #: what a new user may be granted (SIGNUP_SCOPES among SCOPES_SUPPORTED)
    signup_scopes: tuple[str, ...] = ("openid",)
    audit: Audit = NullAudit()  # noqa: RUF009 - immutable
    clock: Callable[[], float] = time.time
    #: single sign-on sessions and the revocations (the hosted change-password page's signed-in
    #: user); None: no page acts for a signed-in user
    sso: Any = None
    revocations: Any = None

    @classmethod
    def from_settings(
        cls, settings: Any, *, audit: Audit | None = None, mailer: Mailer | None = None
    ) -> AccountService:
        from auth_core.oauth.revocation import SessionRevoker  # noqa: PLC0415
        from auth_core.stores.clients import ClientStore  # noqa: PLC0415
        from auth_core.stores.revocations import RevocationStore  # noqa: PLC0415
        from auth_core.stores.sessions import SessionStore  # noqa: PLC0415
        from auth_core.stores.signin import SsoSessionStore  # noqa: PLC0415

        users = UserStore(settings.require("users_table"))
        sessions_table = settings.require("sessions_table")
        revocations = RevocationStore(settings.require("revocations_table"))
        revoker = SessionRevoker(
            sessions=SessionStore(sessions_table),
            revocations=revocations,
            users=users,
            max_token_lifetime=settings.max_access_token_lifetime,
            audit=audit,
        )
        return cls(
            users=users,
            accounts=AccountStore(sessions_table, users),
            clients=ClientStore(settings.require("clients_table")),
            throttle=LoginThrottle(sessions_table, limits=ADDRESS_LIMITS),
            ip_throttle=LoginThrottle(sessions_table, limits=IP_LIMITS),
            hasher=PasswordHasher(),
            policy=PasswordPolicy.from_settings(settings),
            mailer=mailer or Mailer.from_settings(settings),
            revoker=revoker,
            login_throttle=LoginThrottle(
                sessions_table,
                limits=ThrottleLimits(
                    per_address=settings.login_max_failures, window=settings.login_lockout_seconds
                ),
            ),
            brand=settings.brand_name,
            code_ttl=settings.account_code_ttl,
            max_attempts=settings.account_code_attempts,
            custom_attributes=settings.custom_attributes,
            signup_scopes=tuple(s for s in settings.signup_scopes if s in settings.scopes_supported),
            audit=audit or NullAudit(),
            sso=SsoSessionStore(sessions_table),
            revocations=revocations,
        )

    # ------------------------------------------------------------------ sign-up
    def sign_up(
        self,
        *,
        client_id: str,
        email: str,
        password: str,
        profile: Mapping[str, Any] | None = None,
        source_ip: str | None,
        base_url: str,
        continue_to: str = "",
    ) -> None:
        """Start a sign-up (see the module docstring). ``continue_to``: the authorization
        request's query to return to after verification (carried in the mail's link).

        :raises UnauthorizedClientError: the client does not allow sign-up (or is unknown).
        :raises InvalidRequestError: a malformed address, a refused password or profile.
        :raises SlowDownError: throttled.
        """
        client = self.clients.get(client_id) if client_id else None
        if client is None or not client.enabled or not getattr(client, "allow_signup", False):
            raise UnauthorizedClientError(
                "this application does not allow sign-up", reason="signup_not_allowed"
            )
        address = normalize_email(email)
        username = canonical_username(address)
        self.policy.check(password, username=username)
        user = self._profile(User(username=username, password_hash="", email=address), profile or {})
        key = email_key(address)
        self._take(SIGNUP, key, source_ip)
        password_hash = self.hasher.hash(password)  # always: the same cost whoever owns the address
        claimed = self.accounts.owner_of(key)  # both reads always: the same calls either way
        existing = self.users.get(username)
        if claimed is not None or existing is not None:
            self.audit.record("SignUpForExistingAddress", client_id=client_id)
            self.mailer.send(account_exists_email(address, brand=self.brand, link=base_url + FORGOT_PAGE))
            return
        code = _new_code()
        self.accounts.put_code(
            PendingCode(
                purpose=SIGNUP,
                email_key=key,
                code_hash=code_hash(SIGNUP, key, code),
                expires_at=int(self.clock()) + self.code_ttl,
                client_id=client_id,
                user=replace(user, password_hash=password_hash, scopes=self.signup_scopes),
            )
        )
        link = _link(base_url + VERIFY_PAGE, email=address, code=code, next=continue_to)
        self.mailer.send(
            verification_email(address, brand=self.brand, code=code, link=link, minutes=self.code_ttl // 60)
        )
        self.audit.record("SignUpStarted", client_id=client_id)

    def verify(self, *, email: str, code: str, password: str, source_ip: str | None) -> User:
        """Complete a sign-up: the user, created with its verified address.

        The password chosen at sign-up is asked again: a later sign-up for the same address
        replaces the pending one (and its code), so without it the owner of the address could be
        led to confirm a sign-up -- and a password -- someone else chose.

        :raises InvalidGrantError: wrong, expired, used or exhausted code (``code_invalid``),
            not the password of the sign-up (``password_mismatch``; the attempt is counted),
            or the address or username was taken meanwhile.
        :raises SlowDownError: throttled (per IP).
        """
        _address, key = self._address(email)
        self._take_ip(source_ip)
        pending = self._spend(SIGNUP, key, code)
        try:
            self.hasher.verify(password, pending.user.password_hash)
        except InvalidGrantError:
            self.audit.record("AccountCodeRefused", reason="password_mismatch")
            raise InvalidGrantError(CODE_INVALID, reason="password_mismatch") from None
        try:
            user = self.accounts.complete_signup(pending)
        except AlreadyExistsError as exc:
            self.audit.record("SignUpRefused", reason=exc.reason)
            raise InvalidGrantError(CODE_INVALID, reason=exc.reason) from None
        if user is None:
            raise InvalidGrantError(CODE_INVALID, reason="code_invalid")
        self.audit.record("SignUpCompleted", client_id=pending.client_id, user_id=user.user_id)
        return user

    # ------------------------------------------------------------------ forgotten password
    def forgot(self, *, email: str, source_ip: str | None, base_url: str) -> None:
        """Mail a reset code to the account of a verified address, or a notice to any other
        address; the same answer (``None``) either way.

        :raises InvalidRequestError: a malformed address.
        :raises SlowDownError: throttled.
        """
        address, key = self._address(email)
        self._take(RESET, key, source_ip)
        claim = self.accounts.owner_of(key)
        # one user read either way (the claim's user, else the address as a username)
        user = self.users.get(claim.username if claim is not None else _username_or_key(address, key))
        if claim is None or user is None or user.user_id != claim.owner or not user.enabled:
            self.audit.record("ResetForUnknownAddress")
            self.mailer.send(no_account_email(address, brand=self.brand))
            return
        code = _new_code()
        self.accounts.put_code(
            PendingCode(
                purpose=RESET,
                email_key=key,
                code_hash=code_hash(RESET, key, code),
                expires_at=int(self.clock()) + self.code_ttl,
                user=User(username=user.username, password_hash="", user_id=user.user_id),
                sessions_version=user.sessions_version,
            )
        )
        to = user.email or address  # the address as verified, not as typed now
        link = _link(base_url + RESET_PAGE, email=to, code=code)
        self.mailer.send(reset_email(to, brand=self.brand, code=code, link=link, minutes=self.code_ttl // 60))
        self.audit.record("ResetCodeSent", user_id=user.user_id)

    def reset(self, *, email: str, code: str, password: str, source_ip: str | None) -> int:
        """Set a new password with a reset code; every session of the user ends. Returns the
        number of refresh-token sessions ended.

        :raises InvalidGrantError: wrong, expired, used or exhausted code, or the user changed
            since the code was issued (``code_invalid``).
        :raises InvalidRequestError: the new password is refused by the policy (the code is
            not spent then).
        """
        address, key = self._address(email)
        self._take_ip(source_ip)
        self.policy.check(password, username=canonical_username(address))
        pending = self._spend(RESET, key, code)
        if not self.accounts.consume(pending):
            raise InvalidGrantError(CODE_INVALID, reason="code_invalid")
        try:
            ended = self.revoker.set_password(
                pending.user.username,
                self.hasher.hash(password),
                expect_sessions_version=pending.sessions_version,
            )
        except InvalidRequestError:  # gone, or reset / logged out everywhere since the code
            raise InvalidGrantError(CODE_INVALID, reason="user_changed") from None
        if self.login_throttle is not None:  # the owner is back in control
            self.login_throttle.unlock(pending.user.username)
        self.audit.record("PasswordReset", user_id=pending.user.user_id, families=ended)
        user = self.users.get(pending.user.username)
        self.mailer.send(password_changed_email((user.email if user else "") or address, brand=self.brand))
        return ended

    # ------------------------------------------------------------------ change password
    def change_password(
        self, *, subject: str, client_id: str, current: str, new: str, source_ip: str | None
    ) -> int:
        """A signed-in user (``subject``, an access token's ``sub``) changes its password; every
        session ends, the caller's own included. Returns the sessions ended.

        :raises InvalidGrantError: the current password is wrong (through the login path).
        :raises SlowDownError: the login throttle refused the attempt.
        :raises InvalidRequestError: the new password is refused by the policy.
        """
        username = self.users.username_for_subject(subject)
        if username is None:
            raise InvalidGrantError("no such user", reason="user_unknown")
        user = authenticate_user(
            username,
            current,
            users=self.users,
            throttle=self.login_throttle,
            hasher=self.hasher,
            audit=self.audit,
            client_id=client_id,
            source_ip=source_ip,
        )
        if user.subject != subject:
            raise InvalidGrantError("the user changed", reason="user_changed")
        self.policy.check(new, username=username)
        ended = self.revoker.set_password(
            username, self.hasher.hash(new), expect_sessions_version=user.sessions_version
        )
        self.audit.record("PasswordChanged", user_id=user.user_id, families=ended)
        if user.email and user.email_verified:
            self.mailer.send(password_changed_email(user.email, brand=self.brand))
        return ended

    def signed_in(self, cookie_value: str | None) -> User | None:
        """The user this browser's single sign-on session (its cookie) is signed in as, or
        ``None`` (``accounts.signed_in``).

        :raises StoreUnavailableError: DynamoDB failed.
        """
        if self.sso is None or self.revocations is None:
            return None
        from auth_core.accounts.signed_in import signed_in_user  # noqa: PLC0415

        return signed_in_user(
            cookie_value, sso=self.sso, users=self.users, revocations=self.revocations, now=int(self.clock())
        )

    # ------------------------------------------------------------------ helpers
    def _profile(self, user: User, given: Mapping[str, Any]) -> User:
        names: dict[str, Any] = {f: check_text(f, given[f]) for f in NAME_FIELDS if given.get(f) is not None}
        custom = given.get("attributes") or {}
        if not isinstance(custom, Mapping):
            raise InvalidRequestError("attributes must be an object", reason="profile")
        return replace(user, **names, attributes=check_attributes(custom, self.custom_attributes))

    @staticmethod
    def _address(email: str) -> tuple[str, str]:
        address = normalize_email(email)
        return address, email_key(address)

    def _take(self, purpose: str, key: str, source_ip: str | None) -> None:
        self._take_ip(source_ip)
        try:
            self.throttle.take(f"{purpose}#{key}", source_ip)
        except SlowDownError:
            self.audit.record("AccountThrottled", reason=purpose)
            raise

    def _take_ip(self, source_ip: str | None) -> None:
        try:
            self.ip_throttle.take(f"ip#{source_ip or '-'}", source_ip)
        except SlowDownError:
            self.audit.record("AccountThrottled", reason="ip")
            raise

    def _spend(self, purpose: str, key: str, code: str) -> PendingCode:
        """One counted attempt at the code; the pending item when ``code`` is its code."""
        if not isinstance(code, str) or not code.strip().isdigit() or len(code.strip()) > 16:
            raise InvalidGrantError(CODE_INVALID, reason="code_format")
        pending = self.accounts.spend_attempt(
            purpose, key, now=int(self.clock()), max_attempts=self.max_attempts
        )
        expected = code_hash(purpose, key, code.strip())
        if pending is None or not hmac.compare_digest(pending.code_hash, expected):
            self.audit.record("AccountCodeRefused", reason=purpose)
            raise InvalidGrantError(CODE_INVALID, reason="code_invalid")
        return pending


def _username_or_key(address: str, key: str) -> str:
    try:
        return canonical_username(address)
    except InvalidRequestError:
        return key


def _link(base: str, **params: str) -> str:
    return base + "?" + urlencode({k: v for k, v in params.items() if v})
