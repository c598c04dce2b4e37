"""4. Search: p50/p95/p99 per query class, in-process and over HTTP, and no blind spot."""

from __future__ import annotations

import http.client
import random
import re
import time
import unicodedata
import urllib.parse

from bench.common import Server, summary_ms
from bench.data import TitleRow

_KANJI = re.compile(r"[\u4e00-\u9fff]")
_HIRAGANA_RUN = re.compile(r"[\u3041-\u3096]+")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc]+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# Full-width katakana → half-width (the reverse of what NFKC folds).
_HALF = {}
for _code in range(0xFF66, 0xFF9E):
    _HALF[unicodedata.normalize("NFKC", chr(_code))] = chr(_code)


def to_half_width_katakana(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if ch == "\u3099":
            out.append("ﾞ")
        elif ch == "\u309a":
            out.append("ﾟ")
        else:
            out.append(_HALF.get(ch, ch))
    return "".join(out)


def to_full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def query_classes(catalogue: list[TitleRow], per_class: int, seed: int = 2026) -> dict:
    """Queries patrons type, by class, drawn from the catalogue itself."""
    rng = random.Random(seed)
    sample = rng.sample(catalogue, min(len(catalogue), 4000))
    texts = [t.title for t in sample] + [t.author for t in sample]
    kanji = [c for t in texts for c in _KANJI.findall(t)]
    pairs = [m for t in texts for m in re.findall(r"(?=([\u4e00-\u9fff]{2}))", t)]
    hira = [m for t in texts for m in _HIRAGANA_RUN.findall(t)]
    kata = [m for t in texts for m in _KATAKANA_RUN.findall(t) if len(m) >= 2]
    latin = sorted(
        {
            w
            for t in catalogue[:20000]
            for w in _LATIN_WORD.findall(
                unicodedata.normalize("NFKC", f"{t.title} {t.author} {t.publisher}")
            )
        }
    )
    isbns = [t.isbn for t in sample if t.isbn]

    def pick(pool, n):
        return [rng.choice(pool) for _ in range(n)] if pool else []

    def substring(n):
        out = []
        while len(out) < n:
            title = rng.choice(sample).title
            if len(title) >= 3:
                k = rng.randint(3, min(6, len(title)))
                start = rng.randrange(len(title) - k + 1)
                out.append(title[start : start + k])
        return out

    from libcli.server.search import FIELD_SEPARATOR, variant_table

    parts = [t.search_text.split(FIELD_SEPARATOR) for t in sample]
    readings = [f for p in parts for f in p[4:6] if len(f) >= 3]
    romaji = [w for p in parts for f in p[6:8] for w in f.split() if len(w) >= 4]
    others: dict[str, list[str]] = {}
    for code, canonical in variant_table().items():
        others.setdefault(canonical, []).append(chr(code))
    variant_pool = [
        text[max(0, i - 1) : i + 2].replace(ch, rng.choice(others[ch]))
        for text in texts
        for i, ch in enumerate(text)
        if ch in others
    ]

    def reading_slice(text: str) -> str:
        start = rng.randrange(max(1, len(text) - 2))
        return text[start : start + rng.randint(2, 4)]

    reading_q = [reading_slice(r) for r in pick(readings, per_class)]
    kata_q = [k[: rng.randint(2, 4)] for k in pick(kata, per_class)]
    latin_q = [w[: rng.randint(2, 6)] for w in pick(latin, per_class)]
    isbn_q = pick(isbns, per_class)
    return {
        "one kanji": pick(kanji, per_class),
        "two kanji": ["漱石", "太宰", *pick(pairs, per_class - 2)],
        "3+ characters": substring(per_class),
        "hiragana": [h[: rng.randint(1, 3)] for h in pick(hira, per_class)],
        "katakana": kata_q,
        "half-width katakana": [to_half_width_katakana(k) for k in kata_q],
        "full-width Latin": [to_full_width(w) for w in latin_q],
        "half-width Latin": latin_q,
        "reading (hiragana)": reading_q,
        "reading (half-width katakana)": [
            to_half_width_katakana(
                "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in q)
            )
            for q in reading_q
        ],
        "romaji": [w[: rng.randint(4, 8)] for w in pick(romaji, per_class)],
        "variant form": pick(variant_pool, per_class),
        "ISBN with hyphens": [f"{i[:3]}-{i[3]}-{i[4:8]}-{i[8:12]}-{i[12]}" for i in isbn_q],
        "ISBN without hyphens": isbn_q,
    }


def in_process(url: str, classes: dict, reps: int) -> dict:
    """Latency of search_titles (first page of 20 and the total), per class."""
    from libcli.server.db.session import Database
    from libcli.server.search import search_titles

    db = Database(url)
    results = {}
    try:
        for name, queries in classes.items():
            times, totals = [], []
            for q in queries:  # warm the statement cache and the pages
                with db.read() as session:
                    search_titles(session, q)
            for _ in range(reps):
                for q in queries:
                    started = time.perf_counter()
                    with db.read() as session:
                        _page, total, _exact = search_titles(session, q)
                    times.append(time.perf_counter() - started)
                    totals.append(total)
            results[name] = {**summary_ms(times), "median_total": sorted(totals)[len(totals) // 2]}
    finally:
        db.dispose()
    return results


def blind_spots(url: str, catalogue: list[TitleRow], classes: dict) -> dict:
    """Every query against a brute-force scan of the catalogue: (queries, mismatches)."""
    from libcli.server.db.session import Database
    from libcli.server.search import (
        isbn_digits,
        isbn_forms,
        normalize,
        search_titles,
        text_matches,
    )

    fields = [(t.id, t.search_text, t.isbn) for t in catalogue]
    db = Database(url)
    checked = mismatches = 0
    try:
        for queries in classes.values():
            for query in queries:
                q = normalize(query)
                isbn = isbn_digits(query)
                forms = set(isbn_forms(isbn)) if isbn else set()
                expected = {
                    tid for tid, text, tisbn in fields if text_matches(text, q) or (tisbn in forms)
                }
                with db.read() as session:
                    found, total, _exact = search_titles(session, query, limit=None)
                checked += 1
                if {t.id for t in found} != expected or total != len(expected):
                    mismatches += 1
    finally:
        db.dispose()
    return {"queries": checked, "mismatches": mismatches}


def over_http(url: str, workdir, classes: dict, reps: int) -> dict:
    """Latency of GET /api/v1/catalog/search from one keep-alive client, per class."""
    results = {}
    with Server(url, workdir) as server:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for name, queries in classes.items():
            times = []
            for rep in range(reps + 1):
                for q in queries:
                    path = "/api/v1/catalog/search?" + urllib.parse.urlencode({"q": q})
                    started = time.perf_counter()
                    conn.request("GET", path)
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        raise RuntimeError(f"search {q!r}: HTTP {response.status}")
                    if rep:
                        times.append(time.perf_counter() - started)
            results[name] = summary_ms(times)
        conn.close()
    return results
