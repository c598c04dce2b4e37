"""search index: one- to three-character postings of the normalised catalogue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 19:00:00
"""

from collections import Counter

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

FIELD_SEPARATOR = "\x1f"


def _grams(search_text):
    # The same as libcli.server.search.grams_of, frozen here as of this revision.
    out = set()
    for field in search_text.split(FIELD_SEPARATOR)[:3]:
        for n in (1, 2, 3):
            out.update(field[i : i + n] for i in range(len(field) - n + 1))
    return out


def upgrade() -> None:
    gram_table = op.create_table('title_gram',
    sa.Column('gram', sa.String(length=3), nullable=False),
    sa.Column('title_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('gram', 'title_id'),
    sqlite_with_rowid=False,
    )
    count_table = op.create_table('title_gram_count',
    sa.Column('gram', sa.String(length=3), nullable=False),
    sa.Column('titles', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gram')
    )
    with op.batch_alter_table('title', schema=None) as batch_op:
        batch_op.create_index('title_search_order', ['search_text', 'id'], unique=False)

    # Index the titles already in the catalogue.
    conn = op.get_bind()
    counts = Counter()
    postings = []
    for title_id, search_text in conn.execute(sa.text("SELECT id, search_text FROM title")):
        for gram in _grams(search_text or ""):
            postings.append({"gram": gram, "title_id": title_id})
            counts[gram] += 1
        if len(postings) > 50_000:
            op.bulk_insert(gram_table, postings)
            postings = []
    if postings:
        op.bulk_insert(gram_table, postings)
    if counts:
        op.bulk_insert(count_table, [{"gram": g, "titles": n} for g, n in counts.items()])


def downgrade() -> None:
    with op.batch_alter_table('title', schema=None) as batch_op:
        batch_op.drop_index('title_search_order')
    op.drop_table('title_gram_count')
    op.drop_table('title_gram')
