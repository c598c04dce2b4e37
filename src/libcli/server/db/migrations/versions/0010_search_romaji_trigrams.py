"""search: the romaji fields are indexed by trigrams only (a smaller index)

The postings are rebuilt from the stored search forms: libcli.server.search.rebuild_index,
as `libcli-server reindex` does it.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 11:30:00
"""

from alembic import op


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from libcli.server.search import rebuild_index

    rebuild_index(op.get_bind())


def downgrade() -> None:
    # The postings of 0006 had the romaji's one- and two-letter runs too: reindex after.
    pass
