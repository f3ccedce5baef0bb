"""Exchange rates kept exactly as entered, up to 10 decimal places

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Rates were kept to 6 decimal places (0.0077405 became 0.007741); docs/reference/grant.md now keeps 10. Every stored
value is kept: PostgreSQL widens NUMERIC(18, 6) to NUMERIC(22, 10) (the same 12 integer digits, 4 more
decimals; ALTER ... TYPE converts each value exactly). SQLite stores a rate as a BIGINT count of its smallest
unit (``ScaledDecimal``), so there each stored integer is multiplied by 10^4: the unit becomes 10^-10. A value
too large to be rescaled within a BIGINT (a rate above 922,337,203 - no real exchange rate) stops the
upgrade with a message instead of being changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("disbursement", "expenditure")
#: 10^(new scale - old scale)
FACTOR = 10**4
#: the largest stored integer (scale 6) that still fits a BIGINT once multiplied by FACTOR
SQLITE_LIMIT = (2**63 - 1) // FACTOR


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in TABLES:
            too_big = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE abs(rate) > :limit"),
                                   {"limit": SQLITE_LIMIT}).scalar_one()
            if too_big:
                raise RuntimeError(f"{too_big} {table} rate(s) are too large to keep 10 decimal places; "
                                   "correct them and upgrade again")
            bind.execute(sa.text(f"UPDATE {table} SET rate = rate * {FACTOR} WHERE rate IS NOT NULL"))
    else:
        for table in TABLES:
            op.alter_column(table, "rate", type_=sa.Numeric(22, 10), existing_type=sa.Numeric(18, 6),
                            existing_nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # back to 6 places, half-up (the old column could not hold more)
        for table in TABLES:
            bind.execute(sa.text(
                f"UPDATE {table} SET rate = CASE WHEN rate >= 0 THEN (rate + {FACTOR // 2}) / {FACTOR} "
                f"ELSE -((-rate + {FACTOR // 2}) / {FACTOR}) END WHERE rate IS NOT NULL"))
    else:
        for table in TABLES:
            op.alter_column(table, "rate", type_=sa.Numeric(18, 6), existing_type=sa.Numeric(22, 10),
                            existing_nullable=True)
