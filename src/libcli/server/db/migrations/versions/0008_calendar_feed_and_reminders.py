"""calendar feed and reminder mails: the feed's secret (hashed), the patron's opt-in to
reminders, and on each loan the due dates its reminder and overdue mails were sent for

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 11:20:00

Existing patrons are not opted in; existing loans have had no reminder.
"""

from alembic import op
import sqlalchemy as sa

import libcli.server.db.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_feed',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('card', sa.String(length=9), nullable=False),
        sa.Column('created_at', libcli.server.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['card'], ['patron.card'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_card'), ['card'], unique=True)
    with op.batch_alter_table('patron', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reminders', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('overdue_mailed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_column('overdue_mailed_on')
        batch_op.drop_column('reminded_due_on')
    with op.batch_alter_table('patron', schema=None) as batch_op:
        batch_op.drop_column('reminders')
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_card'))
    op.drop_table('calendar_feed')
