"""The search index (title_gram, title_gram_count) follows every change to the catalogue."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from libcli.server.db.models import Title, TitleGram, TitleGramCount
from libcli.server.db.session import Database
from libcli.server.search import grams_of, rebuild_index, search_text_for, search_titles


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def _add(session, title_id, title, author=""):
    session.add(
        Title(
            id=title_id,
            title=title,
            author=author,
            publisher="",
            type="book",
            search_text=search_text_for(title, author, ""),
        )
    )


def _index(db) -> tuple[set, dict]:
    with db.read() as s:
        postings = set(s.execute(select(TitleGram.gram, TitleGram.title_id)).all())
        counts = dict(s.execute(select(TitleGramCount.gram, TitleGramCount.titles)).all())
    return postings, {g: n for g, n in counts.items() if n}


def _found(db, query):
    with db.read() as s:
        titles, total, _exact = search_titles(s, query, limit=None)
    return sorted(t.id for t in titles), total


def test_postings_are_runs_of_one_to_three_characters_within_one_field():
    assert grams_of("abc\x1fd") == {"a", "b", "c", "ab", "bc", "abc", "d"}  # no "cd"


def test_the_index_follows_adds_changes_and_deletes(db):
    with db.write() as s:
        _add(s, "a", "こころ", "夏目 漱石")
        _add(s, "b", "坊っちゃん", "夏目 漱石")
    assert _found(db, "漱石") == (["a", "b"], 2)

    with db.write() as s:
        s.get(Title, "b").search_text = search_text_for("坊っちゃん", "なつめ", "")
        s.delete(s.get(Title, "a"))
    assert _found(db, "漱石") == ([], 0)
    assert _found(db, "なつめ") == (["b"], 1)
    assert _found(db, "こころ") == ([], 0)

    incremental = _index(db)
    with db.write() as s:
        s.execute(delete(TitleGram))
        rebuild_index(s.connection())
    assert _index(db) == incremental
