"""between visits: loan renewals (延長), suspended reservations (休止)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('renewals', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_column('suspended_until')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_column('renewals')
