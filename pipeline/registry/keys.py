"""API keys: created with a role, shown once, stored as a salted scrypt hash, checked in
constant time, revoked (never deleted: the audit log names them).

A key reads ``socobs_<prefix>_<secret>``: the prefix (8 hex digits) finds the row, the secret
is hashed with scrypt (salt 16 random bytes, n=2**14, r=8, p=1) and compared with
``hmac.compare_digest``. Neither the key nor its secret is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from pipeline.registry.db import NotFoundError, RegistryError, session
from pipeline.registry.models import ApiKey, AuditEntry

ROLES = ("viewer", "editor", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
N, R, P = 2**14, 8, 1
PREFIX = "socobs_"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    prefix: str
    role: str
    note: str
    created_at: str
    revoked_at: str | None

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def _hash(secret: str, salt: bytes, n: int = N, r: int = R, p: int = P) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _encode(secret: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${salt.hex()}${_hash(secret, salt).hex()}"


def _matches(secret: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = _hash(secret, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(got, bytes.fromhex(digest))
    except ValueError:
        return False


def _info(k: ApiKey) -> KeyInfo:
    return KeyInfo(
        k.id,
        k.prefix,
        k.role,
        k.note,
        k.created_at.isoformat(),
        k.revoked_at.isoformat() if k.revoked_at else None,
    )


def check_role(role: str) -> str:
    if role not in ROLES:
        raise RegistryError(
            f"role: expected one of {', '.join(ROLES)}; got {role[:40]!r}. Choose the least that "
            "suffices (editor writes organisations, projects and KPI observations).",
            field="role",
            allowed=list(ROLES),
        )
    return role


def create_key(url: str, role: str, note: str = "", who: str = "cli") -> tuple[str, KeyInfo]:
    """A new key of ``role``: (the plaintext key, shown once; what is stored about it)."""
    check_role(role)
    now = datetime.now(UTC)
    with session(url) as s:
        for _ in range(5):  # the prefix is unique; a clash in 2**32 is retried
            prefix = secrets.token_hex(4)
            if s.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
                break
        secret = secrets.token_urlsafe(32)
        row = ApiKey(prefix=prefix, hash=_encode(secret), role=role, note=note[:500], created_at=now)
        s.add(row)
        s.flush()
        after = f'{{"id": {row.id}, "prefix": "{prefix}", "role": "{role}"}}'
        s.add(
            AuditEntry(
                who=who, at=now, action="create", table_name="api_keys", row_id=str(row.id), after=after
            )
        )
        info = _info(row)
    return f"{PREFIX}{prefix}_{secret}", info


def list_keys(url: str) -> list[KeyInfo]:
    with session(url) as s:
        return [_info(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(url: str, key_id: int, who: str = "cli") -> KeyInfo:
    now = datetime.now(UTC)
    with session(url) as s:
        row = s.get(ApiKey, key_id)
        if row is None:
            ids = [str(i) for i in s.scalars(select(ApiKey.id).order_by(ApiKey.id))]
            raise NotFoundError(
                f"key id: expected the id of a key (`socobs keys list`); got {key_id}, which is not "
                f"one (known ids: {', '.join(ids[:20]) or 'none'}).",
                field="id",
            )
        if row.revoked_at is None:
            row.revoked_at = now
            s.add(
                AuditEntry(
                    who=who,
                    at=now,
                    action="revoke",
                    table_name="api_keys",
                    row_id=str(row.id),
                    before='{"revoked_at": null}',
                    after=f'{{"revoked_at": "{now.isoformat()}"}}',
                )
            )
        return _info(row)


def verify_key(url: str, key: str) -> KeyInfo | None:
    """The key's record when ``key`` is a live key, else None (unknown, malformed or revoked:
    the caller says 401 without telling which). The hash is always computed, so a wrong prefix
    and a wrong secret take the same time."""
    prefix, secret = "", key
    if key.startswith(PREFIX) and key.count("_") >= 2:
        prefix, _, secret = key.removeprefix(PREFIX).partition("_")
    with session(url) as s:
        row = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
        stored = row.hash if row is not None else _DUMMY
        ok = _matches(secret, stored)
        if row is None or not ok or row.revoked_at is not None:
            return None
        return _info(row)


_DUMMY = _encode(secrets.token_urlsafe(32))
