"""The search index (title_gram, title_gram_count) follows every change to the catalogue."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, text

from libcli.server.db.models import Title, TitleGram, TitleGramCount
from libcli.server.db.session import Database
from libcli.server.search import (
    grams_of,
    index_drift,
    rebuild_index,
    refresh,
    search_titles,
    store_titles,
)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def _add(session, title_id, title, author=""):
    store_titles(
        session, [Title(id=title_id, title=title, author=author, publisher="", type="book")]
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
        b = s.get(Title, "b")
        b.author = "なつめ"
        store_titles(s, [b])
        s.delete(s.get(Title, "a"))  # no write path deletes titles: check-index sees it
    with db.read() as s:
        assert index_drift(s.connection())["orphan_postings"] > 0
    with db.write() as s:
        refresh(s.connection())
    assert _found(db, "漱石") == ([], 0)
    assert _found(db, "なつめ") == (["b"], 1)
    assert _found(db, "こころ") == ([], 0)

    incremental = _index(db)
    with db.write() as s:
        s.execute(delete(TitleGram))
        rebuild_index(s.connection())
    assert _index(db) == incremental


def test_a_write_around_the_write_path_is_found_by_the_check_and_mended_by_refresh(db):
    """Titles are indexed by one write path (store_titles); a Core or raw-SQL write is not,
    and index_drift (libcli-server check-index) says so until refresh (reindex) mends it."""
    with db.write() as s:
        _add(s, "a", "こころ", "夏目 漱石")
    with db.engine.begin() as connection:
        connection.execute(
            insert(Title),
            [{"id": "b", "title": "舞姫", "author": "森 鷗外", "publisher": "", "type": "book"}],
        )
        connection.execute(text("UPDATE title SET title = '雁' WHERE id = 'a'"))
    with db.read() as s:
        drift = index_drift(s.connection())
    assert drift["stale_text"] == 2  # the search forms are not what the fields give
    assert _found(db, "鴎外") == ([], 0)

    with db.write() as s:
        assert refresh(s.connection()) == 2
    with db.read() as s:
        assert not any(n for key, n in index_drift(s.connection()).items() if key != "titles")
    assert _found(db, "鴎外") == (["b"], 1)
    assert _found(db, "雁") == (["a"], 1)
    assert _found(db, "こころ") == ([], 0)


def test_romaji_fields_are_indexed_by_trigrams_only():
    text = "\x1f".join(["森", "", "", "", "もり", "", "mori", "ogai"])
    grams = grams_of(text)
    assert {"mor", "ori", "oga", "gai"} <= grams
    assert not {"m", "mo", "o", "og"} & grams
    assert {"も", "もり", "森"} <= grams
