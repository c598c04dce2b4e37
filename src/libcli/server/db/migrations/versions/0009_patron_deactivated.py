"""patron deactivated: a card no longer in use cannot log in or reserve

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 10:10:00
"""

from alembic import op
import sqlalchemy as sa

import libcli.server.db.models


revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patron', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'deactivated_at', libcli.server.db.models.UTCDateTime(timezone=True), nullable=True
        ))


def downgrade() -> None:
    with op.batch_alter_table('patron', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
