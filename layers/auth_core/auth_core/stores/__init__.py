"""The stores: users, OAuth clients, refresh-token sessions, revocations, login throttle.

The OAuth layer sees only :mod:`auth_core.stores.interfaces` (typed operations, transaction
steps and outcomes); every key format, attribute name, condition expression and error-code
decoding stays in the store modules. Two backends: DynamoDB (production, functional tests) and
:mod:`auth_core.stores.memory` (the OAuth logic's unit tests).

DynamoDB: one module per table concept; each store takes its table name and an optional
injected low-level DynamoDB client (default: the shared lazy ``auth_core.aws`` client). Stores
hold no business rules beyond the conditions that keep a table consistent; those live in
``auth_core.oauth``. Every item with a TTL carries ``expires_at`` (epoch seconds) and the code
checks it itself: DynamoDB deletes expired items lazily (up to days later) and moto never does.
"""
