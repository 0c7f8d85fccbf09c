"""The append-only audit trail: who did or read what, when, from where — chained by hashes.

Every change and every read of sensitive material is written through :func:`record`. Each row
stores a SHA-256 over its own content and the previous row's hash, so editing or deleting a row
breaks the chain from that row on, and :func:`verify_chain` names the first row that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, utcnow

GENESIS_HASH = "0" * 64
# Any constant will do: it names the one lock every writer of the chain takes on PostgreSQL.
_CHAIN_LOCK_KEY = 7_201_840_551


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80))
    object_type: Mapped[str | None] = mapped_column(sa.String(60))
    object_id: Mapped[str | None] = mapped_column(sa.String(60))
    review_id: Mapped[int | None] = mapped_column(index=True)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    def content_hash(self, prev_hash: str) -> str:
        return _chain_hash(prev_hash, {name: getattr(self, name) for name in _HASHED_FIELDS})


# Everything a row says about what happened; the id is left out as the chain itself fixes the order.
_HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "review_id",
    "ip_address",
    "user_agent",
    "details",
)


def _chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    content = {name: fields[name] for name in _HASHED_FIELDS}
    content["occurred_at"] = content["occurred_at"].isoformat(timespec="microseconds")
    payload = prev_hash + json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    review_id: int | None = None,
    actor_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction; it commits or rolls back with the change."""
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    ip_address = user_agent = None
    if has_request_context():
        ip_address = request.remote_addr
        user_agent = (request.user_agent.string or "")[:300] or None
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two rows never claim the same predecessor.
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK_KEY)))
    prev_hash = session.scalar(sa.select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS_HASH
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        review_id=review_id,
        ip_address=ip_address,
        user_agent=user_agent,
        details=json.dumps(details or {}, sort_keys=True, default=str),
        prev_hash=prev_hash,
    )
    event.row_hash = event.content_hash(prev_hash)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    # The newest row's hash: kept somewhere else, it shows whether the newest rows were later removed,
    # which the chain alone cannot.
    last_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def verify_chain(session: Session, batch_size: int = 1000) -> ChainReport:
    """Walk the whole chain in id order and report the first row that does not fit."""
    # Plain rows rather than AuditEvent objects: objects already in the session's identity map would
    # be handed back as remembered, hiding an edit made in the database, and the caller's session is
    # left exactly as it was (nothing expunged, no memory held across batches).
    table = AuditEvent.__table__
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch_size))
        batch = rows.mappings().all()
        if not batch:
            return ChainReport(checked, last_hash=expected_prev)
        for row in batch:
            if row["prev_hash"] != expected_prev:
                return ChainReport(checked, row["id"], "its link to the previous row is broken (a row was removed)")
            if _chain_hash(row["prev_hash"], row) != row["row_hash"]:
                return ChainReport(checked, row["id"], "its content does not match its hash (the row was edited)")
            expected_prev = row["row_hash"]
            checked += 1
            last_id = row["id"]
