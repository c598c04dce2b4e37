"""Search at a chosen catalogue size, in-process only: p50/p95/p99 per query class, the
build time and size, and (up to 20,000 titles) the brute-force comparison. A quicker
look than `python -m bench`:

    python -m bench.search_quick 100000 sqlite,postgres
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench import data, search_bench


def main(argv: list[str]) -> None:
    rows = data.aozora_rows()
    count = int(argv[0]) if argv else len(rows)
    backends = argv[1].split(",") if len(argv) > 1 else ["sqlite"]
    catalogue = list(data.titles(rows, count))
    classes = search_bench.query_classes(catalogue, per_class=30)
    workdir = Path(tempfile.mkdtemp(prefix="libcli-bench-"))
    for backend in backends:
        db = data.fresh_db(backend, workdir, "library")
        try:
            print(backend, count, "build", json.dumps(data.load_titles(db, iter(catalogue))))
            for name, v in search_bench.in_process(db.url, classes, 3).items():
                times = f"p50 {v['p50']:.1f} p95 {v['p95']:.1f} p99 {v['p99']:.1f}"
                print(f"  {name:32} {times} median total {v['median_total']}", flush=True)
            if count <= 20_000:
                print("  blind spots", search_bench.blind_spots(db.url, catalogue, classes))
        finally:
            db.drop()


if __name__ == "__main__":
    main(sys.argv[1:])
