"""API keys and tenants.

A key looks like ``adv_<prefix>_<secret>``: the prefix (8 hex characters) names it in lists
and logs, the secret (32 bytes, URL-safe base64) proves it. Only the key's SHA-256 is stored,
so a copy of the database gives no usable key; a fast hash is fine because the secret has
256 bits of entropy (there is nothing to brute-force, unlike a password). Requests send it as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Every dataset, source and run belongs to the tenant of the key that created it; another
tenant's key gets 404 for it, as if it did not exist.

*Open access* (``ADVISOR_OPEN_ACCESS=1``) serves one local tenant without keys, for use on
one's own machine; ``advisor serve`` refuses it on a non-loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from advisor.errors import AdvisorError, NotFoundError, define_code
from api.db import ApiKey, Database, Tenant, utcnow

KEY_PREFIX = "adv_"
LOCAL_TENANT = "local"

UNAUTHORIZED = define_code(
    "auth.unauthorized", "The request has no API key, or the key is unknown or revoked."
)
UNKNOWN_KEY = define_code("auth.unknown_key", "No API key has that prefix.")


class AuthError(AdvisorError):
    """The request is not authenticated (HTTP 401)."""

    default_code = UNAUTHORIZED
    status = 401


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: the only time its secret is visible."""

    key: str
    prefix: str
    tenant: str


def hash_key(key: str) -> str:
    """SHA-256 of the key, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def tenant_id(db: Database, name: str) -> str:
    """The id of the tenant called ``name``, created if it does not exist yet."""
    with db.session() as session:
        found = session.scalar(select(Tenant).where(Tenant.name == name))
        if found is None:
            found = Tenant(name=name)
            session.add(found)
            session.flush()
        return found.id


def create_key(db: Database, tenant: str) -> NewKey:
    """A new key for ``tenant`` (created if needed)."""
    owner = tenant_id(db, tenant)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with db.session() as session:
        session.add(ApiKey(tenant_id=owner, prefix=prefix, hash=hash_key(key)))
    return NewKey(key=key, prefix=prefix, tenant=tenant)


def revoke_key(db: Database, key_or_prefix: str) -> int:
    """Revoke a key given in full or by its prefix; returns how many were revoked.

    Raises:
        NotFoundError: ``auth.unknown_key`` when nothing matches.
    """
    prefix = key_or_prefix.removeprefix(KEY_PREFIX).split("_", 1)[0]
    with db.session() as session:
        keys = session.scalars(
            select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked.is_(None))
        ).all()
        if not keys:
            raise NotFoundError(f"No active API key with prefix {prefix!r}.", code=UNKNOWN_KEY)
        for key in keys:
            key.revoked = utcnow()
        return len(keys)


def authenticate(db: Database, key: str | None, *, open_access: bool) -> str:
    """The tenant id a request's key belongs to.

    Raises:
        AuthError: ``auth.unauthorized`` for a missing, unknown or revoked key (unless open
            access serves key-less requests as the local tenant).
    """
    if not key:
        if open_access:
            return tenant_id(db, LOCAL_TENANT)
        raise AuthError("Send an API key: 'Authorization: Bearer <key>'.", code=UNAUTHORIZED)
    digest = hash_key(key)
    with db.session() as session:
        found = session.scalar(select(ApiKey).where(ApiKey.hash == digest))
        if (
            found is None
            or found.revoked is not None
            or not hmac.compare_digest(found.hash, digest)
        ):
            raise AuthError("The API key is unknown or revoked.", code=UNAUTHORIZED)
        return found.tenant_id
