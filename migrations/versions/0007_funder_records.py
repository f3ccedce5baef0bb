"""What a funder asks for: commitments, baselines, significant developments and the indirect-cost rate

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

- ``commitment``: obligations not yet paid (the SF-425's unliquidated obligations while Open), converted to
  the grant currency exactly as expenditures are.
- ``baseline``: one per indicator (value, date, source, comment).
- ``development``: significant developments per partnership (date, category, text, optional reference).
- ``grant_award.indirect_rate`` (a percentage, 4 decimal places) and ``budget_line.indirect_base`` (the lines
  the rate applies to). Both nullable: grants and lines created before replay from the trail unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mou_tracker.db.types import ScaledDecimal

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("commitment", "baseline", "development")


def _grants() -> None:
    owners = " ".join(f"ALTER TABLE {t} OWNER TO mou_admin;" for t in TABLES)
    tables = ", ".join(TABLES)
    op.execute(f"""DO $mou$ BEGIN
        IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('mou_admin', 'mou_manager', 'mou_evaluator')) < 3 THEN
          RETURN;
        END IF;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR pg_has_role(current_user, 'mou_admin', 'MEMBER') THEN
          {owners}
        END IF;
        GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO mou_manager;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mou_manager;
        GRANT SELECT ON {tables} TO mou_evaluator;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not grant on the funder tables; role layout skipped', current_user;
        END $mou$""")


def upgrade() -> None:
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", ScaledDecimal(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", ScaledDecimal(precision=22, scale=10), nullable=True),
        sa.Column("amount_grant", ScaledDecimal(precision=18, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["budget_line_id"], ["budget_line.id"],
                                name=op.f("fk_commitment_budget_line_id_budget_line")),
        sa.ForeignKeyConstraint(["grant_id"], ["grant_award.id"], name=op.f("fk_commitment_grant_id_grant_award")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment")),
        sa.UniqueConstraint("grant_id", "code", name=op.f("uq_commitment_grant_id_code")),
    )
    with op.batch_alter_table("commitment") as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitment_budget_line_id"), ["budget_line_id"], unique=False)
    op.create_table(
        "baseline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("value", ScaledDecimal(precision=18, scale=2), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicator.id"], name=op.f("fk_baseline_indicator_id_indicator"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baseline")),
        sa.UniqueConstraint("indicator_id", name=op.f("uq_baseline_indicator_id")),
    )
    op.create_table(
        "development",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["partnership_id"], ["partnership.id"],
                                name=op.f("fk_development_partnership_id_partnership")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_development")),
    )
    with op.batch_alter_table("development") as batch_op:
        batch_op.create_index("ix_development_partnership_date", ["partnership_id", "date"], unique=False)
    op.add_column("grant_award", sa.Column("indirect_rate", ScaledDecimal(precision=9, scale=4), nullable=True))
    op.add_column("budget_line", sa.Column("indirect_base", sa.Boolean(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _grants()


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+): a batch copy of grant_award would break the keys that refer to it
    op.execute("ALTER TABLE budget_line DROP COLUMN indirect_base")
    op.execute("ALTER TABLE grant_award DROP COLUMN indirect_rate")
    with op.batch_alter_table("development") as batch_op:
        batch_op.drop_index("ix_development_partnership_date")
    op.drop_table("development")
    op.drop_table("baseline")
    with op.batch_alter_table("commitment") as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_budget_line_id"))
        batch_op.drop_index(batch_op.f("ix_commitment_grant_id"))
    op.drop_table("commitment")
