"""Catalogue import: time and peak memory (RSS) of `libcli-server import-catalog`.

    .venv/bin/python -m bench.import_catalog --source aozora # the 14k works of Aozora Bunko
    .venv/bin/python -m bench.import_catalog                 # 1,000,000 generated titles
    .venv/bin/python -m bench.import_catalog --titles 100000 # a smaller generated file
    .venv/bin/python -m bench.import_catalog --checks-only   # the importer's own memory, 1M

Each import runs as its own `libcli-server` process on a fresh SQLite database (and on
PostgreSQL with --postgres URL); the peak RSS is the child's ru_maxrss.
`--checks-only` runs the importer in this process with the writing of rows and search
postings left out (the file is read, parsed and checked, the ids and barcodes recorded as
in a real import), and prints the RSS every 100,000 titles: what the importer itself keeps
as the file grows, in minutes instead of the hours a 1M-title import takes on a loaded
machine.

The aozora works come from ../shared/data/aozora_works.csv (skipped when absent); the
generated file has one copy per title, Japanese titles and authors of realistic length.
Results are printed as a Markdown table for docs/import.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

AOZORA = ROOT.parent / "shared" / "data" / "aozora_works.csv"
HEADER = "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable\n"
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわん"
KANJI = "日本語図書館八戸南郷物語研究歴史文化社会自然科学文学詩集全集新版上下巻"


def aozora_catalogue(out: Path) -> int:
    rows = list(csv.DictReader(AOZORA.open(encoding="utf-8")))
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER.strip().split(","))
        for r in rows:
            writer.writerow(
                [r["work_id"], r["title"], r["authors"], r["publisher"], r["released"][:4],
                 "book", "", f"A{r['work_id']}", "main", "true"]
            )  # fmt: skip
    return len(rows)


def generated_catalogue(out: Path, titles: int) -> int:
    rng = random.Random(20261202)
    points = ("main", "nango", "center")
    with out.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        for i in range(titles):
            title = "".join(rng.choices(KANJI + KANA, k=rng.randint(4, 24)))
            author = "".join(rng.choices(KANJI, k=rng.randint(2, 5)))
            f.write(
                f"G{i:08d},{title},{author},出版社{i % 500},{1950 + i % 75},book,,"
                f"GB{i:08d},{points[i % 3]},true\n"
            )
    return titles


def measure(catalogue: Path, database_url: str, data_dir: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one import in its own process."""
    env = {**os.environ, "LIBCLI_SERVER_DATA_DIR": str(data_dir)}
    exe = str(ROOT / ".venv" / "bin" / "libcli-server")
    subprocess.run([exe, "init", "--database", database_url], env=env, check=True,
                   capture_output=True)  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([exe, "import-catalog", "--database", database_url, str(catalogue)],
                   env=env, check=True)  # fmt: skip
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("run one measurement per process: ru_maxrss is the largest child")
    return seconds, peak / 1024


def checks_only(catalogue: Path, folder: Path) -> str:
    """The importer's own memory: rows and postings not written, all else as in an import."""
    from libcli.server import importer
    from libcli.server.db.migrate import create_library
    from libcli.server.db.session import Database
    from libcli.server.profile import load_profile

    def rss_mb() -> int:
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(x for x in status if x.startswith("VmRSS")).split()[1]) // 1024

    samples: list[str] = []

    def progress(titles: int, copies: int) -> None:
        if titles % 100_000 == 0:
            samples.append(f"{titles:,}: {rss_mb()} MB")

    importer._store = lambda session, titles: sum(len(t.copies) for t in titles)
    url = f"sqlite:///{folder / 'library.db'}"
    create_library(url)
    start = time.perf_counter()
    with Database(url).write() as session, catalogue.open("rb") as handle:
        first = rss_mb()
        result = importer.import_csv(session, handle, load_profile(), progress=progress)
        session.rollback()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return (
        f"{result.titles:,} titles checked in {seconds:.0f} s; RSS at the start {first} MB, "
        f"then {'; '.join(samples)}; peak {peak} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_catalog")
    parser.add_argument("--titles", type=int, default=1_000_000)
    parser.add_argument("--source", choices=["aozora", "generated"], default="generated")
    parser.add_argument("--postgres", metavar="URL", help="import into this database instead")
    parser.add_argument("--checks-only", action="store_true", help="in-process, no rows written")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="libcli-import-") as tmp:
        folder = Path(tmp)
        catalogue = folder / "catalogue.csv"
        if args.source == "aozora":
            count = aozora_catalogue(catalogue)
        else:
            count = generated_catalogue(catalogue, args.titles)
        if args.checks_only:
            print(checks_only(catalogue, folder))
            return 0
        url = args.postgres or f"sqlite:///{folder / 'library.db'}"
        size = catalogue.stat().st_size / 1e6
        seconds, peak = measure(catalogue, url, folder)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"| {args.source} | {count:,} | {size:.0f} MB | {backend} | {seconds:.0f} s "
              f"| {peak:.0f} MB |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
