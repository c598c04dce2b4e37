"""search: title ids compared case-insensitively

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('title_id_folded', 'title', [sa.text('lower(id)')], unique=False)


def downgrade() -> None:
    op.drop_index('title_id_folded', table_name='title')
