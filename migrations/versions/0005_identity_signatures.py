"""Who did it and who signed it: database-recorded actors, signatories, keys and signed sign-offs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

- ``app_user``: the party a user acts for, whether they are its signatory, their OpenSSH Ed25519 public key
  and its fingerprint (nullable: users created before replay from the trail unchanged).
- ``period_signoff``: the signed message, its SSHSIG signature, and the key (and fingerprint) it was made with.
- ``audit_event.login``: who was logged in. On PostgreSQL a trigger refuses an event whose login is not the
  database login (``session_user``, which no client can change without being a superuser).
- ``audit_chain_lock``: the one row writers lock before appending (``SELECT ... FOR UPDATE`` needs UPDATE
  privilege, which evaluators lack), replacing the advisory lock any reader could take and hold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSTGRES_UP = [
    """CREATE FUNCTION audit_event_check_login() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.login IS DISTINCT FROM session_user::text THEN
           RAISE EXCEPTION 'audit_event: the recorded login must be the database login %', session_user;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_event_login BEFORE INSERT ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_check_login()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_login ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_check_login()",
]


def _grants() -> None:
    op.execute("""DO $mou$ BEGIN
        IF (SELECT count(*) FROM pg_roles WHERE rolname IN ('mou_admin', 'mou_manager', 'mou_evaluator')) < 3 THEN
          RETURN;
        END IF;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR pg_has_role(current_user, 'mou_admin', 'MEMBER') THEN
          ALTER TABLE audit_chain_lock OWNER TO mou_admin;
          ALTER FUNCTION audit_event_check_login() OWNER TO mou_admin;
        END IF;
        GRANT SELECT, UPDATE ON audit_chain_lock TO mou_manager;
        GRANT SELECT ON audit_chain_lock TO mou_evaluator;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE WARNING 'mou-tracker: % may not grant on audit_chain_lock; role layout skipped', current_user;
        END $mou$""")


def upgrade() -> None:
    for name, type_ in (("party", sa.String(20)), ("signatory", sa.Boolean()), ("public_key", sa.Text()),
                        ("key_fingerprint", sa.String(80))):
        op.add_column("app_user", sa.Column(name, type_, nullable=True))
    for name, type_ in (("message", sa.Text()), ("signature", sa.Text()), ("public_key", sa.Text()),
                        ("key_fingerprint", sa.String(80))):
        op.add_column("period_signoff", sa.Column(name, type_, nullable=True))
    op.add_column("audit_event", sa.Column("login", sa.String(120), nullable=True))
    op.create_table("audit_chain_lock", sa.Column("id", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_lock")))
    op.execute("INSERT INTO audit_chain_lock (id) VALUES (1)")
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)
        _grants()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    op.drop_table("audit_chain_lock")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("login")
    with op.batch_alter_table("period_signoff") as batch:
        for name in ("key_fingerprint", "public_key", "signature", "message"):
            batch.drop_column(name)
    with op.batch_alter_table("app_user") as batch:
        for name in ("key_fingerprint", "public_key", "signatory", "party"):
            batch.drop_column(name)
