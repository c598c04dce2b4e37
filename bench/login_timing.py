"""Login timing under parallel clients: a wrong password for a real card must cost what
one for an unknown card costs, or timing tells which card numbers exist.

Each round sends `--clients` wrong-password logins at once, either all at one real
card or each at an unknown card, and keeps the slowest answer of the round (what an
attacker firing a burst sees). Rounds of the two kinds alternate, so drift in machine
load falls on both; the figure is the ratio of their medians, measured in the same run.

    .venv/bin/python -m bench.login_timing                  # SQLite and PostgreSQL
    .venv/bin/python -m bench.login_timing --rounds 20 --backends postgres

Needs PostgreSQL at LIBCLI_TEST_POSTGRES_URL for its rows (skipped when absent).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import requests

from bench.common import Server, summary_ms

CARD = "100000001"
PASSWORD = "bench-Password-2468"
# No guessing limit may answer 429 during the run: every attempt must reach argon2.
NO_LIMITS = {
    "LIBCLI_SERVER_ADDRESS_FAILED_LOGINS": "100000000",
    "LIBCLI_SERVER_GLOBAL_FAILED_LOGINS": "100000000",
}


def _seed(url: str, workdir: Path) -> None:
    from libcli.server.db.session import Database
    from libcli.server.service import accounts
    from libcli.server.settings import load_settings

    settings = replace(load_settings(url), data_dir=workdir, outbox_dir=workdir / "outbox")
    db = Database(url)
    try:
        with db.write() as s:
            accounts.add_patron(s, settings, CARD, "八戸 太郎")
            accounts.issue_password(s, settings, CARD, PASSWORD)
    finally:
        db.dispose()


def _burst(url: str, cards: list[str], pool: ThreadPoolExecutor) -> float:
    """Seconds until the slowest of the parallel wrong-password logins was answered."""
    start = threading.Barrier(len(cards))

    def one(card: str) -> float:
        start.wait()
        began = time.perf_counter()
        answer = requests.post(
            f"{url}/api/v1/auth/login", json={"card": card, "password": "wrong guess"}, timeout=60
        )
        if answer.status_code != 401:
            raise RuntimeError(f"expected 401, got {answer.status_code}: {answer.text[:200]}")
        return time.perf_counter() - began

    return max(pool.map(one, cards))


def run(backend: str, workdir: Path, rounds: int, clients: int) -> dict:
    from bench.data import fresh_db

    db = fresh_db(backend, workdir, "login")
    try:
        _seed(db.url, workdir)
        slowest: dict[str, list[float]] = {"real card": [], "unknown cards": []}
        with (
            Server(db.url, workdir, settings=NO_LIMITS) as server,
            ThreadPoolExecutor(clients) as pool,
        ):
            unknown = iter(range(700000000, 800000000))
            for n in range(rounds + 2):  # two rounds of warm-up
                kinds = list(slowest) if n % 2 == 0 else list(reversed(slowest))
                for kind in kinds:
                    if kind == "real card":
                        cards = [CARD] * clients
                    else:
                        cards = [f"{next(unknown):09d}" for _ in range(clients)]
                    took = _burst(server.url, cards, pool)
                    if n >= 2:
                        slowest[kind].append(took)
        real, fake = (statistics.median(slowest[k]) for k in slowest)
        return {
            "backend": backend,
            "clients": clients,
            "rounds": rounds,
            "summary": {k: summary_ms(v) for k, v in slowest.items()},
            "ratio": real / fake,
        }
    finally:
        db.drop()


def table(results: list[dict]) -> str:
    lines = [
        "| database | clients | rounds | real card p50 ms | unknown cards p50 ms"
        " | real / unknown | real card p95 | unknown p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        real, fake = r["summary"]["real card"], r["summary"]["unknown cards"]
        lines.append(
            f"| {r['backend']} | {r['clients']} | {r['rounds']} | {real['p50']:.0f}"
            f" | {fake['p50']:.0f} | {r['ratio']:.2f}× | {real['p95']:.0f} | {fake['p95']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.data import postgres_available

    parser = argparse.ArgumentParser(prog="python -m bench.login_timing")
    parser.add_argument("--rounds", type=int, default=40, help="rounds of each kind")
    parser.add_argument("--clients", type=int, default=6, help="parallel logins per round")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    if "postgres" in backends and not postgres_available():
        print("PostgreSQL did not answer: its rows are missing.", file=sys.stderr)
        backends.remove("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="libcli-bench-login-"))
    try:
        results = [run(b, workdir, args.rounds, args.clients) for b in backends]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Slowest of {args.clients} parallel wrong-password logins per round (ms):\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
