"""Run every benchmark and write docs/benchmarks.md and docs/benchmarks.png.

    .venv/bin/python -m bench            # the full run (about 11 minutes on 2 cores)
    .venv/bin/python -m bench --quick    # a smaller run, under two minutes

Login timing under parallel clients has its own command (a real card against unknown
ones): `.venv/bin/python -m bench.login_timing` (bench/login_timing.py).

Needs: wrk and curl on PATH, httpie and matplotlib (and py-spy) in the venv, the aozora
catalogue at ../shared/data/aozora_works.csv, PostgreSQL at LIBCLI_TEST_POSTGRES_URL
(default the local server; skipped with a note when absent).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import daily, data, live, report, search_bench, startup
from bench.common import ROOT

PARTS = ("startup", "status", "search", "throughput", "daily")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--only", help=f"comma-separated parts of {','.join(PARTS)}")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where the report goes")
    args = parser.parse_args(argv)
    parts = args.only.split(",") if args.only else list(PARTS)
    quick = args.quick
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])

    backends = ["sqlite"] + (["postgres"] if data.postgres_available() else [])
    results: dict = {"quick": quick, "command": command, "backends": backends, "notes": []}
    if "postgres" not in backends:
        results["notes"].append("PostgreSQL did not answer: its rows are missing.")
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="libcli-bench-"))
    made: list[data.BenchDb] = []

    def step(message: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f}s] {message}", flush=True)

    try:
        if "startup" in parts:
            step("1-2. start-up and completion")
            results["startup"] = startup.run(runs=10 if quick else 30)

        rows = data.aozora_rows()
        catalogue = list(data.titles(rows, len(rows)))
        classes = search_bench.query_classes(catalogue, per_class=12 if quick else 30)
        results["classes"] = {k: v[:6] for k, v in classes.items()}
        libraries: dict[str, data.BenchDb] = {}
        if {"status", "search", "throughput"} & set(parts):
            for backend in backends:
                step(f"library of {len(catalogue)} aozora titles on {backend}")
                db = data.fresh_db(backend, workdir, "library")
                made.append(db)
                build = data.load_titles(db, iter(catalogue), copies=True)
                tokens = live.seed(db.url, workdir)
                libraries[backend] = db
                results.setdefault("builds", {})[f"{backend} 14k"] = build
                results.setdefault("tokens", {})[backend] = tokens

        if "status" in parts:
            step("3. libcli status --json vs httpie and curl")
            db = libraries["sqlite"]
            token = results["tokens"]["sqlite"][live.PATRON]
            with live.Server(db.url, workdir) as server:
                results["status"] = live.status_command(server, token, runs=10 if quick else 30)

        if "search" in parts:
            reps = 3 if quick else 5
            searches = results["search"] = {}
            for backend, db in libraries.items():
                step(f"4. search, 14k, {backend}")
                key = f"{backend} 14k"
                searches[key] = {
                    "in_process": search_bench.in_process(db.url, classes, reps),
                    "blind_spots": search_bench.blind_spots(db.url, catalogue, classes),
                    "http": search_bench.over_http(db.url, workdir, classes, reps),
                }
            if not quick:
                million = list(data.titles(rows, 1_000_000))
                big_classes = search_bench.query_classes(million, per_class=30)
                results["classes_1m"] = {k: v[:6] for k, v in big_classes.items()}
                for backend in backends:
                    step(f"4. search, 1M titles, {backend}: build")
                    db = data.fresh_db(backend, workdir, "million")
                    made.append(db)
                    results["builds"][f"{backend} 1M"] = data.load_titles(db, iter(million))
                    step(f"4. search, 1M titles, {backend}: queries")
                    searches[f"{backend} 1M"] = {
                        "in_process": search_bench.in_process(db.url, big_classes, reps),
                        "http": search_bench.over_http(db.url, workdir, big_classes, 2),
                    }
                    db.drop()
                    if db.path:
                        for f in db.path.parent.glob(db.path.name + "*"):
                            f.unlink()
                del million

        if "throughput" in parts:
            seconds = 2 if quick else 8
            configs = [(b, w) for b in backends for w in (1, 2)]
            if quick:
                configs = [c for c in configs if c != ("sqlite", 2)]
            queries = [q for qs in classes.values() for q in qs]
            tp = results["throughput"] = {}
            for backend, workers in configs:
                step(f"5. throughput, {backend}, {workers} worker(s)")
                tp[f"{backend} ×{workers}"] = live.throughput(
                    libraries[backend].url,
                    workdir,
                    results["tokens"][backend],
                    queries,
                    workers,
                    seconds,
                )
            results["profiles"] = {}
            for name in ("GET status", "GET search", "reserve+cancel (pairs)"):
                step(f"5. profile of {name} under load (py-spy)")
                results["profiles"][name] = live.profile_under_load(
                    libraries["sqlite"].url,
                    workdir,
                    results["tokens"]["sqlite"],
                    name,
                    3 if quick else 6,
                    queries,
                )

        if "daily" in parts:
            holds = 10_000 if quick else 100_000
            results["daily"] = {}
            for backend in backends:
                step(f"6. run-daily over {holds} ready holds, {backend}")
                db = data.fresh_db(backend, workdir, "daily")
                made.append(db)
                results["daily"][backend] = daily.run(db, holds, workdir)
            step(f"6. reserve + cancel while run-daily works through {holds} holds, sqlite")
            db = data.fresh_db("sqlite", workdir, "daily_load")
            made.append(db)
            results["daily_under_load"] = daily.under_load(db, holds, workdir, 4 if quick else 10)
    finally:
        for db in made:
            db.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    results["seconds"] = time.perf_counter() - began
    out = Path(args.out)
    dump = Path(tempfile.gettempdir()) / "libcli-bench-results.json"
    dump.write_text(json.dumps(results, default=str))  # the figures, should the report fail
    step(f"results in {dump}")
    report.write(results, out / "benchmarks.md", out / "benchmarks.png")
    step(f"wrote {out / 'benchmarks.md'} and {out / 'benchmarks.png'}")
    print(shlex.join(["took", f"{results['seconds']:.0f}s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
