"""Search as a patron and a script use it: the real `libcli` against a real server."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.e2e.test_cli_flow import libcli_bin

pytestmark = pytest.mark.e2e

HEADER = "title_id,title,author,publisher,year,type,isbn,barcode,point,loanable"


@pytest.fixture
def library(live_server, tmp_path):
    """25 titles by 夏目 漱石 (ids T0001...), one by 森 鷗外."""
    rows = [
        f"T{n:04d},本 第{n}巻,夏目 漱石,岩波書店,2000,book,,C{n:04d},main,true"
        for n in range(1, 26)
    ]
    rows.append("M0001,舞姫,森 鷗外,岩波書店,1890,book,,M0001-1,main,true")
    csv = tmp_path / "catalogue.csv"
    csv.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    live_server.console("import-catalog", str(csv), "--format", "csv")
    return live_server


def libcli(server, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIBCLI_", "LC_"))}
    env.update(
        LIBCLI_SERVER=server.url,
        LIBCLI_CONFIG_DIR=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        HOME=str(tmp_path),
        LANG="C",
        NO_COLOR="1",
    )
    done = subprocess.run(
        [libcli_bin(), *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_search_json_stays_a_list_and_says_on_stderr_when_cut_short(library, tmp_path):
    done = libcli(library, tmp_path, "search", "漱石", "--json")
    assert done.returncode == 0
    assert len(json.loads(done.stdout)) == 20
    assert done.stderr.strip() == "20 of 25; --offset 20 or --all"


def test_search_all_pages_through_every_result(library, tmp_path):
    done = libcli(library, tmp_path, "search", "漱石", "--all", "--limit", "7", "--json")
    assert done.returncode == 0
    ids = [item["id"] for item in json.loads(done.stdout)]
    assert sorted(ids) == [f"T{n:04d}" for n in range(1, 26)]
    assert done.stderr == ""


@pytest.mark.parametrize("query", ["", " ", "　"])
def test_a_blank_query_is_a_usage_error(library, tmp_path, query):
    done = libcli(library, tmp_path, "search", query)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: Give words to search for")


@pytest.mark.parametrize("typed", ["t0003", "Ｔ０００３"])
def test_show_and_search_take_a_title_id_in_any_case_or_width(library, tmp_path, typed):
    shown = json.loads(libcli(library, tmp_path, "show", typed, "--json").stdout)
    assert shown["id"] == "T0003"
    found = json.loads(libcli(library, tmp_path, "search", typed, "--json").stdout)
    assert [item["id"] for item in found] == ["T0003"]


def test_search_by_field_reading_and_variant(library, tmp_path):
    by_author = json.loads(libcli(library, tmp_path, "search", "--author", "鴎外", "--json").stdout)
    assert [item["id"] for item in by_author] == ["M0001"]
    romaji = json.loads(libcli(library, tmp_path, "search", "ougai", "--json").stdout)
    assert [item["id"] for item in romaji] == ["M0001"]
    done = libcli(library, tmp_path, "search", "--author", "ｿｳｾｷ", "--reservable", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == []  # every copy is on the shelf (R8)


def test_check_index_finds_a_write_that_bypassed_it_and_reindex_mends_it(library, tmp_path):
    from sqlalchemy import create_engine, text

    assert library.console("check-index").returncode == 0
    engine = create_engine(library.database_url)
    with engine.begin() as connection:  # a raw write: no ORM, no hook
        connection.execute(text("UPDATE title SET title = '雁' WHERE id = 'M0001'"))
    engine.dispose()
    drifted = library.console("check-index", check=False)
    assert drifted.returncode == 1
    assert "stale_text: 1" in drifted.stdout
    library.console("reindex")
    assert library.console("check-index").returncode == 0
    found = json.loads(libcli(library, tmp_path, "search", "雁", "--json").stdout)
    assert [item["id"] for item in found] == ["M0001"]
