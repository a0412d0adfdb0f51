"""Multi-factor sign-in: TOTP (RFC 6238) and recovery codes (``totp``, ``recovery``), the policy
(``policy``). The stores are ``auth_core.stores.mfa``; the flow is ``auth_core.oauth.second_factor``."""
