"""DynamoDB stores: users, OAuth clients, refresh-token sessions, revocations, login throttle.

One module per table concept; each store takes its table name and an optional injected
low-level DynamoDB client (default: the shared lazy ``auth_core.aws`` client). Stores hold no
business rules beyond the conditions that keep a table consistent; those live in
``auth_core.oauth``. Every item with a TTL carries ``expires_at`` (epoch seconds) and the code
checks it itself: DynamoDB deletes expired items lazily (up to days later) and moto never does.
"""
