"""API keys and tenants.

A key looks like ``adv_<prefix>_<secret>``: the prefix (8 hex characters) names it in lists
and logs, the secret (32 bytes, URL-safe base64) proves it. Only the key's SHA-256 is stored,
so a copy of the database gives no usable key; a fast hash is fine because the secret has
256 bits of entropy (there is nothing to brute-force, unlike a password). Requests send it as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Every dataset, source and run belongs to the tenant of the key that created it; another
tenant's key gets 404 for it, as if it did not exist.

*Open access* (``ADVISOR_OPEN_ACCESS=1``) serves one local tenant without keys, for use on
one's own machine: only to a request whose remote address is loopback and that names no other
client in a forwarding header (:func:`is_local_request`; a request through a proxy may come
from anywhere), whatever address the server listens on; any other key-less request is
``401`` as usual. ``advisor serve`` also refuses it on a non-loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.datastructures import Headers

from advisor.errors import AdvisorError, NotFoundError, define_code
from api.db import ApiKey, Database, Tenant, utcnow

KEY_PREFIX = "adv_"
LOCAL_TENANT = "local"
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
"""Headers a proxy adds naming the client it forwards for: such a request is not local."""

UNAUTHORIZED = define_code(
    "auth.unauthorized", "The request has no API key, or the key is unknown or revoked."
)
UNKNOWN_KEY = define_code("auth.unknown_key", "No API key has that prefix.")


class AuthError(AdvisorError):
    """The request is not authenticated (HTTP 401)."""

    default_code = UNAUTHORIZED
    status = 401


@dataclass(frozen=True)
class Caller:
    """Who sent a request: its tenant, and the record id of the key it sent.

    ``key_id`` is ``None`` for an open-access request (no key). It names the key without
    revealing it (rate limits count by it; the key itself is a secret).
    """

    tenant_id: str
    key_id: str | None


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
    """A new key for ``tenant`` (created if needed; the name without surrounding spaces).

    Raises:
        AdvisorError: ``input.invalid`` for a blank tenant name (nothing is created).
    """
    name = tenant.strip()
    if not name:
        raise AdvisorError(f"A tenant needs a name; {tenant!r} is blank.", tenant=tenant)
    owner = tenant_id(db, name)
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with db.session() as session:
        session.add(ApiKey(tenant_id=owner, prefix=prefix, hash=hash_key(key)))
    return NewKey(key=key, prefix=prefix, tenant=name)


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
    """The tenant id a request's key belongs to (see :func:`identify`).

    Raises:
        AuthError: ``auth.unauthorized`` for a missing, unknown or revoked key (unless open
            access serves key-less requests as the local tenant).
    """
    return identify(db, key, open_access=open_access).tenant_id


def identify(db: Database, key: str | None, *, open_access: bool) -> Caller:
    """The tenant and key record a request's key belongs to.

    ``open_access``: serve a key-less request as the local tenant; the caller decides it from
    the setting *and* the request (:func:`is_local_request`).

    Raises:
        AuthError: ``auth.unauthorized`` for a missing, unknown or revoked key (unless open
            access serves key-less requests as the local tenant).
    """
    if not key:
        if open_access:
            return Caller(tenant_id(db, LOCAL_TENANT), None)
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
        return Caller(found.tenant_id, found.id)


def is_loopback_address(address: str | None) -> bool:
    """Whether ``address`` (an IP address, as a server sees its client) is a loopback one.

    An IPv4 loopback address written as IPv6 (``::ffff:127.0.0.1``) is one too; a name, an
    empty or a missing address is not.
    """
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped.is_loopback
    return parsed.is_loopback


def is_local_request(remote_address: str | None, headers: Headers | Mapping[str, str]) -> bool:
    """Whether a request may be served by open access: it comes from this machine.

    Its remote address is loopback, and it carries no forwarding header
    (:data:`FORWARDING_HEADERS`): a proxy on this machine forwards requests from anywhere.
    Fails closed: no remote address at all (``None``; every WSGI server sets ``REMOTE_ADDR``)
    or an empty one (gunicorn on a Unix socket, where a local proxy forwards anyone) is not
    loopback.
    """
    if any(headers.get(name) for name in FORWARDING_HEADERS):
        return False
    return remote_address is not None and is_loopback_address(remote_address)
