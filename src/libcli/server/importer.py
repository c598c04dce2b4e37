"""Catalogue import (蔵書データの取り込み): CSV, MARC 21 (ISO 2709) and MARCXML.

CSV: a header line, then one row per copy; the columns are `CSV_SPEC` below (also shown
by `libcli-server import-catalog --help` and docs/import.md). UTF-8 (with or without a
BOM) and CP932 / Shift_JIS are told apart by themselves; `encoding` names another. Rows
of the same title repeat its title fields, which must agree.

MARC 21 (ISO 2709, read by pymarc), one record per title. Records in MARC-8 (leader/09
blank, most older MARC 21) are converted to Unicode; leader/09 = a is UTF-8. MARCXML
(`import_marcxml`) holds the same records as XML:

- 001 the title id; 245 $a (and $b) the title; 100 $a or 110 $a the author;
  264 (or 260) $b the publisher and $c the year; 020 $a the ISBN
- leader/06-07 the material type: 06 = g, i, j (video, sound) → av; 06 = a, t with
  07 = s, b, i (serial) → magazine; anything else → book
- holdings in 852 or 949 fields, one per copy: $p barcode, $b service point code,
  $x a note; a note containing 禁帯出 or "reference" (any case) makes the copy
  reference only

A title keeps the id it is imported with; importing again updates titles and copies,
never duplicates them. The file is read as a stream and written in batches, so memory
stays flat however long the file is; all of it goes into the caller's transaction, so a
bad row (CatalogImportError, naming the line or the record) leaves nothing imported.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from libcli.server.db.models import Copy, Title
from libcli.server.profile import MATERIAL_TYPES, LibraryProfile
from libcli.server.search import isbn_digits, store_titles


class CsvColumn(NamedTuple):
    """A column of the CSV catalogue: its header, the attribute it fills (of the title or
    of the copy), whether a file must have it, and what it holds (for --help and docs)."""

    name: str
    of: str  # "title" | "copy"
    attr: str
    required: bool
    doc: str


#: The CSV columns, in the order a file usually has them. One line per column: a new
#: optional column (a reading, 読み) is one more line here and its attribute on Title.
CSV_SPEC: tuple[CsvColumn, ...] = (
    CsvColumn("title_id", "title", "id", True, "the library's id of the title (kept as given)"),
    CsvColumn("title", "title", "title", True, "the title (書名)"),
    CsvColumn("author", "title", "author", True, "author(s) (著者), may be empty"),
    CsvColumn("publisher", "title", "publisher", True, "publisher (出版者), may be empty"),
    CsvColumn("year", "title", "year", True, "four-digit year of publication, may be empty"),
    CsvColumn("type", "title", "type", True, "book | magazine | av"),
    CsvColumn("isbn", "title", "isbn", True, "ISBN-10 or ISBN-13, hyphens allowed, may be empty"),
    CsvColumn(
        "title_kana", "title", "title_kana", False, "the title's reading (書名ヨミ), optional"
    ),
    CsvColumn(
        "author_kana", "title", "author_kana", False, "the author's reading (著者ヨミ), optional"
    ),
    CsvColumn("barcode", "copy", "barcode", True, "the copy's barcode, unique in the file"),
    CsvColumn("point", "copy", "point", True, "the copy's service point code (main, ...)"),
    CsvColumn("loanable", "copy", "loanable", True, "true, or false for reference only (禁帯出)"),
)
CSV_COLUMNS = tuple(c.name for c in CSV_SPEC if c.required)
_COLUMN = {c.name: c for c in CSV_SPEC}
#: Titles written per flush: memory holds one batch, whatever the size of the file.
BATCH = 1000
_CHUNK = 500  # ids per IN (...) when looking up what already exists
#: Encodings told apart without --encoding (CP932 is Shift_JIS as Windows writes it).
AUTO = "auto"
_SNIFF_BYTES = 1 << 16

#: Called after each batch with (titles, copies) written so far.
Progress = Callable[[int, int], None]


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
    values: dict[str, Any]  # attribute of Title -> value, the id included
    where: str
    copies: list[_CopyRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _CopyRecord:
    barcode: str
    point: str
    loanable: bool
    where: str


# -- the store, one batch at a time ------------------------------------------------------


class _Writer:
    """Writes titles batch by batch into the caller's transaction. What was written so far
    (to refuse the same barcode twice and a title whose rows disagree) is kept in two
    temporary tables of that transaction, not in memory: memory holds one batch however
    long the file is (a million titles' ids and barcodes would take about 200 MB)."""

    def __init__(self, session: Session, progress: Progress | None):
        self.session, self.progress = session, progress
        self.batch: dict[str, _TitleRecord] = {}
        self.batch_barcodes: set[str] = set()
        self.repeat_ok = False
        self.titles = self.copies = 0
        self.seen = _Seen(session)

    def add(self, record: _TitleRecord, *, repeat_ok: bool) -> None:
        """A title (with its copies); `repeat_ok`: rows of one title may come apart (CSV)."""
        self.repeat_ok = repeat_ok
        known = self.batch.get(record.id)
        if known is not None:
            if not repeat_ok:
                raise CatalogImportError(
                    record.where, f"title id {record.id} already used by {known.where}"
                )
            if _title_fields(known) != _title_fields(record):
                raise CatalogImportError(
                    record.where, f"title {record.id} differs from its earlier row ({known.where})"
                )
            known.copies.extend(record.copies)
        else:
            self.batch[record.id] = record
        for c in record.copies:
            if c.barcode in self.batch_barcodes:
                raise CatalogImportError(c.where, f"barcode {c.barcode} is also on an earlier row")
            self.batch_barcodes.add(c.barcode)
        if len(self.batch) >= BATCH:
            self.flush()

    def _check_earlier_batches(self, titles: list[_TitleRecord]) -> set[str]:
        """Refuse what repeats an earlier batch; returns the ids an earlier batch wrote."""
        barcodes = {c.barcode: c for t in titles for c in t.copies}
        for barcode in self.seen.among("barcode", list(barcodes)):
            where = barcodes[barcode].where
            raise CatalogImportError(where, f"barcode {barcode} is also on an earlier row")
        repeated = self.seen.among("title", [t.id for t in titles])
        for t in titles:
            if t.id not in repeated:
                continue
            if not self.repeat_ok:
                raise CatalogImportError(t.where, f"title id {t.id} used twice")
            stored = self.session.get(Title, t.id)
            values = {a: getattr(stored, a) for a in t.values}
            self.session.expunge(stored)
            if _title_fields(_TitleRecord(t.id, values, "")) != _title_fields(t):
                raise CatalogImportError(t.where, f"title {t.id} differs from its earlier row")
        return repeated

    def flush(self) -> None:
        if self.batch:
            titles = list(self.batch.values())
            self.batch, self.batch_barcodes = {}, set()
            repeated = self._check_earlier_batches(titles)
            self.copies += _store(self.session, titles)
            new_ids = [t.id for t in titles if t.id not in repeated]
            self.seen.add("title", new_ids)
            self.seen.add("barcode", [c.barcode for t in titles for c in t.copies])
            self.titles += len(new_ids)
            if self.progress:
                self.progress(self.titles, self.copies)

    def result(self) -> ImportResult:
        self.flush()
        self.seen.drop()
        return ImportResult(titles=self.titles, copies=self.copies)


class _Seen:
    """The title ids and barcodes an import has written, in temporary tables of its
    transaction (gone with it on PostgreSQL at commit or rollback; dropped at the end on
    SQLite, where a rollback also undoes their creation)."""

    def __init__(self, session: Session):
        self.session = session
        postgres = session.get_bind().dialect.name == "postgresql"
        self.schema = "pg_temp" if postgres else "temp"
        for kind in ("title", "barcode"):
            self.session.execute(text(f"DROP TABLE IF EXISTS {self._table(kind)}"))
            self.session.execute(
                text(
                    f"CREATE TEMPORARY TABLE libcli_import_{kind} (key TEXT PRIMARY KEY)"
                    + (" ON COMMIT DROP" if postgres else "")
                )
            )

    def _table(self, kind: str) -> str:
        return f"{self.schema}.libcli_import_{kind}"

    def among(self, kind: str, keys: list[str]) -> set[str]:
        """Those of `keys` written before."""
        found: set[str] = set()
        for chunk in _chunks(keys):
            found.update(
                self.session.scalars(
                    text(f"SELECT key FROM {self._table(kind)} WHERE key IN :keys").bindparams(
                        bindparam("keys", expanding=True)
                    ),
                    {"keys": chunk},
                )
            )
        return found

    def add(self, kind: str, keys: list[str]) -> None:
        if keys:
            self.session.execute(
                text(f"INSERT INTO {self._table(kind)} (key) VALUES (:key)"),
                [{"key": k} for k in keys],
            )

    def drop(self) -> None:
        for kind in ("title", "barcode"):
            self.session.execute(text(f"DROP TABLE IF EXISTS {self._table(kind)}"))


# -- CSV ---------------------------------------------------------------------------------


def import_csv(
    session: Session,
    file: str | Path | IO,
    profile: LibraryProfile,
    *,
    encoding: str = AUTO,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a CSV catalogue (one row per copy) into the caller's transaction."""
    writer = _Writer(session, progress)
    with _text(file, encoding) as lines:
        reader = csv.DictReader(lines)
        try:
            fieldnames = reader.fieldnames or ()
            missing = [c for c in CSV_COLUMNS if c not in fieldnames]
            if missing:
                raise CatalogImportError("line 1", f"missing column(s): {', '.join(missing)}")
            for row in reader:
                where = f"line {reader.line_num}"
                record = _title_from_csv(row, where, profile)
                record.copies.append(_copy_from_csv(row, where, profile))
                writer.add(record, repeat_ok=True)
        except csv.Error as exc:
            raise CatalogImportError(f"line {reader.line_num}", f"not CSV: {exc}") from None
    return writer.result()


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM) or CP932 (Shift_JIS), from the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for candidate in ("utf-8", "cp932"):
        decoder = codecs.getincrementaldecoder(candidate)()
        try:
            decoder.decode(head, final=False)  # a character cut at the end is no error
        except UnicodeDecodeError:
            continue
        return candidate
    raise CatalogImportError(
        "line 1", "neither UTF-8 nor Shift_JIS (CP932): name the encoding with --encoding"
    )


def _encoding_named(name: str) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise CatalogImportError("--encoding", f"unknown encoding {name!r}") from None
    # Shift_JIS files from Windows hold CP932's extra characters (①, ㈱, NEC's kanji).
    return "cp932" if codec in ("shift_jis", "cp932", "ms932") else codec


@contextmanager
def _text(file, encoding: str) -> Iterator[Iterable[str]]:
    """`file` as lines of text: a path or a binary stream is decoded line by line
    (`encoding`, or told apart when AUTO), so an undecodable byte names its line; a text
    stream is used as it is."""
    if isinstance(file, io.TextIOBase):
        yield file
        return
    with _binary(file) as raw:
        if encoding == AUTO:
            raw = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
            named = detect_encoding(raw.peek(_SNIFF_BYTES)[:_SNIFF_BYTES])
        else:
            named = _encoding_named(encoding)
            if named == "utf-8":
                named = "utf-8-sig"  # a BOM is not part of the first column's name
        yield _decoded(raw, named)


def _decoded(raw: IO[bytes], encoding: str) -> Iterator[str]:
    # UTF-8 and CP932 never hold a 0x0A byte inside a character: bytes split at lines.
    decoder = codecs.getincrementaldecoder(encoding)()
    for number, line in enumerate(raw, start=1):
        try:
            yield decoder.decode(line)
        except UnicodeDecodeError:
            shown = encoding.replace("-sig", "").upper()
            raise CatalogImportError(
                f"line {number}",
                f"not {shown} text: name the file's encoding with --encoding (utf-8, cp932, ...)",
            ) from None


@contextmanager
def _binary(file) -> Iterator[IO[bytes]]:
    """A path is opened (and closed) here; an open binary file is used as it is."""
    if isinstance(file, str | Path):
        with open(file, "rb") as f:
            yield f
    else:
        yield file


# -- MARC --------------------------------------------------------------------------------


def import_marc(
    session: Session,
    file: str | Path | IO[bytes],
    profile: LibraryProfile,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import MARC 21 records (one per title, copies in 852/949) into the caller's
    transaction; MARC-8 records (leader/09 blank) are converted to Unicode."""
    import pymarc

    writer = _Writer(session, progress)
    with _binary(file) as f:
        # force_utf8=False: leader/09 says how a record is encoded (blank: MARC-8).
        reader = pymarc.MARCReader(f, to_unicode=True, force_utf8=False)
        for number, record in enumerate(reader, start=1):
            where = f"record {number}"
            if record is None:
                raise CatalogImportError(where, f"unreadable MARC: {reader.current_exception}")
            writer.add(_title_from_marc(record, where, profile), repeat_ok=False)
    return writer.result()


def import_marcxml(
    session: Session,
    file: str | Path | IO[bytes],
    profile: LibraryProfile,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import MARCXML (a <collection> of <record>s), read as a stream."""
    import xml.sax

    import pymarc

    writer = _Writer(session, progress)
    counter = iter(range(1, 1 << 62))

    def one(record) -> None:
        where = f"record {next(counter)}"
        writer.add(_title_from_marc(record, where, profile), repeat_ok=False)

    with _binary(file) as f:
        try:
            pymarc.map_xml(one, f)
        except xml.sax.SAXParseException as exc:
            raise CatalogImportError(
                f"line {exc.getLineNumber()}", f"not MARCXML: {exc.getMessage()}"
            ) from None
    return writer.result()


# -- reading ---------------------------------------------------------------------------


def _title_fields(t: _TitleRecord) -> tuple:
    return tuple(sorted((k, v) for k, v in t.values.items()))


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


def _material(value: str | None, where: str) -> str:
    material = (value or "").strip()
    if material not in MATERIAL_TYPES:
        raise CatalogImportError(
            where, f"type {material!r} is not one of {', '.join(MATERIAL_TYPES)}"
        )
    return material


def _point(value: str | None, where: str, profile: LibraryProfile) -> str:
    value = _required(value, "point", where)
    if value not in profile.point_codes:
        known = ", ".join(profile.point_codes)
        raise CatalogImportError(where, f"point {value!r} is not one of {known}")
    return value


def _loanable(value: str | None, where: str) -> bool:
    loanable = (value or "").strip().lower()
    if loanable not in ("true", "false"):
        raise CatalogImportError(where, f"loanable {loanable!r} is not true or false")
    return loanable == "true"


#: How a cell of a column becomes a value; a column not named here is text, stripped.
_CELL: dict[str, Callable[[str | None, str], Any]] = {
    "title_id": lambda v, where: _required(v, "title_id", where),
    "title": lambda v, where: _required(v, "title", where),
    "year": _year,
    "type": _material,
    "isbn": _isbn,
    "barcode": lambda v, where: _required(v, "barcode", where),
    "loanable": _loanable,
    "title_kana": lambda v, where: (v or "").strip() or None,  # empty: search derives one
    "author_kana": lambda v, where: (v or "").strip() or None,
}


def _cell(column: CsvColumn, row: dict, where: str) -> Any:
    parse = _CELL.get(column.name)
    value = row.get(column.name)
    return parse(value, where) if parse else (value or "").strip()


def _title_from_csv(row: dict, where: str, profile: LibraryProfile) -> _TitleRecord:
    if None in row:  # DictReader puts surplus cells under the key None
        raise CatalogImportError(where, f"more than {len(row) - 1} columns")
    values = {c.attr: _cell(c, row, where) for c in CSV_SPEC if c.of == "title" and c.name in row}
    return _TitleRecord(id=values["id"], values=values, where=where)


def _copy_from_csv(row: dict, where: str, profile: LibraryProfile) -> _CopyRecord:
    return _CopyRecord(
        barcode=_cell(_COLUMN["barcode"], row, where),
        point=_point(row.get("point"), where, profile),
        loanable=_cell(_COLUMN["loanable"], row, where),
        where=where,
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


# Kana, spaces and the punctuation readings are written with (ナツメ, ソウセキ).
_READING = re.compile(r"[\u3041-\u30ff\uff65-\uff9f\s,.・=]+")


def _marc_reading(record, tags: Iterable[str]) -> str | None:
    """The catalogue's reading (ヨミ) of a field, where the record has one: an 880 linked
    to that field ($6 "245-01/$1", MARC 21 multiscript records) whose $a is kana, as
    NDL's JAPAN/MARC gives readings. An 880 in kanji (LoC's vernacular beside a romanised
    field) is no reading; where there is none, search derives one."""
    for f in record.get_fields("880"):
        link = next(iter(f.get_subfields("6")), "")
        if link[:3] in tags:
            value = _strip_isbd(next(iter(f.get_subfields("a")), ""))
            if value and _READING.fullmatch(value):
                return value
    return None


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
        values={
            "id": title_id,
            "title": title,
            "author": _first(record, ["100", "110"], "a"),
            "publisher": _first(record, ["264", "260"], "b"),
            "year": int(year.group()) if year else None,
            "type": _marc_type(str(record.leader)),
            "isbn": _isbn(isbn_field.split()[0] if isbn_field else "", where),
            "title_kana": _marc_reading(record, ["245"]),
            "author_kana": _marc_reading(record, ["100", "110"]),
        },
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
                where=where,
            )
        )
    return result


# -- storing ---------------------------------------------------------------------------


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _store(session: Session, titles: list[_TitleRecord]) -> int:
    """Write one batch of titles and their copies; returns how many copies. The batch's
    objects leave the session afterwards, so memory holds one batch at a time."""
    existing_titles: dict[str, Title] = {}
    for ids in _chunks([t.id for t in titles]):
        existing_titles.update(
            {t.id: t for t in session.scalars(select(Title).where(Title.id.in_(ids)))}
        )
    barcodes = [c.barcode for t in titles for c in t.copies]
    existing_copies: dict[str, Copy] = {}
    for chunk in _chunks(barcodes):
        existing_copies.update(
            {c.barcode: c for c in session.scalars(select(Copy).where(Copy.barcode.in_(chunk)))}
        )

    rows: list[object] = list(existing_titles.values())
    written: dict[str, Title] = {}
    for t in titles:
        row = existing_titles.get(t.id) or written.get(t.id)
        if row is None:
            row = Title(id=t.id)
            session.add(row)
            rows.append(row)
        for attr, value in t.values.items():
            if attr != "id" and getattr(row, attr) != value:
                setattr(row, attr, value)
        if row in session.new or session.is_modified(row):
            written[t.id] = row
    # The titles first (copies refer to them; no ORM relationship orders it), indexed.
    store_titles(session, written.values())

    copies = 0
    rows.extend(existing_copies.values())
    for t in titles:
        for c in t.copies:
            copy = existing_copies.get(c.barcode)
            if copy is None:
                copy = Copy(
                    barcode=c.barcode,
                    title_id=t.id,
                    point=c.point,
                    location=c.point,
                    loanable=c.loanable,
                    state="on_shelf",
                )
                session.add(copy)
                rows.append(copy)
            else:
                # A copy out on loan or travelling keeps where it is; one on the shelf moves.
                if copy.state == "on_shelf":
                    copy.location = c.point
                copy.title_id, copy.point, copy.loanable = t.id, c.point, c.loanable
            copies += 1
    session.flush()
    for row in rows:
        session.expunge(row)
    return copies
