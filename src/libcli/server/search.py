"""Catalogue search (蔵書検索): how titles and queries are normalised, and the query itself.

A title matches when its normalised title, author or publisher contains the normalised
query. Normalising folds what a patron cannot be expected to type exactly:

- full-width / half-width forms (NFKC): ＡＢＣ１２３ = ABC123, ｺｺﾛ = ココロ
- upper / lower case (casefold)
- katakana / hiragana: ココロ = こころ
- spaces: runs become one space, and a space between two Japanese characters is dropped,
  so "夏目漱石" finds the catalogue's "夏目 漱石" (and the other way round).

A query that is an ISBN (10 or 13 digits, hyphens allowed, valid check digit) matches
the title with that ISBN, whichever of ISBN-10 or ISBN-13 either side uses.

Everything about search lives in this module, so that making it fast on a large
catalogue (a trigram or full-text index) changes one file.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from libcli.server.db.models import Title

# Joins the fields of search_text. normalize() turns it (like all whitespace) into a
# plain space, so no query can contain it and a match never spans two fields.
FIELD_SEPARATOR = "\x1f"
LIKE_ESCAPE = "\\"

_KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ヽヾ"
_HIRAGANA = "".join(chr(c - 0x60) for c in range(0x30A1, 0x30F7)) + "ゝゞ"
_KATA_TO_HIRA = str.maketrans(_KATAKANA, _HIRAGANA)
_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_SPACES = re.compile(r"\s+")
_SPACE_BETWEEN_JAPANESE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


def normalize(text: str) -> str:
    """The form in which titles are stored for search and queries are compared."""
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFKC", text.casefold())
    text = text.translate(_KATA_TO_HIRA)
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_BETWEEN_JAPANESE.sub("", text)


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


def search_text_for(title: str, author: str, publisher: str, isbn: str | None = None) -> str:
    """The value stored in `Title.search_text`: normalised title, author, publisher, ISBN."""
    text = FIELD_SEPARATOR.join(normalize(f or "") for f in (title, author, publisher))
    digits = isbn_digits(isbn) if isbn else None
    return f"{text}{FIELD_SEPARATOR}{_isbn_key(digits)}" if digits else text


def _like_escape(text: str) -> str:
    for ch in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(ch, LIKE_ESCAPE + ch)
    return text


def search_titles(
    session: Session,
    query: str,
    *,
    type: str | None = None,
    limit: int | None = 20,
    offset: int = 0,
) -> tuple[list[Title], int]:
    """Titles matching `query` (one page of them) and how many match in all.

    Order: the title exactly as asked, then titles starting with it, then the rest by title.
    An empty query matches every title.
    """
    isbn = isbn_digits(query)
    q = normalize(query)
    pattern = _like_escape(q)
    matches = Title.search_text.like(f"%{pattern}%", escape=LIKE_ESCAPE)
    if isbn:
        key = f"%{FIELD_SEPARATOR}{_isbn_key(isbn)}"
        matches = or_(matches, Title.search_text.like(key, escape=LIKE_ESCAPE))
    conditions = [matches]
    if type:
        conditions.append(Title.type == type)

    total = session.scalar(select(func.count()).select_from(Title).where(*conditions)) or 0
    rank = case(
        (Title.search_text.like(f"{pattern}{FIELD_SEPARATOR}%", escape=LIKE_ESCAPE), 0),
        (Title.search_text.like(f"{pattern}%", escape=LIKE_ESCAPE), 1),
        else_=2,
    )
    stmt = (
        select(Title)
        .where(*conditions)
        .order_by(rank, Title.search_text, Title.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(stmt)), total
