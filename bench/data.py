"""Bench data: fresh databases, the aozora catalogue, and a million titles synthesised from it.

Loading goes straight through the database driver (executemany on SQLite, COPY on
PostgreSQL) and fills the search index with the same `grams_of` the server uses; the
time it takes and the size it leaves are part of the report.
"""

from __future__ import annotations

import csv
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from libcli.server.search import (
    grams_of,
    isbn13_check,
    isbn_digits,
    search_text_for,
)

ROOT = Path(__file__).resolve().parents[1]
AOZORA = ROOT.parent / "shared" / "data" / "aozora_works.csv"
PG_ADMIN_URL = os.environ.get(
    "LIBCLI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

# Suffixes that turn one work into the many editions and volumes a library holds.
EDITIONS = [
    "",
    " 上",
    " 下",
    " 新装版",
    "（改版）",
    " 完全版",
    " 愛蔵版",
    " 注釈付き",
    " 文庫",
    " Ｃｏｌｌｅｃｔｉｏｎ",
    " 朗読CD",
    " SELECTION",
]


@dataclass
class TitleRow:
    id: str
    title: str
    author: str
    publisher: str
    year: int | None
    isbn: str | None
    search_text: str


def aozora_rows() -> list[dict]:
    if not AOZORA.exists():
        raise SystemExit(f"{AOZORA} is not here: the search benchmarks need it")
    with AOZORA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _isbn(n: int) -> str:
    body = f"9784{n:08d}"
    return body + isbn13_check(body)


def titles(rows: list[dict], count: int, seed: int = 8) -> Iterator[TitleRow]:
    """The aozora works as they are, then editions of them by other authors and publishers.

    Three titles in five carry an ISBN-13 (978-4-...), unique to the title."""
    rng = random.Random(seed)
    publishers = sorted({r["publisher"] for r in rows if r["publisher"]})
    for i in range(count):
        base = rows[i % len(rows)]
        if i < len(rows):
            title, author, publisher = base["title"], base["authors"], base["publisher"]
        else:
            title = base["title"] + rng.choice(EDITIONS)
            author = rows[rng.randrange(len(rows))]["authors"]
            publisher = rng.choice(publishers)
        author = author.replace(";", " ")
        isbn = _isbn(i) if i % 5 < 3 else None
        year = int(base["released"][:4]) if base["released"][:4].isdigit() else None
        yield TitleRow(
            f"S{i:07d}",
            title,
            author,
            publisher,
            year,
            isbn,
            search_text_for(title, author, publisher, isbn),
        )


# -- databases -------------------------------------------------------------------------


@dataclass
class BenchDb:
    backend: str
    url: str
    path: Path | None = None
    name: str | None = None

    def size(self) -> int:
        if self.path:
            return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        import psycopg

        with psycopg.connect(_pg_dsn(self.url), autocommit=True) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    def drop(self) -> None:
        if self.name:
            import psycopg

            with psycopg.connect(_pg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(_pg_dsn(PG_ADMIN_URL), connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


def fresh_db(backend: str, workdir: Path, label: str) -> BenchDb:
    """A new, migrated database."""
    from libcli.server.db.migrate import upgrade

    if backend == "sqlite":
        path = workdir / f"{label}.db"
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
        db = BenchDb("sqlite", f"sqlite:///{path}", path=path)
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        name = f"libcli_bench_{label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(_pg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        db = BenchDb("postgres", url, name=name)
    upgrade(db.url)
    return db


def load_titles(db: BenchDb, rows: Iterator[TitleRow], copies: bool = False) -> dict:
    """Bulk-load titles (and one copy each at main, if asked) and build the search index.

    Returns the seconds taken, the postings written and the database size."""
    started = time.perf_counter()
    postings: dict[str, list[str]] = defaultdict(list)
    title_rows = []
    for t in rows:
        title_rows.append(
            (t.id, t.title, t.author, t.publisher, t.year, "book", t.isbn, t.search_text)
        )
        for gram in grams_of(t.search_text):
            postings[gram].append(t.id)
    counts = Counter({g: len(ids) for g, ids in postings.items()})

    def sorted_postings():
        for gram in sorted(postings):
            for tid in sorted(postings[gram]):
                yield (gram, tid)

    copy_rows = [(f"C{r[0]}", r[0], "main", "main", True, "on_shelf") for r in title_rows]
    title_sql = (
        "INSERT INTO title (id, title, author, publisher, year, type, isbn, search_text) "
        "VALUES ({})"
    )
    if db.backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db.path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        with conn:
            conn.executemany(title_sql.format(",".join("?" * 8)), title_rows)
            conn.executemany(
                "INSERT INTO title_gram (gram, title_id) VALUES (?, ?)", sorted_postings()
            )
            conn.executemany(
                "INSERT INTO title_gram_count (gram, titles) VALUES (?, ?)", sorted(counts.items())
            )
            if copies:
                conn.executemany(
                    "INSERT INTO copy (barcode, title_id, point, location, loanable, state) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    copy_rows,
                )
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(_pg_dsn(db.url)) as conn:
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY title (id, title, author, publisher, year, type, isbn, search_text) "
                    "FROM STDIN"
                ) as copy:
                    for r in title_rows:
                        copy.write_row(r)
                with cur.copy("COPY title_gram (gram, title_id) FROM STDIN") as copy:
                    for r in sorted_postings():
                        copy.write_row(r)
                with cur.copy("COPY title_gram_count (gram, titles) FROM STDIN") as copy:
                    for r in sorted(counts.items()):
                        copy.write_row(r)
                if copies:
                    with cur.copy(
                        "COPY copy (barcode, title_id, point, location, loanable, state) FROM STDIN"
                    ) as copy:
                        for r in copy_rows:
                            copy.write_row(r)
            conn.commit()
        with psycopg.connect(_pg_dsn(db.url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return {
        "seconds": time.perf_counter() - started,
        "titles": len(title_rows),
        "postings": sum(counts.values()),
        "bytes": db.size(),
    }


def isbn_of(row: TitleRow) -> str | None:
    return isbn_digits(row.isbn) if row.isbn else None
