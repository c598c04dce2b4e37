"""search: readings of titles and authors; title ids compared case-insensitively;
search_text in byte order ("C") on PostgreSQL

Existing titles get the current search form (variants folded, readings and romaji
added) and the index is rebuilt: libcli.server.search.refresh, as `libcli-server
reindex` does it.

Revision ID: 0006
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('title', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_kana', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('author_kana', sa.Text(), nullable=True))
    op.create_index('title_id_folded', 'title', [sa.text('lower(id)')], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Byte order whatever the database's locale (its index is rebuilt with it).
        op.execute('ALTER TABLE title ALTER COLUMN search_text TYPE text COLLATE "C"')

    from libcli.server.search import refresh

    refresh(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE title ALTER COLUMN search_text TYPE text COLLATE "default"')
    op.drop_index('title_id_folded', table_name='title')
    with op.batch_alter_table('title', schema=None) as batch_op:
        batch_op.drop_column('author_kana')
        batch_op.drop_column('title_kana')
