"""Catalogue import (蔵書データの取り込み): CSV and MARC 21.

CSV: UTF-8 (a BOM is allowed), a header line, one row per copy::

    title_id,title,author,publisher,year,type,isbn,barcode,point,loanable

`type` is book | magazine | av; `point` a service point code of the profile; `loanable`
true/false (false: 禁帯出, reference only); `year` and `isbn` may be empty. Rows of the
same title repeat its title fields, which must agree.

MARC 21 (ISO 2709, read by pymarc), one record per title:

- 001 the title id; 245 $a (and $b) the title; 100 $a or 110 $a the author;
  264 (or 260) $b the publisher and $c the year; 020 $a the ISBN
- leader/06-07 the material type: 06 = g, i, j (video, sound) → av; 06 = a, t with
  07 = s, b, i (serial) → magazine; anything else → book
- holdings in 852 or 949 fields, one per copy: $p barcode, $b service point code,
  $x a note; a note containing 禁帯出 or "reference" (any case) makes the copy
  reference only

A title keeps the id it is imported with; importing again updates titles and copies,
never duplicates them. Any bad row raises CatalogImportError naming the line (CSV) or
the record (MARC) before anything is added, and the caller's transaction rolls back.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from libcli.server.db.models import Copy, Title
from libcli.server.profile import MATERIAL_TYPES, LibraryProfile
from libcli.server.search import isbn_digits, search_text_for

CSV_COLUMNS = (
    "title_id",
    "title",
    "author",
    "publisher",
    "year",
    "type",
    "isbn",
    "barcode",
    "point",
    "loanable",
)
_CHUNK = 500  # ids per IN (...) when looking up what already exists


class CatalogImportError(ValueError):
    """A catalogue file that cannot be imported; `where` is the line or record."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class ImportResult:
    titles: int
    copies: int


@dataclass
class _TitleRecord:
    id: str
    title: str
    author: str
    publisher: str
    year: int | None
    type: str
    isbn: str | None
    where: str
    copies: list[_CopyRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _CopyRecord:
    barcode: str
    point: str
    loanable: bool


def import_csv(
    session: Session, file: str | Path | IO[str], profile: LibraryProfile
) -> ImportResult:
    """Import a CSV catalogue (one row per copy) into the caller's transaction."""
    with _open(file, "r", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CatalogImportError("line 1", f"missing column(s): {', '.join(missing)}")
        titles: dict[str, _TitleRecord] = {}
        for row in reader:
            where = f"line {reader.line_num}"
            record = _title_from_csv(row, where, profile)
            known = titles.setdefault(record.id, record)
            if known is not record and _title_fields(known) != _title_fields(record):
                raise CatalogImportError(
                    where, f"title {record.id} differs from its earlier row ({known.where})"
                )
            known.copies.append(_copy_from_csv(row, where, profile))
    return _store(session, titles.values())


def import_marc(
    session: Session, file: str | Path | IO[bytes], profile: LibraryProfile
) -> ImportResult:
    """Import MARC 21 records (one per title, copies in 852/949) into the caller's transaction."""
    import pymarc

    with _open(file, "rb") as f:
        reader = pymarc.MARCReader(f, to_unicode=True, force_utf8=True)
        titles: dict[str, _TitleRecord] = {}
        for number, record in enumerate(reader, start=1):
            where = f"record {number}"
            if record is None:
                raise CatalogImportError(where, f"unreadable MARC: {reader.current_exception}")
            title = _title_from_marc(record, where, profile)
            if title.id in titles:
                raise CatalogImportError(
                    where, f"title id {title.id} already used by {titles[title.id].where}"
                )
            titles[title.id] = title
    return _store(session, titles.values())


# -- reading ---------------------------------------------------------------------------


@contextmanager
def _open(file, mode: str, **kwargs) -> Iterator[IO]:
    """A path is opened (and closed) here; an open file is used as it is."""
    if isinstance(file, str | Path):
        with open(file, mode, **kwargs) as f:
            yield f
    elif "b" not in mode and isinstance(file, io.BufferedIOBase):
        yield io.TextIOWrapper(file, encoding=kwargs.get("encoding"), newline="")
    else:
        yield file


def _title_fields(t: _TitleRecord) -> tuple:
    return (t.title, t.author, t.publisher, t.year, t.type, t.isbn)


def _required(value: str | None, name: str, where: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CatalogImportError(where, f"{name} is empty")
    return value


def _year(value: str | None, where: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value):
        raise CatalogImportError(where, f"year {value!r} is not a four-digit year")
    return int(value)


def _isbn(value: str | None, where: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    digits = isbn_digits(value)
    if digits is None:
        raise CatalogImportError(where, f"isbn {value!r} is not a valid ISBN-10 or ISBN-13")
    return digits


def _point(value: str | None, where: str, profile: LibraryProfile) -> str:
    value = _required(value, "point", where)
    if value not in profile.point_codes:
        known = ", ".join(profile.point_codes)
        raise CatalogImportError(where, f"point {value!r} is not one of {known}")
    return value


def _title_from_csv(row: dict, where: str, profile: LibraryProfile) -> _TitleRecord:
    if None in row:  # DictReader puts surplus cells under the key None
        raise CatalogImportError(where, f"more than {len(CSV_COLUMNS)} columns")
    material = (row.get("type") or "").strip()
    if material not in MATERIAL_TYPES:
        raise CatalogImportError(
            where, f"type {material!r} is not one of {', '.join(MATERIAL_TYPES)}"
        )
    return _TitleRecord(
        id=_required(row.get("title_id"), "title_id", where),
        title=_required(row.get("title"), "title", where),
        author=(row.get("author") or "").strip(),
        publisher=(row.get("publisher") or "").strip(),
        year=_year(row.get("year"), where),
        type=material,
        isbn=_isbn(row.get("isbn"), where),
        where=where,
    )


def _copy_from_csv(row: dict, where: str, profile: LibraryProfile) -> _CopyRecord:
    loanable = (row.get("loanable") or "").strip().lower()
    if loanable not in ("true", "false"):
        raise CatalogImportError(where, f"loanable {loanable!r} is not true or false")
    return _CopyRecord(
        barcode=_required(row.get("barcode"), "barcode", where),
        point=_point(row.get("point"), where, profile),
        loanable=loanable == "true",
    )


def _marc_type(leader: str) -> str:
    kind, level = leader[6:7], leader[7:8]
    if kind in ("g", "i", "j"):
        return "av"
    if kind in ("a", "t") and level in ("s", "b", "i"):
        return "magazine"
    return "book"


def _strip_isbd(value: str) -> str:
    """Drop the ISBD punctuation that ends MARC subfields ("坊っちゃん /", "新潮社,")."""
    return re.sub(r"[\s/:;,.=]+$", "", value.strip())


def _first(record, tags: Iterable[str], code: str) -> str:
    for tag in tags:
        for f in record.get_fields(tag):
            values = f.get_subfields(code)
            if values and values[0].strip():
                return _strip_isbd(values[0])
    return ""


def _title_from_marc(record, where: str, profile: LibraryProfile) -> _TitleRecord:
    control = record.get_fields("001")
    title_id = control[0].data.strip() if control else ""
    if not title_id:
        raise CatalogImportError(where, "no 001 control number (the title id)")
    where = f"{where} (001 {title_id})"
    title = _first(record, ["245"], "a")
    if not title:
        raise CatalogImportError(where, "no 245 $a title")
    remainder = _first(record, ["245"], "b")
    if remainder:
        title = f"{title} : {remainder}"
    date = _first(record, ["264", "260"], "c")
    year = re.search(r"\d{4}", date)
    isbn_field = _first(record, ["020"], "a")
    result = _TitleRecord(
        id=title_id,
        title=title,
        author=_first(record, ["100", "110"], "a"),
        publisher=_first(record, ["264", "260"], "b"),
        year=int(year.group()) if year else None,
        type=_marc_type(str(record.leader)),
        isbn=_isbn(isbn_field.split()[0] if isbn_field else "", where),
        where=where,
    )
    for holding in record.get_fields("852", "949"):
        barcodes = holding.get_subfields("p")
        note = " ".join(holding.get_subfields("x"))
        result.copies.append(
            _CopyRecord(
                barcode=_required(barcodes[0] if barcodes else "", "holding $p barcode", where),
                point=_point(next(iter(holding.get_subfields("b")), ""), where, profile),
                loanable=not ("禁帯出" in note or "reference" in note.lower()),
            )
        )
    return result


# -- storing ---------------------------------------------------------------------------


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _store(session: Session, titles: Iterable[_TitleRecord]) -> ImportResult:
    titles = list(titles)
    seen_barcodes: dict[str, str] = {}
    for t in titles:
        for c in t.copies:
            if c.barcode in seen_barcodes:
                raise CatalogImportError(
                    t.where, f"barcode {c.barcode} is also on {seen_barcodes[c.barcode]}"
                )
            seen_barcodes[c.barcode] = t.where

    existing_titles: dict[str, Title] = {}
    for ids in _chunks([t.id for t in titles]):
        existing_titles.update(
            {t.id: t for t in session.scalars(select(Title).where(Title.id.in_(ids)))}
        )
    existing_copies: dict[str, Copy] = {}
    for barcodes in _chunks(list(seen_barcodes)):
        existing_copies.update(
            {c.barcode: c for c in session.scalars(select(Copy).where(Copy.barcode.in_(barcodes)))}
        )

    for t in titles:
        row = existing_titles.get(t.id)
        if row is None:
            row = Title(id=t.id)
            session.add(row)
        row.title, row.author, row.publisher = t.title, t.author, t.publisher
        row.year, row.type, row.isbn = t.year, t.type, t.isbn
        row.search_text = search_text_for(t.title, t.author, t.publisher, t.isbn)
    session.flush()  # the titles first: copies refer to them (no ORM relationship orders it)

    copies = 0
    for t in titles:
        for c in t.copies:
            copy = existing_copies.get(c.barcode)
            if copy is None:
                session.add(
                    Copy(
                        barcode=c.barcode,
                        title_id=t.id,
                        point=c.point,
                        location=c.point,
                        loanable=c.loanable,
                        state="on_shelf",
                    )
                )
            else:
                # A copy out on loan or travelling keeps where it is; one on the shelf moves.
                if copy.state == "on_shelf":
                    copy.location = c.point
                copy.title_id, copy.point, copy.loanable = t.id, c.point, c.loanable
            copies += 1
    session.flush()
    return ImportResult(titles=len(titles), copies=copies)
