"""queue number: each title's queue in the order reservations were accepted (R22)

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 10:00:00

Existing reservations are numbered per title in their old order (placed_at, then id).
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_number', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE reservation SET queue_number = ("
        " SELECT count(*) FROM reservation AS earlier"
        " WHERE earlier.title_id = reservation.title_id"
        " AND (earlier.placed_at < reservation.placed_at"
        " OR (earlier.placed_at = reservation.placed_at AND earlier.id <= reservation.id)))"
    )
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.alter_column('queue_number', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index('reservation_queue')
        batch_op.create_index(
            'one_reservation_per_queue_number', ['title_id', 'queue_number'], unique=True
        )
        batch_op.create_index(
            'reservation_queue', ['title_id', 'status', 'queue_number'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('reservation', schema=None) as batch_op:
        batch_op.drop_index('reservation_queue')
        batch_op.drop_index('one_reservation_per_queue_number')
        batch_op.create_index(
            'reservation_queue', ['title_id', 'status', 'placed_at', 'id'], unique=False
        )
        batch_op.drop_column('queue_number')
