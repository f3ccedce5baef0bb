"""Typed SQLAlchemy 2 models for everything the programme records.

Every table is written only through ``mou_tracker.services``; each change there writes an ``AuditEvent``.
Money and scores are exact decimals (see ``types.py``); dates are dates; time stamps are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mou_tracker.db.types import Money, Rate, ScaledDecimal, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: Money(),
        datetime: UTCDateTime(),
        date: Date(),
        str: String(200),
    }


class Partnership(Base):
    __tablename__ = "partnership"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str]
    country: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    parties: Mapped[list[Party]] = relationship(back_populates="partnership", order_by="Party.code")


class Party(Base):
    """A signatory of the MoU, with the fiscal calendar its reports use."""

    __tablename__ = "party"
    __table_args__ = (UniqueConstraint("partnership_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str]
    fiscal_start_month: Mapped[int] = mapped_column(Integer)
    fiscal_label_style: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))

    partnership: Mapped[Partnership] = relationship(back_populates="parties")


class User(Base):
    """A registered person: role, the party they act for, whether they may sign its sign-offs, and their
    OpenSSH Ed25519 public key (never a private one). Columns added later are nullable, so users created
    before them replay from the trail unchanged."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str | None]
    party: Mapped[str | None] = mapped_column(String(20))
    #: True for a party's signatory; None (never set) and False both mean not a signatory
    signatory: Mapped[bool | None] = mapped_column(Boolean)
    #: ``ssh-ed25519 AAAA...`` as registered with ``user key``
    public_key: Mapped[str | None] = mapped_column(Text)
    key_fingerprint: Mapped[str | None] = mapped_column(String(80))


class Indicator(Base):
    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("partnership_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str]
    unit: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))
    #: which computation rule feeds it (see services.indicators.RULES), or "manual"
    rule: Mapped[str] = mapped_column(String(40))
    decimals: Mapped[int] = mapped_column(Integer)
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    band_low: Mapped[Decimal] = mapped_column(ScaledDecimal(7, 2))
    band_high: Mapped[Decimal] = mapped_column(ScaledDecimal(7, 2))
    position: Mapped[int] = mapped_column(Integer)
    definition: Mapped[str | None] = mapped_column(Text)
    data_source: Mapped[str | None] = mapped_column(Text)
    how_computed: Mapped[str | None] = mapped_column(Text)
    disaggregations: Mapped[str | None] = mapped_column(Text)


class Target(Base):
    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(18, 2))


class Result(Base):
    """A manual outcome figure for one indicator and quarter (OC1, OC2 and user-defined ones)."""

    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(18, 2))
    source: Mapped[str | None] = mapped_column(Text)


class Narrative(Base):
    __tablename__ = "narrative"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    text: Mapped[str] = mapped_column(Text)


class Training(Base):
    __tablename__ = "training"
    __table_args__ = (
        UniqueConstraint("partnership_id", "code"),
        Index("ix_training_partnership_end", "partnership_id", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date]
    end_date: Mapped[date]
    county: Mapped[str] = mapped_column(String(40))
    venue: Mapped[str | None]
    delivery: Mapped[str | None] = mapped_column(String(20))
    lead: Mapped[str | None] = mapped_column(String(20))
    cost: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))


class Participant(Base):
    """A person trained. ``key`` is the identity rule of docs/reference/indicators.md (staff number, else
    name + agency)."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("partnership_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str]
    sex: Mapped[str] = mapped_column(String(1))
    agency: Mapped[str] = mapped_column(String(40))
    role: Mapped[str | None]
    staff_number: Mapped[str | None] = mapped_column(String(60))


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("training_id", "participant_id"),
        Index("ix_attendance_participant", "participant_id", "training_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    pre_score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))
    post_score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(5, 2))


class Engagement(Base):
    __tablename__ = "engagement"
    __table_args__ = (
        UniqueConstraint("partnership_id", "code"),
        Index("ix_engagement_partnership_date", "partnership_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    code: Mapped[str] = mapped_column(String(60))
    date: Mapped[date]
    type: Mapped[str] = mapped_column(String(40))
    county: Mapped[str] = mapped_column(String(40))
    case_ref: Mapped[str | None] = mapped_column(String(120))
    case_key: Mapped[str | None] = mapped_column(String(120))
    hours: Mapped[Decimal] = mapped_column(ScaledDecimal(10, 2))
    hti_advisor: Mapped[str | None]
    odpp_counterpart: Mapped[str | None]
    summary: Mapped[str | None] = mapped_column(Text)


class Milestone(Base):
    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("partnership_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    workstream: Mapped[str | None] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(20))
    #: the first due date ever recorded; indicator 3.2 measures timeliness against it
    original_due_date: Mapped[date]
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[date | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))


class Grant(Base):
    __tablename__ = "grant_award"
    __table_args__ = (UniqueConstraint("partnership_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    funder: Mapped[str]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    start_date: Mapped[date]
    end_date: Mapped[date]
    #: the negotiated indirect-cost rate, a percentage (26.35 = 26.35 %), applied to the base lines; None = none
    indirect_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(9, 4))


class BudgetLine(Base):
    __tablename__ = "budget_line"
    __table_args__ = (UniqueConstraint("grant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str]
    category: Mapped[str | None] = mapped_column(String(60))
    amount: Mapped[Decimal]
    #: True when the line's spending is the base the grant's indirect-cost rate applies to; None = not set
    indirect_base: Mapped[bool | None] = mapped_column(Boolean)


#: columns whose scale a migration widened (0004: rates from 6 to 10 decimal places). Events written before
#: hold the old text ("0.007705"); replaying them re-canonicalises these columns at today's scale, so the
#: same number compares equal to what the table holds ("0.0077050000").
RESCALED_COLUMNS: dict[str, tuple[str, ...]] = {"disbursement": ("rate",), "expenditure": ("rate",)}


class Disbursement(Base):
    __tablename__ = "disbursement"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    date: Mapped[date]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal | None] = mapped_column(Rate())
    amount_grant: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(120))


class Expenditure(Base):
    __tablename__ = "expenditure"
    __table_args__ = (
        UniqueConstraint("grant_id", "code"),
        Index("ix_expenditure_grant_date", "grant_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"))
    code: Mapped[str] = mapped_column(String(60))
    date: Mapped[date]
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal | None] = mapped_column(Rate())
    #: amount x rate, rounded half-up to cents: the figure every total uses
    amount_grant: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(120))
    training_id: Mapped[int | None] = mapped_column(ForeignKey("training.id"))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagement.id"))


class Commitment(Base):
    """An obligation not yet paid (an order placed, a contract signed): the SF-425's unliquidated obligations
    while Open. Converted to the grant currency as an expenditure is (amount x rate, half-up to cents, once)."""

    __tablename__ = "commitment"
    __table_args__ = (UniqueConstraint("grant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    date: Mapped[date]
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal | None] = mapped_column(Rate())
    amount_grant: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))


class Baseline(Base):
    """An indicator's baseline: the value before the programme, when and where it was measured."""

    __tablename__ = "baseline"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), unique=True)
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(18, 2))
    date: Mapped[date]
    source: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)


class Development(Base):
    """A significant development reported to the funder as soon as known (a risk, an opportunity, a delay,
    a change in context); ``reference``, when given, is the user's own key for it."""

    __tablename__ = "development"
    __table_args__ = (Index("ix_development_partnership_date", "partnership_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    date: Mapped[date]
    category: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(120))


class PeriodSignoff(Base):
    """One party's sign-off of a quarter's figures, tied to the audit-chain head at that moment."""

    __tablename__ = "period_signoff"
    __table_args__ = (UniqueConstraint("partnership_id", "period", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    period: Mapped[str] = mapped_column(String(7))
    party: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime]
    comment: Mapped[str | None] = mapped_column(Text)
    chain_seq: Mapped[int] = mapped_column(Integer)
    chain_head: Mapped[str] = mapped_column(String(64))
    #: the figures signed, as canonical JSON, so later changes can be shown as restatements
    figures: Mapped[str | None] = mapped_column(Text)
    #: the exact bytes signed (canonical JSON, UTF-8) and the armored SSHSIG signature over them
    message: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(Text)
    #: the signer's public key at signing time (``ssh-ed25519 AAAA...``) and its SHA256 fingerprint
    public_key: Mapped[str | None] = mapped_column(Text)
    key_fingerprint: Mapped[str | None] = mapped_column(String(80))


class PeriodLock(Base):
    __tablename__ = "period_lock"
    __table_args__ = (UniqueConstraint("partnership_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"))
    period: Mapped[str] = mapped_column(String(7))
    locked_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    figures: Mapped[str | None] = mapped_column(Text)


class Restatement(Base):
    __tablename__ = "restatement"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7))
    reported_value: Mapped[str | None] = mapped_column(String(40))
    restated_value: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    reason_category: Mapped[str | None] = mapped_column(String(60))
    reason_text: Mapped[str | None] = mapped_column(Text)
    event_seq: Mapped[int | None] = mapped_column(Integer)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail (docs/reference/audit-and-signoff.md)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_kind", "entity_id"),
        # an event is found by its hash through the first 16 hex digits (migration 0008: a unique index on the
        # whole random hash was half of a bulk import's SQLite work, and the chain already makes hashes unique)
        Index("ix_audit_event_hash_prefix", text("substr(hash, 1, 16)")),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))
    entity_kind: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    entity_ref: Mapped[str | None] = mapped_column(String(300))
    partnership_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[str] = mapped_column(Text)
    reason_category: Mapped[str | None] = mapped_column(String(60))
    reason_text: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: who was logged in: on PostgreSQL the database login (a trigger refuses any other value); on SQLite
    #: the OS login when it differs from ``actor``. Covered by the hash when set.
    login: Mapped[str | None] = mapped_column(String(120))


class AuditChainLock(Base):
    """One row that every writer locks (``SELECT ... FOR UPDATE``) before appending to the trail. A row
    lock needs UPDATE privilege, which readers (evaluators) lack: no reader can hold writers up."""

    __tablename__ = "audit_chain_lock"

    id: Mapped[int] = mapped_column(primary_key=True)


class ParticipantSecret(Base):
    """The per-person key that seals a participant's personal fields in audit events (AES-256-GCM).
    Erasure deletes it: the sealed values become unreadable and the chain stays verifiable."""

    __tablename__ = "participant_secret"

    participant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    secret: Mapped[bytes] = mapped_column(LargeBinary(32))


#: entity kind (as written in audit events) -> model; the audit replay and the service layer share it
ENTITY_MODELS: dict[str, type[Base]] = {
    "partnership": Partnership,
    "party": Party,
    "user": User,
    "indicator": Indicator,
    "target": Target,
    "result": Result,
    "narrative": Narrative,
    "training": Training,
    "participant": Participant,
    "attendance": Attendance,
    "engagement": Engagement,
    "milestone": Milestone,
    "grant": Grant,
    "budget_line": BudgetLine,
    "disbursement": Disbursement,
    "expenditure": Expenditure,
    "commitment": Commitment,
    "baseline": Baseline,
    "development": Development,
    "period_signoff": PeriodSignoff,
    "period_lock": PeriodLock,
    "restatement": Restatement,
}
