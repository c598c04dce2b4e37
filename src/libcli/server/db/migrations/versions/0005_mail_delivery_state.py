"""mail delivery state: queued / sending / sent / failed, attempts, lease, Message-ID

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00

Existing rows: sent (sent_at set, no error) stay sent; a mail left claimed by the old
deliverer ("claimed") goes back to the queue, as does one that failed (its error kept as
last_error). Everything queued is due at once.
"""

from alembic import op
import sqlalchemy as sa
import libcli.server.db.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', libcli.server.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', libcli.server.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
    op.execute(
        "UPDATE mail SET state = 'sent', attempts = 1"
        " WHERE sent_at IS NOT NULL AND error IS NULL"
    )
    op.execute(
        "UPDATE mail SET state = 'queued', attempts = 0, sent_at = NULL,"
        " next_attempt_at = created_at,"
        " last_error = CASE WHEN error = 'claimed' THEN NULL ELSE error END"
        " WHERE state IS NULL"
    )
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('attempts', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index('mail_unsent')
        batch_op.create_index('mail_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.drop_column('error')


def downgrade() -> None:
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
    op.execute(
        "UPDATE mail SET error = last_error, sent_at = NULL WHERE state <> 'sent'"
    )
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.drop_index('mail_due')
        batch_op.create_index('mail_unsent', ['sent_at'], unique=False)
        batch_op.drop_column('message_id')
        batch_op.drop_column('last_error')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
