"""Catalogue search: normalisation, ISBNs, LIKE metacharacters, and no blind spots."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from libcli.server.db.migrate import upgrade
from libcli.server.db.models import Title
from libcli.server.db.session import Database
from libcli.server.importer import CSV_COLUMNS, import_csv
from libcli.server.profile import load_profile
from libcli.server.search import (
    isbn_digits,
    isbn_forms,
    normalize,
    search_titles,
    store_titles,
    text_matches,
)

AOZORA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "aozora_works.csv"


@pytest.fixture
def db(database_url):
    """A fresh database, SQLite and PostgreSQL (tests/conftest.py)."""
    database = Database(database_url)
    yield database
    database.dispose()


def add(session, title_id, title, author="", publisher="", isbn=None, type_="book"):
    store_titles(
        session,
        [
            Title(
                id=title_id,
                title=title,
                author=author,
                publisher=publisher,
                type=type_,
                isbn=isbn_digits(isbn) if isbn else None,
            )
        ],
    )


def ids(db, query, **kwargs) -> list[str]:
    with db.read() as session:
        return [t.id for t in search_titles(session, query, limit=None, **kwargs).titles]


# -- normalize -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full width
        ("ｺｺﾛ", "こころ"),  # half-width katakana
        ("ココロ", "こころ"),  # katakana → hiragana
        ("Natsume SOSEKI", "natsume soseki"),
        ("  吾輩は　猫である  ", "吾輩は猫である"),  # ideographic space, ends stripped
        ("夏目 漱石", "夏目漱石"),  # a space between Japanese characters carries nothing
        ("Haruki  村上", "haruki 村上"),
        ("ヴァイオリン", "ゔぁいおりん"),
    ],
)
def test_normalize_folds_width_case_kana_and_spaces(typed, stored):
    assert normalize(typed) == stored


def test_normalize_turns_the_field_separator_into_a_space():
    assert "\x1f" not in normalize("a\x1fb")


def test_isbn_digits_accepts_hyphens_and_both_lengths():
    assert isbn_digits("978-4-10-101013-7") == "9784101010137"
    assert isbn_digits("ISBN 4-10-101013-7") == "4101010137"
    assert isbn_digits("４１０１０１０１３７") == "4101010137"
    assert isbn_digits("4-00-310109-x") == "400310109X"
    assert isbn_digits("978-4-10-101013-8") is None  # wrong check digit
    assert isbn_digits("1984") is None
    assert isbn_forms("4101010137") == ("4101010137", "9784101010137")


# -- search_titles ---------------------------------------------------------------------


@pytest.fixture
def small(db):
    with db.write() as s:
        add(s, "kokoro", "こころ", "夏目 漱石", "新潮社", isbn="978-4-10-101013-7")
        add(s, "kokoro2", "こころ・坊っちゃん", "夏目 漱石", "文藝春秋")
        add(s, "neko", "吾輩は猫である", "夏目 漱石", "岩波書店", isbn="4-00-310101-4")
        add(s, "sanshiro", "三四郎", "夏目 漱石", "ＫＡＤＯＫＡＷＡ")
        add(s, "1984", "一九八四年", "オーウェル ジョージ", "早川書房", isbn="9784151200533")
        add(s, "pct", "100%の恋愛", "Someone", "")
        add(s, "under", "snake_case入門", "", "")
        add(s, "bs", "C:\\path の本", "", "")
        add(s, "kokoro-mag", "月刊こころ", "", "", type_="magazine")
    return db


def test_search_folds_kana_width_and_case(small):
    assert "kokoro" in ids(small, "ココロ")
    assert "kokoro" in ids(small, "ｺｺﾛ")
    assert "sanshiro" in ids(small, "kadokawa")
    assert "sanshiro" in ids(small, "夏目漱石")


def test_search_orders_exact_then_prefix_then_by_title(small):
    found = ids(small, "こころ")
    assert found[:2] == ["kokoro", "kokoro2"]
    assert set(found) == {"kokoro", "kokoro2", "kokoro-mag"}


def test_search_filters_by_material_type(small):
    assert ids(small, "こころ", type="magazine") == ["kokoro-mag"]


def test_search_pages_and_counts(small):
    with small.read() as session:
        page, total, exact = search_titles(session, "夏目", limit=2, offset=1)
    assert (total, exact) == (4, True)
    assert len(page) == 2


@pytest.mark.parametrize(
    "query", ["978-4-10-101013-7", "9784101010137", "4-10-101013-7", "ISBN4101010137"]
)
def test_search_by_isbn_with_or_without_hyphens(small, query):
    assert ids(small, query) == ["kokoro"]


def test_search_by_isbn13_finds_a_title_catalogued_with_isbn10(small):
    assert ids(small, "978-4-00-310101-8") == ["neko"]


def test_digit_queries_do_not_match_isbns(small):
    # "1984" is inside 9784151200533, no match; the title whose id is "1984" is one.
    assert ids(small, "1984") == ["1984"]
    assert ids(small, "978") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [("%", ["pct"]), ("_", ["under"]), ("\\", ["bs"]), ("100%", ["pct"]), ("e_c", ["under"])],
)
def test_like_metacharacters_are_taken_literally(small, query, expected):
    assert ids(small, query) == expected


# -- no blind spots, against a brute-force scan of a real catalogue --------------------


def _aozora_rows():
    if not AOZORA.exists():
        pytest.skip(f"{AOZORA} is not here")
    with AOZORA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _as_catalogue_csv(rows) -> io.StringIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        year = r["released"][:4]
        writer.writerow(
            [
                r["work_id"],
                r["title"],
                r["authors"],
                r["publisher"],
                year,
                "book",
                "",
                f"A{r['work_id']}",
                "main",
                "true",
            ]
        )
    out.seek(0)
    return out


def _queries(rows, rng) -> list[str]:
    """Fragments patrons would type, in the forms they would type them."""
    queries = ["の", "ー", "・", "　", "a", "（", "全集", "岩波", "ちくま", "夏目漱石", "太宰"]
    queries += ["鷗外", "鴎外", "龍之介", "竜之介", "宮澤", "宮沢", "學", "國"]
    for r in rng.sample(rows, 40):
        title = r["title"]
        start = rng.randrange(len(title))
        queries.append(title[start : start + rng.randint(1, 4)])
        queries.append(title)
        author = r["authors"].split(";")[0]
        queries.append(author.split(" ")[0])
        queries.append(author)
        queries.append(author.replace(" ", ""))
        if r["publisher"]:
            queries.append(r["publisher"][:3])
    # Katakana typed as hiragana and the other way round, and in half width.
    import unicodedata

    queries += [
        "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in q) for q in queries[:60]
    ]
    queries += [unicodedata.normalize("NFKC", q).upper() for q in queries[:30]]
    return [q for q in queries if q.strip()]


def test_search_has_no_blind_spots_on_the_aozora_catalogue(tmp_path):
    rows = _aozora_rows()
    url = f"sqlite:///{tmp_path / 'aozora.db'}"
    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            result = import_csv(session, _as_catalogue_csv(rows), load_profile())
        assert result.titles == len(rows)

        # Each title's search form as stored (title, author, publisher, readings, romaji).
        with db.read() as session:
            texts = dict(session.execute(select(Title.id, Title.search_text)).all())
        rng = random.Random(20261201)
        for query in _queries(rows, rng):
            q = normalize(query)
            expected = {work for work, text in texts.items() if text_matches(text, q)}
            with db.read() as session:
                found, total, _exact = search_titles(session, query, limit=None)
            assert {t.id for t in found} == expected, query
            assert total == len(expected), query
        for old, new in [("鷗外", "鴎外"), ("龍之介", "竜之介"), ("宮澤", "宮沢")]:
            with db.read() as session:
                olds = {t.id for t in search_titles(session, old, limit=None).titles}
                news = {t.id for t in search_titles(session, new, limit=None).titles}
            assert len(olds) > 0
            assert olds == news, old
    finally:
        db.dispose()


# -- ids, blanks and totals --------------------------------------------------------------


@pytest.fixture
def with_ids(db):
    with db.write() as s:
        add(s, "T0001", "こころ", "夏目 漱石")
        add(s, "T0002", "t0001 の読み方", "")  # its text holds the other title's id
        add(s, "B9", "坊っちゃん", "夏目 漱石")
    return db


@pytest.mark.parametrize("query", ["T0001", "t0001", "Ｔ０００１", "ｔ0001", " t0001 "])
def test_a_title_id_in_any_case_or_width_finds_that_title_first(with_ids, query):
    with with_ids.read() as session:
        found = search_titles(session, query, limit=20)
    assert [t.id for t in found.titles] == ["T0001", "T0002"]
    assert (found.total, found.exact) == (2, True)


def test_an_id_hit_is_counted_once_on_every_page(with_ids):
    with with_ids.read() as session:
        first = search_titles(session, "t0001", limit=1)
        second = search_titles(session, "t0001", limit=1, offset=1)
    assert [t.id for t in first.titles + second.titles] == ["T0001", "T0002"]
    assert first.total == second.total == 2


def test_show_finds_a_title_id_in_any_case_or_width(with_ids, settings):
    from libcli.server.service.catalog import title_detail

    with with_ids.read() as session:
        assert title_detail(session, settings, "ｂ９")["id"] == "B9"


@pytest.mark.parametrize("query", ["", " ", "　　", "\t"])
def test_a_blank_query_is_refused(with_ids, settings, query):
    from libcli.server.errors import LibraryError
    from libcli.server.service.catalog import search

    with with_ids.read() as session, pytest.raises(LibraryError) as refused:
        search(session, settings, query)
    assert refused.value.code == "invalid_request"


def test_a_total_past_the_estimate_limit_is_an_upper_bound(db, monkeypatch):
    import libcli.server.search as search_module

    with db.write() as s:
        for n in range(12):
            # "夏目漱" in every title, "夏目漱石" in only the even ones
            add(s, f"t{n:02d}", "夏目漱石の本" if n % 2 == 0 else "夏目漱・石の本")
    monkeypatch.setattr(search_module, "VERIFY_LIMIT", 3)
    with db.read() as session:
        found = search_titles(session, "夏目漱石", limit=2)
    assert len(found.titles) == 2
    assert found.exact is False
    assert found.total >= 6  # the six titles that hold it, or more


def test_the_api_says_whether_the_total_is_exact(api, db):
    with db.write() as s:
        add(s, "T0001", "こころ", "夏目 漱石")
    body = api.get("/api/v1/catalog/search", params={"q": "こころ"}).json()
    assert (body["total"], body["total_exact"]) == (1, True)
    assert api.get("/api/v1/catalog/search", params={"q": "   "}).status_code == 422
    assert api.get("/api/v1/catalog/titles/t0001").json()["id"] == "T0001"


# -- character variants (異体字) ----------------------------------------------------------

VARIANTS = [
    ("鷗", "鴎"),
    ("龍", "竜"),
    ("澤", "沢"),
    ("邊", "辺"),
    ("邉", "辺"),
    ("邊", "邉"),
    ("齋", "斎"),
    ("齊", "斎"),
    ("齋", "齊"),
    ("髙", "高"),
    ("﨑", "崎"),
    ("國", "国"),
    ("學", "学"),
    ("會", "会"),
    ("藝", "芸"),
    ("櫻", "桜"),
    ("眞", "真"),
    ("萬", "万"),
]


@pytest.mark.parametrize(("old", "new"), VARIANTS)
def test_old_and_new_forms_normalise_alike(old, new):
    assert normalize(old) == normalize(new)


@pytest.fixture
def variants(db):
    with db.write() as s:
        add(s, "ogai-old", "舞姫", "森 鷗外")
        add(s, "ogai-new", "雁", "森 鴎外")
        add(s, "ryu", "羅生門", "芥川 龍之介")
        add(s, "miyazawa", "銀河鉄道の夜", "宮澤 賢治")
        add(s, "watanabe", "本", "渡邉 淳一")
    return db


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("鷗外", {"ogai-old", "ogai-new"}),
        ("鴎外", {"ogai-old", "ogai-new"}),
        ("竜之介", {"ryu"}),
        ("宮沢", {"miyazawa"}),
        ("渡辺", {"watanabe"}),
        ("渡邊", {"watanabe"}),
    ],
)
def test_variants_match_both_ways(variants, query, expected):
    assert set(ids(variants, query)) == expected


# -- readings (ヨミ) and romaji --------------------------------------------------------------


@pytest.fixture
def readings(db):
    with db.write() as s:
        add(s, "kokoro", "こころ", "夏目 漱石", "岩波書店")
        add(s, "ogai", "舞姫", "森 鷗外")
        nihon = Title(
            id="nihon",
            title="日本の昔話",
            author="柳田 国男",
            publisher="",
            type="book",
            title_kana="ニホン ノ ムカシバナシ",
            author_kana="ヤナギタ クニオ",
        )
        store_titles(s, [nihon])
    return db


@pytest.mark.parametrize(
    "query",
    ["なつめ", "ソウセキ", "ｿｳｾｷ", "そうせき", "natsume soseki", "souseki", "sōseki", "SOOSEKI"],
)
def test_readings_and_romaji_find_the_author(readings, query):
    assert ids(readings, query) == ["kokoro"]


def test_a_derived_reading_follows_the_variant_form(readings):
    assert ids(readings, "おうがい") == ["ogai"]
    assert ids(readings, "ogai") == ["ogai"]


def test_the_catalogues_own_reading_is_used_where_it_has_one(readings):
    # pykakasi would read 日本 as にっぽん; the catalogue says ニホン
    assert ids(readings, "にほんのむかし") == ["nihon"]
    assert ids(readings, "nihon no mukashi") == ["nihon"]
    assert ids(readings, "やなぎた") == ["nihon"]


def test_csv_readings_columns_are_imported(db):
    from libcli.server.importer import import_csv

    csv_text = (
        ",".join((*CSV_COLUMNS, "title_kana", "author_kana"))
        + "\nT1,日本の昔話,柳田 国男,,1930,book,,C1,main,true,"
        + "ニホン ノ ムカシバナシ,ヤナギタ クニオ\n"
    )
    with db.write() as session:
        import_csv(session, io.StringIO(csv_text), load_profile())
    with db.read() as session:
        title = session.get(Title, "T1")
        assert (title.title_kana, title.author_kana) == (
            "ニホン ノ ムカシバナシ",
            "ヤナギタ クニオ",
        )
    assert ids(db, "にほんのむかし") == ["T1"]


def test_reading_of_and_romaji_of():
    from libcli.server.search import reading_of, romaji_of

    assert reading_of("夏目 漱石") == "なつめ そうせき"
    assert romaji_of("なつめ そうせき") == "natsume souseki"
    assert normalize(romaji_of("なつめ そうせき")) == normalize("Natsume Sōseki")


# -- fields and filters ----------------------------------------------------------------------


@pytest.fixture
def shelves(db):
    """Titles with copies in each state the online verdict tells apart (R5–R8)."""
    from libcli.server.db.models import Copy

    with db.write() as s:
        add(s, "loaned", "こころ", "夏目 漱石", "岩波書店", isbn="978-4-10-101013-7")
        add(s, "shelf", "三四郎", "夏目 漱石", "新潮社")
        add(s, "ref", "漱石全集", "夏目 漱石", "岩波書店")
        add(s, "mag", "漱石研究", "", "翰林書房", type_="magazine")
        add(s, "about", "夏目漱石論", "蓮實 重彦", "青土社")
        s.flush()
        for barcode, title_id, loanable, state in [
            ("c1", "loaned", True, "on_loan"),
            ("c2", "shelf", True, "on_shelf"),
            ("c3", "ref", False, "on_shelf"),
            ("c4", "mag", True, "on_loan"),
            ("c5", "about", True, "held"),
        ]:
            s.add(
                Copy(
                    barcode=barcode,
                    title_id=title_id,
                    point="main",
                    location="main",
                    loanable=loanable,
                    state=state,
                )
            )
    return db


def found(db, query="", **filters) -> set[str]:
    from libcli.server.search import Filters

    with db.read() as session:
        result = search_titles(session, query, filters=Filters(**filters), limit=None)
    assert result.total == len(result.titles)
    return {t.id for t in result.titles}


def test_author_field_matches_the_author_and_its_reading_only(shelves):
    assert found(shelves, author="漱石") == {"loaned", "shelf", "ref"}  # not 夏目漱石論
    assert found(shelves, author="そうせき") == {"loaned", "shelf", "ref"}
    assert found(shelves, title="漱石") == {"ref", "mag", "about"}
    assert found(shelves, publisher="岩波") == {"loaned", "ref"}


def test_fields_combine_with_the_free_text_and_each_other(shelves):
    assert found(shelves, "こころ", author="漱石") == {"loaned"}
    assert found(shelves, author="漱石", publisher="新潮") == {"shelf"}
    assert found(shelves, "漱石", type="magazine") == {"mag"}
    assert found(shelves, isbn="4-10-101013-7") == {"loaned"}
    assert found(shelves, "三四郎", isbn="4-10-101013-7") == set()


def test_reservable_keeps_what_the_online_verdict_allows(shelves, settings):
    from libcli.server.service.catalog import summaries

    online = tuple(settings.profile.online_types)
    kept = found(shelves, "漱石", reservable_in=online)
    with shelves.read() as session:
        every = search_titles(session, "漱石", limit=None).titles
        verdicts = {row["id"]: row["reservable"] for row in summaries(session, settings, every)}
    assert kept == {tid for tid, ok in verdicts.items() if ok} == {"loaned", "about"}


def test_the_api_searches_by_fields_without_a_query(api, shelves):
    body = api.get("/api/v1/catalog/search", params={"author": "漱石", "reservable": "true"})
    assert body.status_code == 200, body.text
    assert {item["id"] for item in body.json()["items"]} == {"loaned"}
    assert api.get("/api/v1/catalog/search", params={"author": " "}).status_code == 422


# -- any database locale -------------------------------------------------------------------


@pytest.fixture
def icu_database():
    """A PostgreSQL database created with a Japanese ICU collation (ja-x-icu), migrated."""
    import uuid

    from tests.conftest import _pg_admin

    admin, admin_url = _pg_admin()
    name = f"libcli_test_icu_{uuid.uuid4().hex[:12]}"
    admin.execute(
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"
        " LOCALE_PROVIDER icu ICU_LOCALE 'ja' LOCALE 'C.UTF-8'"
    )
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        database = Database(url)
        yield database
        database.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_search_is_right_under_a_japanese_icu_collation(icu_database):
    from sqlalchemy import text

    db = icu_database
    with db.read() as session:
        provider = session.scalar(
            text("SELECT datlocprovider FROM pg_database WHERE datname = current_database()")
        )
    rows = [
        ("a-book", "a", "book"),  # "ab" sorts inside "a" "book" under ICU, but is no prefix
        ("ab", "ab", ""),
        ("a-b", "a", "b"),
        ("a-bc", "a", "bc"),
        ("ab-sp", "ab cd", ""),
        ("kana", "アブ", ""),
        ("hira", "あぶ", ""),
        ("old", "鷗外の本", ""),
        ("upper", "AB", ""),
    ]
    with db.write() as s:
        for title_id, title, author in rows:
            add(s, title_id, title, author)
    assert provider == "i"  # ICU
    with db.read() as session:
        texts = dict(session.execute(select(Title.id, Title.search_text)).all())
    for query in ["ab", "a", "b", "あぶ", "アブ", "鴎外", "ab c", "abc", "o"]:
        q = normalize(query)
        expected = {tid for tid, text in texts.items() if text_matches(text, q)}
        with db.read() as session:
            result = search_titles(session, query, limit=None)
            first = search_titles(session, query, limit=2)
        assert {t.id for t in result.titles} == expected, query
        assert result.total == len(expected), query
        assert [t.id for t in first.titles] == [t.id for t in result.titles][:2], query
