"""Personal data sealed in the audit trail, erasable: a per-participant key table

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Events written from this revision on carry a participant's name, staff number and identity key only sealed
(AES-256-GCM under the person's own key in ``participant_secret``); erasure deletes the key. Events written
before stay as they are: they are covered by hashes already given out (report covers, sign-offs), so
rewriting them would break every anchor. ``participant erase`` says which older events still hold a
person's data in clear.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("participant_secret",
                    sa.Column("participant_id", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("secret", sa.LargeBinary(32), nullable=False),
                    sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_secret")))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""DO $mou$ BEGIN
        IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('mou_admin', 'mou_manager', 'mou_evaluator')) < 3 THEN
          RETURN;
        END IF;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR pg_has_role(current_user, 'mou_admin', 'MEMBER') THEN
          ALTER TABLE participant_secret OWNER TO mou_admin;
        END IF;
        GRANT SELECT, INSERT, DELETE ON participant_secret TO mou_manager;
        GRANT SELECT ON participant_secret TO mou_evaluator;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not grant on participant_secret; role layout skipped', current_user;
        END $mou$""")


def downgrade() -> None:
    op.drop_table("participant_secret")
