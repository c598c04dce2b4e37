"""Password-reset timing: a request for an unknown card, for a real card with the wrong
address and for the right pair must take the same time, or timing tells which cards and
addresses exist (R17). The test (tests/security/test_enumeration.py) proves the answers
and the mails; the time is measured here, in one run, as ratios of medians.

The three kinds are interleaved request by request, so drift in machine load falls on
all of them alike. The lookup and the link are made after the answer (R17, SECURITY.md
§3); `--gap` waits that long before the next request so that work does not fall on the
next one's time (`--gap 0` shows what it costs a request sent right behind).

    .venv/bin/python -m bench.reset_timing                  # SQLite and PostgreSQL
    .venv/bin/python -m bench.reset_timing --tries 200 --backends sqlite

Needs PostgreSQL at LIBCLI_TEST_POSTGRES_URL for its rows (skipped when absent).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import requests

from bench.common import Server, summary_ms

KINDS = ("unknown card", "wrong address", "right pair")
# Every request must reach the service: no throttle may answer 429 during the run.
NO_LIMITS = {"LIBCLI_SERVER_ADDRESS_RESET_REQUESTS": "100000000"}


def _seed(url: str, workdir: Path, cards: list[str]) -> None:
    from libcli.server.db.session import Database
    from libcli.server.service import accounts
    from libcli.server.settings import load_settings

    settings = replace(load_settings(url), data_dir=workdir, outbox_dir=workdir / "outbox")
    db = Database(url)
    try:
        with db.write() as s:
            for card in cards:
                accounts.add_patron(
                    s, settings, card, f"利用者 {card}", email=f"p{card}@example.com"
                )
                accounts.issue_password(s, settings, card, "a fine long password")
    finally:
        db.dispose()


def run(backend: str, workdir: Path, tries: int, gap: float) -> dict:
    from bench.data import fresh_db

    db = fresh_db(backend, workdir, "reset")
    cards = [f"6{n:08d}" for n in range(tries)]
    try:
        _seed(db.url, workdir, cards)
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        with Server(db.url, workdir, settings=NO_LIMITS) as server, requests.Session() as http:
            url = f"{server.url}/api/v1/password-reset"
            for n, card in enumerate(cards):  # each patron matched once (3 mails per card)
                bodies = {
                    "unknown card": {
                        "card": f"{800000000 + n:09d}",
                        "email": f"p{card}@example.com",
                    },
                    "wrong address": {"card": card, "email": "someone.else@example.com"},
                    "right pair": {"card": card, "email": f"p{card}@example.com"},
                }
                for kind in KINDS if n % 2 == 0 else reversed(KINDS):
                    began = time.perf_counter()
                    answer = http.post(url, json=bodies[kind], timeout=60)
                    took = time.perf_counter() - began
                    if answer.status_code != 202:
                        raise RuntimeError(f"expected 202, got {answer.status_code}: {answer.text}")
                    if n >= 3:  # warm-up
                        timings[kind].append(took)
                    time.sleep(gap)
        unknown = statistics.median(timings["unknown card"])
        return {
            "backend": backend,
            "tries": tries,
            "gap": gap,
            "summary": {kind: summary_ms(t) for kind, t in timings.items()},
            "ratios": {kind: statistics.median(t) / unknown for kind, t in timings.items()},
        }
    finally:
        db.drop()


def table(results: list[dict]) -> str:
    lines = [
        "| database | tries | gap s | "
        + " | ".join(f"{k} p50 ms" for k in KINDS)
        + " | wrong / unknown | right / unknown |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p50 = " | ".join(f"{r['summary'][k]['p50']:.1f}" for k in KINDS)
        lines.append(
            f"| {r['backend']} | {r['tries']} | {r['gap']:g} | {p50}"
            f" | {r['ratios']['wrong address']:.2f}× | {r['ratios']['right pair']:.2f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.data import postgres_available

    parser = argparse.ArgumentParser(prog="python -m bench.reset_timing")
    parser.add_argument("--tries", type=int, default=100, help="requests of each kind")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--gap", type=float, default=0.2, help="seconds between requests (default 0.2)"
    )
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    if "postgres" in backends and not postgres_available():
        print("PostgreSQL did not answer: its rows are missing.", file=sys.stderr)
        backends.remove("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="libcli-bench-reset-"))
    try:
        results = [run(b, workdir, args.tries, args.gap) for b in backends]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("Password-reset requests, medians of interleaved tries (ms):\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
