"""``GET /.well-known/jwks.json``, ``/.well-known/openid-configuration`` and
``/.well-known/oauth-authorization-server`` (RFC 8414: the same metadata document).

Thin: the documents are built in :mod:`auth_core.discovery`; the JWKS is the *published* one
(the public secret, cached in a :class:`~auth_core.keystore.PublicKeyStore`), with the
ID-token lineage's keys marked ``"lineage": "id_token"`` (relying parties ignore the member).
Both answers carry a strong ``ETag`` and ``Cache-Control: public, max-age <= KEY_CACHE_TTL``; a
matching ``If-None-Match`` gets a bodiless 304.
"""

from __future__ import annotations

import functools

from auth_core.discovery import (
    AUTHORIZATION_SERVER_METADATA_PATH,
    JWKS_PATH,
    OPENID_CONFIGURATION_PATH,
    cache_control,
    canonical_json,
    etag_for,
    etag_matches,
    openid_configuration,
)
from auth_core.http import HttpFunction, Response
from auth_core.issuer import resolve_issuer
from auth_core.keystore import PublicKeyStore
from auth_core.oauth.audit import PowertoolsAudit
from auth_core.settings import Settings

fn = HttpFunction.create("jwks")
app, logger, metrics = fn.app, fn.logger, fn.metrics


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def key_store() -> PublicKeyStore:
    return PublicKeyStore.from_settings(settings(), on_event=PowertoolsAudit(logger, metrics).record)


def _cacheable(body: str) -> Response:
    tag = etag_for(body)
    headers = {"Cache-Control": cache_control(settings().key_cache_ttl), "ETag": tag}
    if etag_matches(app.current_event.headers.get("if-none-match"), tag):
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type="application/json", body=body, headers=headers)


@app.get(JWKS_PATH)
def jwks() -> Response:
    return _cacheable(canonical_json(key_store().jwks().to_dict()))


@app.get(OPENID_CONFIGURATION_PATH)
@app.get(AUTHORIZATION_SERVER_METADATA_PATH)
def openid_config() -> Response:
    config = settings()
    doc = openid_configuration(
        resolve_issuer(config.issuer, app.current_event.raw_event),
        scopes=config.scopes_supported,
        dpop_algs=config.dpop_signing_algs,
    )
    return _cacheable(canonical_json(doc))


lambda_handler = fn.handler()
