"""programme data core

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mou_tracker.db.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('name', name=op.f('uq_app_user_name'))
    )
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', mou_tracker.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('entity_kind', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('entity_ref', sa.String(length=300), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('reason_category', sa.String(length=60), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_event_hash'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_entity', ['entity_kind', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('partnership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=80), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership')),
    sa.UniqueConstraint('code', name=op.f('uq_partnership_code'))
    )
    op.create_table('engagement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('county', sa.String(length=40), nullable=False),
    sa.Column('case_ref', sa.String(length=120), nullable=True),
    sa.Column('case_key', sa.String(length=120), nullable=True),
    sa.Column('hours', mou_tracker.db.types.ScaledDecimal(precision=10, scale=2), nullable=False),
    sa.Column('hti_advisor', sa.String(length=200), nullable=True),
    sa.Column('odpp_counterpart', sa.String(length=200), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_engagement_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_engagement_partnership_id_code'))
    )
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_partnership_date', ['partnership_id', 'date'], unique=False)

    op.create_table('grant_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('funder', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_grant_award_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_award')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_grant_award_partnership_id_code'))
    )
    with op.batch_alter_table('grant_award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_award_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.Column('higher_is_better', sa.Boolean(), nullable=False),
    sa.Column('band_low', mou_tracker.db.types.ScaledDecimal(precision=7, scale=2), nullable=False),
    sa.Column('band_high', mou_tracker.db.types.ScaledDecimal(precision=7, scale=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=True),
    sa.Column('data_source', sa.Text(), nullable=True),
    sa.Column('how_computed', sa.Text(), nullable=True),
    sa.Column('disaggregations', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_indicator_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_indicator_partnership_id_code'))
    )
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('workstream', sa.String(length=40), nullable=True),
    sa.Column('owner', sa.String(length=20), nullable=True),
    sa.Column('original_due_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_milestone_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_milestone_partnership_id_code'))
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('staff_number', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_participant_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('partnership_id', 'key', name=op.f('uq_participant_partnership_id_key'))
    )
    op.create_table('party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fiscal_start_month', sa.Integer(), nullable=False),
    sa.Column('fiscal_label_style', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_party_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_party_partnership_id_code'))
    )
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('period_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('locked_at', mou_tracker.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('figures', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_period_lock_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_lock')),
    sa.UniqueConstraint('partnership_id', 'period', name=op.f('uq_period_lock_partnership_id_period'))
    )
    op.create_table('period_signoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('party', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('signed_at', mou_tracker.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('chain_seq', sa.Integer(), nullable=False),
    sa.Column('chain_head', sa.String(length=64), nullable=False),
    sa.Column('figures', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_period_signoff_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_signoff')),
    sa.UniqueConstraint('partnership_id', 'period', 'party', name=op.f('uq_period_signoff_partnership_id_period_party'))
    )
    op.create_table('restatement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('indicator_code', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('reported_value', sa.String(length=40), nullable=True),
    sa.Column('restated_value', sa.String(length=40), nullable=True),
    sa.Column('at', mou_tracker.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason_category', sa.String(length=60), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_restatement_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restatement'))
    )
    with op.batch_alter_table('restatement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restatement_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('training',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('county', sa.String(length=40), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=True),
    sa.Column('delivery', sa.String(length=20), nullable=True),
    sa.Column('lead', sa.String(length=20), nullable=True),
    sa.Column('cost', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], name=op.f('fk_training_partnership_id_partnership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training')),
    sa.UniqueConstraint('partnership_id', 'code', name=op.f('uq_training_partnership_id_code'))
    )
    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.create_index('ix_training_partnership_end', ['partnership_id', 'end_date'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('pre_score', mou_tracker.db.types.ScaledDecimal(precision=5, scale=2), nullable=True),
    sa.Column('post_score', mou_tracker.db.types.ScaledDecimal(precision=5, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_attendance_participant_id_participant')),
    sa.ForeignKeyConstraint(['training_id'], ['training.id'], name=op.f('fk_attendance_training_id_training')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('training_id', 'participant_id', name=op.f('uq_attendance_training_id_participant_id'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_participant', ['participant_id', 'training_id'], unique=False)

    op.create_table('budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('amount', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['grant_award.id'], name=op.f('fk_budget_line_grant_id_grant_award')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_line')),
    sa.UniqueConstraint('grant_id', 'code', name=op.f('uq_budget_line_grant_id_code'))
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_line_grant_id'), ['grant_id'], unique=False)

    op.create_table('disbursement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', mou_tracker.db.types.ScaledDecimal(precision=18, scale=6), nullable=True),
    sa.Column('amount_grant', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['grant_award.id'], name=op.f('fk_disbursement_grant_id_grant_award')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement'))
    )
    with op.batch_alter_table('disbursement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disbursement_grant_id'), ['grant_id'], unique=False)

    op.create_table('narrative',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_narrative_indicator_id_indicator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_narrative')),
    sa.UniqueConstraint('indicator_id', 'period', name=op.f('uq_narrative_indicator_id_period'))
    )
    with op.batch_alter_table('narrative', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_narrative_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_result_indicator_id_indicator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result')),
    sa.UniqueConstraint('indicator_id', 'period', name=op.f('uq_result_indicator_id_period'))
    )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_target_indicator_id_indicator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target')),
    sa.UniqueConstraint('indicator_id', 'period', name=op.f('uq_target_indicator_id_period'))
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('expenditure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('budget_line_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', mou_tracker.db.types.ScaledDecimal(precision=18, scale=6), nullable=True),
    sa.Column('amount_grant', mou_tracker.db.types.ScaledDecimal(precision=18, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('training_id', sa.Integer(), nullable=True),
    sa.Column('engagement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['budget_line_id'], ['budget_line.id'], name=op.f('fk_expenditure_budget_line_id_budget_line')),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], name=op.f('fk_expenditure_engagement_id_engagement')),
    sa.ForeignKeyConstraint(['grant_id'], ['grant_award.id'], name=op.f('fk_expenditure_grant_id_grant_award')),
    sa.ForeignKeyConstraint(['training_id'], ['training.id'], name=op.f('fk_expenditure_training_id_training')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expenditure')),
    sa.UniqueConstraint('grant_id', 'code', name=op.f('uq_expenditure_grant_id_code'))
    )
    with op.batch_alter_table('expenditure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expenditure_budget_line_id'), ['budget_line_id'], unique=False)
        batch_op.create_index('ix_expenditure_grant_date', ['grant_id', 'date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('expenditure', schema=None) as batch_op:
        batch_op.drop_index('ix_expenditure_grant_date')
        batch_op.drop_index(batch_op.f('ix_expenditure_budget_line_id'))

    op.drop_table('expenditure')
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_indicator_id'))

    op.drop_table('target')
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_indicator_id'))

    op.drop_table('result')
    with op.batch_alter_table('narrative', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_narrative_indicator_id'))

    op.drop_table('narrative')
    with op.batch_alter_table('disbursement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disbursement_grant_id'))

    op.drop_table('disbursement')
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_line_grant_id'))

    op.drop_table('budget_line')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_participant')

    op.drop_table('attendance')
    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.drop_index('ix_training_partnership_end')

    op.drop_table('training')
    with op.batch_alter_table('restatement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restatement_partnership_id'))

    op.drop_table('restatement')
    op.drop_table('period_signoff')
    op.drop_table('period_lock')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_partnership_id'))

    op.drop_table('party')
    op.drop_table('participant')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_partnership_id'))

    op.drop_table('milestone')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_partnership_id'))

    op.drop_table('indicator')
    with op.batch_alter_table('grant_award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_award_partnership_id'))

    op.drop_table('grant_award')
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_partnership_date')

    op.drop_table('engagement')
    op.drop_table('partnership')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_partnership_id'))
        batch_op.drop_index('ix_audit_event_entity')

    op.drop_table('audit_event')
    op.drop_table('app_user')
