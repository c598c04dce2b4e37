"""The brute-force oracle: every search agrees with a scan of the stored catalogue.

For each query and combination of field options, the titles found (all of them, and the
first page of 20 and the next) are compared with what a plain Python scan of each title's
stored search form gives; a total is equal to the scan where the server says it is exact,
and at least the scan where it says it is an upper bound. On both databases, on a small
fixture always and on the 14k Aozora catalogue when ../shared/data is here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from libcli.server.db.models import Copy, Title
from libcli.server.search import (
    AUTHOR_FIELDS,
    FIELD_SEPARATOR,
    GRAM,
    PUBLISHER_FIELDS,
    ROMAJI_FIELDS,
    TITLE_FIELDS,
    Filters,
    fold_id,
    isbn_digits,
    isbn_forms,
    normalize,
    search_titles,
    store_titles,
    text_matches,
)
from tests.server.test_search import _aozora_rows, _as_catalogue_csv, _queries

PAGE = 20


@dataclass(frozen=True)
class Row:
    id: str
    type: str
    isbn: str | None
    fields: tuple[str, ...]  # search_text split into its fields

    def has(self, q: str, positions) -> bool:
        """q in one of these fields (romaji fields only for queries of 3 or more)."""
        short = len(q) < GRAM
        return any(q in self.fields[n] for n in positions if not (short and n in ROMAJI_FIELDS))


def catalogue(session) -> list[Row]:
    rows = session.execute(select(Title.id, Title.type, Title.isbn, Title.search_text))
    return [Row(i, t, isbn, tuple(text.split(FIELD_SEPARATOR))) for i, t, isbn, text in rows]


def brute_force(
    rows: list[Row], query: str, filters: Filters, reservable: set[str] | None = None
) -> set[str]:
    """What a search must find, by scanning every title (search.py's rules, restated)."""
    text = query if normalize(query) else filters.text()
    q = normalize(text)
    digits = isbn_digits(text)
    out = set()
    for row in rows:
        if q:
            by_text = text_matches(FIELD_SEPARATOR.join(row.fields), q)
            by_isbn = digits is not None and row.isbn in isbn_forms(digits)
            by_id = fold_id(row.id) == fold_id(text)
            if not (by_text or by_isbn or by_id):
                continue
        kept = [
            not filters.title or row.has(normalize(filters.title), TITLE_FIELDS),
            not filters.author or row.has(normalize(filters.author), AUTHOR_FIELDS),
            not filters.publisher or row.has(normalize(filters.publisher), PUBLISHER_FIELDS),
            not filters.isbn
            or (
                isbn_digits(filters.isbn) is not None
                and row.isbn in isbn_forms(isbn_digits(filters.isbn))
            ),
            not filters.type or row.type == filters.type,
            filters.reservable_in is None or row.id in (reservable or set()),
        ]
        if all(kept):
            out.add(row.id)
    return out


def agrees(db, rows, query, filters=Filters(), reservable=None) -> None:
    expected = brute_force(rows, query, filters, reservable)
    with db.read() as session:
        every = search_titles(session, query, filters=filters, limit=None)
        first = search_titles(session, query, filters=filters, limit=PAGE)
        second = search_titles(session, query, filters=filters, limit=PAGE, offset=PAGE)
    listed = [t.id for t in every.titles]
    what = (query, filters)
    assert set(listed) == expected, what
    assert len(listed) == len(expected), what  # each title once
    assert every.exact, what  # reading every match gives an exact total
    assert every.total == len(expected), what
    assert [t.id for t in first.titles] == listed[:PAGE], what
    assert [t.id for t in second.titles] == listed[PAGE : 2 * PAGE], what
    for page in (first, second):
        if page.exact:
            assert page.total == len(expected), what
        else:
            assert page.total >= len(expected), what


# -- a small catalogue, always ----------------------------------------------------------

SMALL = [
    # id, title, author, publisher, isbn, type, title_kana, author_kana
    ("kokoro", "こころ", "夏目 漱石", "岩波書店", "978-4-10-101013-7", "book", None, None),
    ("sanshiro", "三四郎", "夏目 漱石", "新潮社", None, "book", None, None),
    ("botchan", "坊っちゃん", "夏目 漱石", "新潮社", "4-10-101003-0", "book", None, None),
    ("maihime", "舞姫", "森 鷗外", "岩波書店", None, "book", None, None),
    ("gan", "雁", "森 鴎外", "新潮社", None, "book", None, None),
    ("rashomon", "羅生門", "芥川 龍之介", "新潮社", None, "book", None, None),
    ("kappa", "河童", "芥川 竜之介", "角川書店", None, "book", None, None),
    ("ame", "雨ニモマケズ", "宮澤 賢治", "筑摩書房", None, "book", None, None),
    ("ginga", "銀河鉄道の夜", "宮沢 賢治", "新潮社", None, "av", None, None),
    ("watanabe", "渡邊家の記録", "渡辺 一夫", "白水社", None, "magazine", None, None),
    (
        "nihon",
        "日本の昔話",
        "柳田 国男",
        "",
        None,
        "book",
        "ニホン ノ ムカシバナシ",
        "ヤナギタ クニオ",
    ),
    ("souseki-ron", "夏目漱石論", "蓮實 重彦", "青土社", None, "book", None, None),
    ("latin", "Sōseki and the Modern", "Natsume Study Group", "Tuttle", None, "book", None, None),
    ("T0001", "t0001 の読み方", "", "", None, "book", None, None),
] + [
    (f"vol{n:02d}", f"漱石全集 第{n}巻", "夏目 漱石", "岩波書店", None, "book", None, None)
    for n in range(1, 31)
]

SMALL_QUERIES = [
    "漱石", "そうせき", "ソウセキ", "ｿｳｾｷ", "soseki", "souseki", "sōseki", "SOOSEKI",
    "natsume soseki", "なつめ", "鷗外", "鴎外", "ogai", "龍之介", "竜之介", "宮澤", "宮沢",
    "渡邉", "邊", "辺", "全集", "第1", "の", "s", "se", "ki", "t0001", "Ｔ０００１",
    "9784101010137", "4-10-101013-7", "978-4-10-101003-6", "むかしばなし", "mukashi",
    "kunio", "新潮", "", "zzz",
]  # fmt: skip

SMALL_FILTERS = [
    Filters(),
    Filters(title="漱石"),
    Filters(author="漱石"),
    Filters(author="soseki"),
    Filters(author="ｿｳｾｷ", title="全集"),
    Filters(publisher="新潮社"),
    Filters(isbn="4-10-101013-7"),
    Filters(isbn="9784101010030"),
    Filters(type="magazine"),
    Filters(type="av", author="宮澤"),
    Filters(reservable_in=("book",)),
    Filters(author="鷗外", reservable_in=("book",)),
]


@pytest.fixture
def small(db):
    with db.write() as s:
        store_titles(
            s,
            [
                Title(
                    id=tid,
                    title=title,
                    author=author,
                    publisher=publisher,
                    isbn=isbn_digits(isbn) if isbn else None,
                    type=type_,
                    title_kana=title_kana,
                    author_kana=author_kana,
                )
                for tid, title, author, publisher, isbn, type_, title_kana, author_kana in SMALL
            ],
        )
        # A reservable title has a loanable copy out (R5–R8); others are on the shelf or
        # not for loan.
        for n, (tid, *_rest) in enumerate(SMALL):
            state = "on_loan" if n % 3 else "on_shelf"
            s.add(
                Copy(
                    barcode=f"c{n}",
                    title_id=tid,
                    point="main",
                    location="main",
                    loanable=n % 5 != 0,
                    state=state,
                )
            )
    return db


def reservable_ids(db, settings, rows: list[Row]) -> set[str]:
    """The titles the online verdict (service.catalog.summaries, R5–R8) lets a patron reserve."""
    from libcli.server.service.catalog import summaries

    with db.read() as session:
        titles = list(session.scalars(select(Title)))
        return {row["id"] for row in summaries(session, settings, titles) if row["reservable"]}


@pytest.mark.parametrize("filters", SMALL_FILTERS, ids=repr)
def test_search_agrees_with_a_scan_of_a_small_catalogue(small, settings, filters):
    with small.read() as session:
        rows = catalogue(session)
    if filters.reservable_in is not None:
        online = tuple(settings.profile.online_types)
        filters = Filters(**{**filters.__dict__, "reservable_in": online})
    reservable = reservable_ids(small, settings, rows)
    assert 0 < len(reservable) < len(rows)  # the filter has something to tell apart
    for query in SMALL_QUERIES:
        agrees(small, rows, query, filters, reservable)


# -- the Aozora catalogue (14k titles), when it is here ----------------------------------


@pytest.fixture
def aozora(db):
    from libcli.server.importer import import_csv
    from libcli.server.profile import load_profile

    rows = _aozora_rows()
    with db.write() as session:
        import_csv(session, _as_catalogue_csv(rows), load_profile())
    return db, rows


def test_search_agrees_with_a_scan_of_the_aozora_catalogue(aozora):
    db, source = aozora
    with db.read() as session:
        rows = catalogue(session)
    rng = random.Random(20261202)
    queries = rng.sample(_queries(source, rng), 120)
    queries += ["natsume soseki", "souseki", "ogai", "あくたがわ", "ｱｸﾀｶﾞﾜ", "鷗外", "龍之介", "の"]
    authors = [r["authors"].split(";")[0] for r in rng.sample(source, 10)]
    filters = [Filters(author=a) for a in authors] + [
        Filters(author="夏目", title="の"),
        Filters(publisher="新潮"),
        Filters(title="ｿｳｾｷ"),
    ]
    for query in queries:
        agrees(db, rows, query)
    for f in filters:
        agrees(db, rows, "", f)
        agrees(db, rows, rng.choice(queries), f)
