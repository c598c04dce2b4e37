"""The one output path: `--json` / `--json FIELDS` from each command's view, tables fitted to
the terminal by display width, TSV when piped."""

from __future__ import annotations

import json

import pytest

from libcli import views
from libcli.exit_codes import ExitCode
from libcli.textwidth import display_width, shorten, wrap
from tests.cli.conftest import API, title

LONG = "吾輩は猫である 上篇 夏目漱石の最初の長編小説にして明治三十八年の作品を収めた決定版"


def test_every_data_command_has_the_same_json_option(run):
    for args in (
        ["whoami"],
        ["search"],
        ["show"],
        ["fav", "list"],
        ["reserve"],
        ["status"],
        ["cancel"],
        ["config", "list"],
    ):
        out = run(*args, "--help").stdout
        assert "--json [FIELDS]" in out, args


def test_json_fields_picks_keys_in_the_views_order(run, http, memory_keyring):
    http.get(API + "/catalog/search", json={"items": [title("T1"), title("T2")], "total": 2})
    result = run("search", "x", "--json", "title,id")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"id": "T1", "title": "Title T1"},
        {"id": "T2", "title": "Title T2"},
    ]


def test_json_fields_apply_to_every_part_of_a_view(run, http, logged_in):
    http.get(
        API + "/status",
        json={
            "loans": [{"barcode": "B1", "id": "T9", "title": "貸出本", "due_date": "2025-01-15"}],
            "reservations": [{"reservation_id": 5, "id": "T1", "title": "t", "status": "ready"}],
        },
    )
    data = json.loads(run("status", "--json=id,status").stdout)
    assert data == {"loans": [{"id": "T9"}], "reservations": [{"id": "T1", "status": "ready"}]}


def test_a_word_after_json_that_names_no_field_is_the_commands_own(run, http, memory_keyring):
    http.get(API + "/catalog/search", json={"items": [title("T1")], "total": 1})
    result = run("search", "--json", "夏目")
    assert result.exit_code == 0, result.stderr
    assert list(json.loads(result.stdout)[0]) == list(views.SEARCH.fields)
    assert http.calls[0].request.params["q"] == "夏目"


def test_unknown_json_field_is_a_usage_error_that_lists_the_fields(run, http, memory_keyring):
    result = run("search", "x", "--json=id,colour")
    assert result.exit_code == ExitCode.USAGE
    assert "'colour'" in result.stderr and ",".join(views.SEARCH.fields) in result.stderr
    assert len(http.calls) == 0


def test_docs_list_the_json_keys_of_every_view():
    from tests.cli.test_docs import ROOT, load_script

    assert load_script("gen_docs").main(["--check"]) == 0
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for view in views.all_views():
        assert f"| `libcli {view.command}` |" in doc
        assert all(f"`{key}`" in doc for key in view.fields)


SEARCH_ITEMS = [
    title("T1", title=LONG),
    title("T2", title="こころ", reservable=False, reason="on_shelf"),
]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("columns", [60, 80, 100])
def test_search_table_fits_the_terminal(run, http, memory_keyring, tty, columns, lang):
    http.get(API + "/catalog/search", json={"items": SEARCH_ITEMS, "total": 2})
    out = run("--lang", lang, "search", "x", env={"COLUMNS": str(columns)}).stdout
    lines = out.splitlines()
    assert len(lines) == 4 and "T1" in out and "T2" in out
    assert max(display_width(line) for line in lines) <= columns
    assert "…" in lines[2]  # the long title was shortened, wide characters counted as two


def test_search_table_shows_whole_titles_when_they_fit(run, http, memory_keyring, tty):
    http.get(API + "/catalog/search", json={"items": SEARCH_ITEMS, "total": 2})
    out = run("--lang", "ja", "search", "x", env={"COLUMNS": "250"}).stdout
    assert LONG in out and "…" not in out


def test_a_terminal_too_narrow_for_the_ids_shortens_what_it_can(run, http, memory_keyring, tty):
    http.get(API + "/catalog/search", json={"items": SEARCH_ITEMS, "total": 2})
    out = run("--lang", "ja", "search", "x", env={"COLUMNS": "30"}).stdout
    assert "T1" in out and "…" in out  # ids and numbers stay whole


def test_status_table_at_60_columns_keeps_ids_whole(run, http, logged_in, tty):
    http.get(
        API + "/status",
        json={
            "loans": [{"barcode": "C000123", "id": "T9", "title": LONG, "due_date": "2025-01-15"}],
            "reservations": [
                {
                    "reservation_id": 4711,
                    "id": "T1",
                    "title": LONG,
                    "status": "waiting",
                    "position": 3,
                    "pickup": "center",
                    "contact": "voicemail",
                }
            ],
        },
    )
    out = run("--lang", "ja", "status", env={"COLUMNS": "60"}).stdout
    assert max(display_width(line) for line in out.splitlines()) <= 60
    assert "C000123" in out and "4711" in out and "2025-01-15" in out


def test_piped_output_is_whole_tab_separated_rows(run, http, memory_keyring):
    http.get(API + "/catalog/search", json={"items": [title("T1", title=LONG)], "total": 1})
    (line,) = run("search", "x", env={"COLUMNS": "40"}).stdout.splitlines()
    assert line.split("\t")[:2] == ["T1", LONG]


def test_display_width_counts_wide_characters_twice():
    assert display_width("abc") == 3
    assert display_width("八戸") == 4
    assert display_width("ＡＢ") == 4  # full-width forms
    assert display_width("e\u0301") == 1  # a combining accent takes no column


def test_shorten_ends_in_an_ellipsis_within_the_width():
    assert shorten("こころ", 6) == "こころ"
    cut = shorten(LONG, 11)
    assert cut.endswith("…") and display_width(cut) <= 11


def test_wrap_breaks_japanese_between_characters_but_not_before_closing_punctuation():
    text = "予約できなかった資料があれば終了コード5で終了します。取消は図書館へ。"
    lines = wrap(text, 20)
    assert "".join(lines) == text
    assert all(display_width(line) <= 20 for line in lines)
    assert not any(line.startswith(("。", "、")) for line in lines)
    assert wrap("use --yes to go ahead", 12) == ["use --yes to", "go ahead"]
