"""Catalogue import: CSV and MARC 21, re-import updates, a bad row imports nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from libcli.server.db.models import Copy, Title
from libcli.server.db.session import Database
from libcli.server.importer import (
    CSV_COLUMNS,
    CatalogImportError,
    import_csv,
    import_marc,
    import_marcxml,
)
from libcli.server.profile import load_profile
from libcli.server.search import search_titles

PROFILE = load_profile()
HEADER = "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable\n"
CATALOGUE = HEADER + (
    "T001,こころ,夏目 漱石,新潮社,1952,book,978-4-10-101013-7,B0011,main,true\n"
    "T001,こころ,夏目 漱石,新潮社,1952,book,978-4-10-101013-7,B0012,nango,true\n"
    "T002,八戸市史 通史編1,八戸市史編纂委員会,八戸市,2013,book,,B0021,main,false\n"
    "M001,文藝春秋 2026年12月号,,文藝春秋,2026,magazine,,B0031,center,true\n"
)


@pytest.fixture(autouse=True)
def _language_reset():
    """`--lang` sets the process's language for Click's words (libcli.i18n): undo it."""
    from libcli import i18n

    yield
    i18n.reset()


@pytest.fixture
def db(database_url):
    """A fresh database, SQLite and PostgreSQL (tests/conftest.py)."""
    database = Database(database_url)
    yield database
    database.dispose()


def counts(db) -> tuple[int, int]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Title)),
            s.scalar(select(func.count()).select_from(Copy)),
        )


def test_csv_import_keeps_title_ids_and_one_row_per_copy(db, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    with db.write() as s:
        result = import_csv(s, path, PROFILE)
    assert (result.titles, result.copies) == (3, 4)
    with db.read() as s:
        kokoro = s.get(Title, "T001")
        assert (kokoro.title, kokoro.isbn, kokoro.year, kokoro.type) == (
            "こころ",
            "9784101010137",
            1952,
            "book",
        )
        copies = {c.barcode: c for c in s.scalars(select(Copy))}
        assert copies["B0012"].point == copies["B0012"].location == "nango"
        assert copies["B0012"].state == "on_shelf"
        assert copies["B0021"].loanable is False  # 禁帯出
        assert [t.id for t in search_titles(s, "ココロ")[0]] == ["T001"]


def test_csv_reimport_updates_and_never_duplicates(db):
    with db.write() as s:
        import_csv(s, io.StringIO(CATALOGUE), PROFILE)
    changed = CATALOGUE.replace("1952,book", "1953,book").replace("B0031,center", "B0031,main")
    with db.write() as s:
        import_csv(s, io.StringIO(changed), PROFILE)
    assert counts(db) == (3, 4)
    with db.read() as s:
        assert s.get(Title, "T001").year == 1953
        assert s.get(Copy, "B0031").point == "main"


def test_csv_reimport_leaves_a_copy_on_loan_where_it_is(db):
    with db.write() as s:
        import_csv(s, io.StringIO(CATALOGUE), PROFILE)
        s.get(Copy, "B0011").state = "on_loan"
    with db.write() as s:
        import_csv(s, io.StringIO(CATALOGUE.replace("B0011,main", "B0011,center")), PROFILE)
    with db.read() as s:
        copy = s.get(Copy, "B0011")
        assert (copy.point, copy.location, copy.state) == ("center", "main", "on_loan")


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("T009,本,,,,book,,B0091,tokyo,true", "point 'tokyo'"),
        ("T009,本,,,,comic,,B0091,main,true", "type 'comic'"),
        ("T009,本,,,,book,,B0091,main,yes", "loanable 'yes'"),
        ("T009,本,,,19xx,book,,B0091,main,true", "year '19xx'"),
        ("T009,本,,,,book,978-4-10-101013-8,B0091,main,true", "isbn"),
        ("T009,,,,,book,,B0091,main,true", "title is empty"),
        ("T009,本,,,,book,,B0011,main,true", "barcode B0011"),
        ("T001,ここ ろ,夏目 漱石,新潮社,1952,book,,B0091,main,true", "title T001 differs"),
    ],
)
def test_csv_bad_row_names_its_line_and_imports_nothing(db, bad_row, message):
    text = CATALOGUE + bad_row + "\n"
    with pytest.raises(CatalogImportError) as caught, db.write() as s:
        import_csv(s, io.StringIO(text), PROFILE)
    assert str(caught.value).startswith("line 6: ")
    assert message in str(caught.value)
    assert counts(db) == (0, 0)


def test_csv_missing_column_is_refused(db):
    with pytest.raises(CatalogImportError, match="missing column"), db.write() as s:
        import_csv(s, io.StringIO("title_id,title\nT1,x\n"), PROFILE)


# -- MARC ------------------------------------------------------------------------------


def marc_record(
    control, title, *, leader_type="am", author=None, isbn=None, holdings=(), tag="852"
):
    from pymarc import Field, Indicators, Leader, Record, Subfield

    record = Record(force_utf8=True)
    record.leader = Leader(f"00000n{leader_type} a2200000 i 4500")
    record.add_field(Field(tag="001", data=control))
    if isbn:
        record.add_field(
            Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", isbn)])
        )
    if author:
        record.add_field(
            Field(tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", author)])
        )
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", f"{title} /"), Subfield("c", author or "")],
        )
    )
    record.add_field(
        Field(
            tag="264",
            indicators=Indicators(" ", "1"),
            subfields=[Subfield("a", "東京 :"), Subfield("b", "新潮社,"), Subfield("c", "2003.")],
        )
    )
    for barcode, point, note in holdings:
        subfields = [Subfield("b", point), Subfield("p", barcode)]
        if note:
            subfields.append(Subfield("x", note))
        record.add_field(Field(tag=tag, indicators=Indicators(" ", " "), subfields=subfields))
    return record


def marc_file(*records) -> io.BytesIO:
    return io.BytesIO(b"".join(r.as_marc() for r in records))


def test_marc_import_reads_title_author_publisher_isbn_and_holdings(db):
    data = marc_file(
        marc_record(
            "JP0001",
            "人間失格",
            author="太宰, 治,",
            isbn="9784101006055 (文庫)",
            holdings=[("M0011", "main", None), ("M0012", "center", None)],
        ),
        marc_record("JP0002", "広辞苑", holdings=[("M0021", "main", "禁帯出")], tag="949"),
        marc_record("JP0003", "文藝春秋", leader_type="as", holdings=[("M0031", "nango", "")]),
        marc_record("JP0004", "七人の侍", leader_type="gm", holdings=[("M0041", "main", "")]),
    )
    with db.write() as s:
        result = import_marc(s, data, PROFILE)
    assert (result.titles, result.copies) == (4, 5)
    with db.read() as s:
        t = s.get(Title, "JP0001")
        assert (t.title, t.author, t.publisher, t.year, t.isbn) == (
            "人間失格",
            "太宰, 治",
            "新潮社",
            2003,
            "9784101006055",
        )
        assert s.get(Copy, "M0012").point == "center"
        assert s.get(Copy, "M0021").loanable is False
        assert s.get(Title, "JP0003").type == "magazine"
        assert s.get(Title, "JP0004").type == "av"
        assert [x.id for x in search_titles(s, "ダザイ")[0]] == ["JP0001"]  # a derived reading
        assert [x.id for x in search_titles(s, "太宰")[0]] == ["JP0001"]


def test_marc_reading_fields_are_the_titles_readings(db):
    from pymarc import Field, Indicators, Subfield

    def linked(tag, value):
        return Field(
            tag="880",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("6", f"{tag}-01/$1"), Subfield("a", value)],
        )

    ndl = marc_record("JP1", "遠い国", author="江南, 文三")  # pykakasi reads 江南 こうなん
    ndl.add_field(linked("245", "トオイ クニ /"), linked("100", "エナミ, ブンゾウ"))
    loc = marc_record("JP2", "Tōi kuni", author="Enami, Bunzō")  # romanised, kanji in 880
    loc.add_field(linked("245", "遠い国 /"), linked("100", "江南, 文三"))
    with db.write() as s:
        import_marc(s, marc_file(ndl, loc), PROFILE)
    with db.read() as s:
        one, two = s.get(Title, "JP1"), s.get(Title, "JP2")
        assert (one.title_kana, one.author_kana) == ("トオイ クニ", "エナミ, ブンゾウ")
        assert (two.title_kana, two.author_kana) == (None, None)
        assert [x.id for x in search_titles(s, "えなみ")[0]] == ["JP1"]
        assert sorted(x.id for x in search_titles(s, "enami")[0]) == ["JP1", "JP2"]


def test_marc_reimport_updates(db):
    with db.write() as s:
        import_marc(
            s, marc_file(marc_record("JP1", "羅生門", holdings=[("X1", "main", "")])), PROFILE
        )
    with db.write() as s:
        import_marc(
            s, marc_file(marc_record("JP1", "羅生門・鼻", holdings=[("X1", "nango", "")])), PROFILE
        )
    assert counts(db) == (1, 1)
    with db.read() as s:
        assert s.get(Title, "JP1").title == "羅生門・鼻"


def test_marc_bad_record_names_it_and_imports_nothing(db):
    data = marc_file(
        marc_record("JP1", "羅生門", holdings=[("X1", "main", "")]),
        marc_record("JP2", "鼻", holdings=[("X2", "osaka", "")]),
    )
    expected = r"record 2 \(001 JP2\).*point 'osaka'"
    with pytest.raises(CatalogImportError, match=expected), db.write() as s:
        import_marc(s, data, PROFILE)
    assert counts(db) == (0, 0)


# -- encodings, MARC-8, MARCXML, batches (issue 10) ------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "shift_jis"])
def test_csv_encoding_is_told_apart_utf8_with_or_without_bom_and_shift_jis(db, encoding):
    data = io.BytesIO(CATALOGUE.encode(encoding))
    with db.write() as s:
        result = import_csv(s, data, PROFILE)
    assert (result.titles, result.copies) == (3, 4)
    with db.read() as s:
        assert s.get(Title, "T002").title == "八戸市史 通史編1"


def test_csv_shift_jis_with_windows_characters_and_an_explicit_encoding(db):
    text = CATALOGUE.replace("通史編1", "通史編①")
    with db.write() as s:
        import_csv(s, io.BytesIO(text.encode("cp932")), PROFILE, encoding="Shift_JIS")
    with db.read() as s:
        assert s.get(Title, "T002").title == "八戸市史 通史編①"


def test_csv_wrong_encoding_names_the_line_and_imports_nothing(db):
    data = io.BytesIO(CATALOGUE.encode("cp932"))
    with pytest.raises(CatalogImportError) as caught, db.write() as s:
        import_csv(s, data, PROFILE, encoding="utf-8")
    assert str(caught.value).startswith("line 2: not UTF-8 text")
    assert "--encoding" in str(caught.value)
    assert counts(db) == (0, 0)


def test_csv_is_written_in_batches_and_a_late_bad_row_still_imports_nothing(db, monkeypatch):
    from libcli.server import importer

    monkeypatch.setattr(importer, "BATCH", 2)
    rows = [f"T{i:03d},本{i},,,,book,,C{i:03d},main,true" for i in range(7)]
    rows.insert(5, "T000,本0,,,,book,,C900,nango,true")  # a title's rows apart: agreed
    seen = []
    with db.write() as s:
        result = import_csv(
            s,
            io.StringIO(HEADER + "\n".join(rows) + "\n"),
            PROFILE,
            progress=lambda *a: seen.append(a),
        )
    assert (result.titles, result.copies) == (7, 8)
    assert len(seen) >= 3 and seen[-1] == (7, 8)
    bad = HEADER + "\n".join(rows).replace("本0,,,,book,,C900", "別0,,,,book,,C900") + "\n"
    with pytest.raises(CatalogImportError, match=r"line 7: title U000 differs"), db.write() as s:
        import_csv(s, io.StringIO(bad.replace("T00", "U00").replace(",C", ",D")), PROFILE)
    assert counts(db) == (7, 8)


def test_marc8_record_is_converted_to_unicode(db):
    """leader/09 blank: MARC-8, as most older MARC 21 (the LoC samples pymarc ships)."""
    import unicodedata

    from pymarc import Field, Indicators, Leader, Record, Subfield

    record = Record()
    record.leader = Leader("00000nam a2200000 a 4500")
    record.add_field(Field(tag="001", data="LC1"))
    title = "JosXe MartXi /"  # X: one byte, replaced below by MARC-8's combining acute
    record.add_field(Field("245", Indicators("1", "0"), [Subfield("a", title)]))
    record.add_field(
        Field("852", Indicators(" ", " "), [Subfield("b", "main"), Subfield("p", "L1")])
    )
    utf8 = record.as_marc()
    # leader/09 blank (MARC-8); 0xE2 (acute) comes before its letter, as in MARC-8.
    raw = utf8[:9] + b" " + utf8[10:].replace(b"X", b"\xe2")
    with db.write() as s:
        result = import_marc(s, io.BytesIO(raw), PROFILE)
    assert result.titles == 1
    with db.read() as s:
        assert unicodedata.normalize("NFC", s.get(Title, "LC1").title) == "José Martí"


def test_marcxml_is_read_too(db):
    from pymarc import record_to_xml

    records = [
        marc_record("JP1", "羅生門", author="芥川, 龍之介", holdings=[("X1", "main", "")]),
        marc_record("JP2", "鼻", holdings=[("X2", "nango", "禁帯出")]),
    ]
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
        + b"".join(record_to_xml(r) for r in records)
        + b"</collection>"
    )
    with db.write() as s:
        result = import_marcxml(s, io.BytesIO(xml), PROFILE)
    assert (result.titles, result.copies) == (2, 2)
    with db.read() as s:
        assert s.get(Title, "JP1").author == "芥川, 龍之介"
        assert s.get(Copy, "X2").loanable is False


def test_marcxml_bad_record_names_it_and_imports_nothing(db):
    from pymarc import record_to_xml

    xml = (
        b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
        + record_to_xml(marc_record("JP1", "羅生門", holdings=[("X1", "main", "")]))
        + record_to_xml(marc_record("JP2", "鼻", holdings=[("X2", "osaka", "")]))
        + b"</collection>"
    )
    with pytest.raises(CatalogImportError, match=r"record 2 \(001 JP2\)"), db.write() as s:
        import_marcxml(s, io.BytesIO(xml), PROFILE)
    assert counts(db) == (0, 0)


def test_import_catalog_command_shift_jis_final_count_and_one_line_errors(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from libcli.server.console import main

    monkeypatch.setenv("LIBCLI_SERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'lib.db'}")
    monkeypatch.setenv("LIBCLI_SERVER_DATA_DIR", str(tmp_path))
    sjis = tmp_path / "export.csv"
    sjis.write_bytes(CATALOGUE.encode("cp932"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0  # only init creates a library
    done = runner.invoke(main, ["--lang", "en", "import-catalog", str(sjis)])
    assert done.exit_code == 0, done.output
    assert done.stdout == "imported 3 titles, 4 copies\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(CATALOGUE + "T9,本,,,,comic,,Z1,main,true\n", encoding="utf-8")
    refused = runner.invoke(main, ["--lang", "ja", "import-catalog", str(bad)])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("取り込んでいません: line 6: type 'comic'")
    assert refused.stderr.count("\n") == 1
    helped = runner.invoke(main, ["import-catalog", "--help"]).output
    for column in CSV_COLUMNS:
        assert f"{column}:" in helped


def test_docs_import_md_lists_every_csv_column():
    from pathlib import Path

    from libcli.server.importer import CSV_SPEC

    page = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text("utf-8")
    for column in CSV_SPEC:
        assert f"| `{column.name}` |" in page
