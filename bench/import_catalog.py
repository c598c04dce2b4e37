"""Catalogue import: time and peak memory (RSS) of `libcli-server import-catalog`.

    .venv/bin/python -m bench.import_catalog                 # aozora (14k) + 1,000,000 titles
    .venv/bin/python -m bench.import_catalog --titles 100000 # a smaller generated file

Each import runs as its own `libcli-server` process on a fresh SQLite database (and on
PostgreSQL with --postgres URL); the peak RSS is the child's ru_maxrss. The aozora works
come from ../shared/data/aozora_works.csv (skipped when absent); the generated file has
one copy per title, Japanese titles and authors of realistic length. Results are printed
as a Markdown table for docs/import.md.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_catalog")
    parser.add_argument("--titles", type=int, default=1_000_000)
    parser.add_argument("--source", choices=["aozora", "generated"], default="generated")
    parser.add_argument("--postgres", metavar="URL", help="import into this database instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="libcli-import-") as tmp:
        folder = Path(tmp)
        catalogue = folder / "catalogue.csv"
        if args.source == "aozora":
            count = aozora_catalogue(catalogue)
        else:
            count = generated_catalogue(catalogue, args.titles)
        url = args.postgres or f"sqlite:///{folder / 'library.db'}"
        size = catalogue.stat().st_size / 1e6
        seconds, peak = measure(catalogue, url, folder)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"| {args.source} | {count:,} | {size:.0f} MB | {backend} | {seconds:.0f} s "
              f"| {peak:.0f} MB |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
