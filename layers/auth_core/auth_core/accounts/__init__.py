"""Self-service accounts: sign-up with email verification, forgotten / reset password, change
password, and the user profile's rules (``auth_core.accounts.service``, ``.profile``)."""
