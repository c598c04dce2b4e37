"""Where one worker spends its time per request: a quick loop for changing the server.

    .venv/bin/python -m bench.hotspots                    # SQLite, every request
    .venv/bin/python -m bench.hotspots --backend postgres --only "GET status"

Builds the bench library (14k aozora titles, the seeded patrons), then for each request:
req/s beside /health in the same server, CPU ms per request from the server's own
counters, and the py-spy frames where the time goes. The full report is `python -m bench`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench import data, live, search_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots")
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated request names (as in the report)")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="libcli-hotspots-"))
    db = data.fresh_db(args.backend, workdir, "library")
    try:
        rows = data.aozora_rows()
        catalogue = list(data.titles(rows, len(rows)))
        data.load_titles(db, iter(catalogue), copies=True)
        tokens = live.seed(db.url, workdir)
        classes = search_bench.query_classes(catalogue, per_class=12)
        queries = [q for qs in classes.values() for q in qs]
        names = list(live.load_scripts(workdir, tokens, queries))
        chosen = args.only.split(",") if args.only else names[1:]
        results = live.throughput(db.url, workdir, tokens, queries, 1, args.seconds)
        health = results["GET /health"]["rps"]
        print(f"{'request':<26}{'req/s':>8}{'vs health':>11}{'CPU ms/req':>12}{'p99 ms':>9}")
        for name in names:
            r = results[name]
            print(
                f"{name:<26}{r['rps']:>8.0f}{r['rps'] / health:>10.2f}×"
                f"{r['cpu_ms_per_request']:>12.2f}{r['p99_ms']:>9.0f}  non-2xx {r['non_2xx']}"
            )
        if not args.no_profile:
            for name in chosen:
                print(f"\n{name} (py-spy, % of samples)")
                top = live.profile_under_load(db.url, workdir, tokens, name, args.seconds, queries)
                for frame, share in top:
                    print(f"{share:5.0f}  {frame}")
    finally:
        db.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
