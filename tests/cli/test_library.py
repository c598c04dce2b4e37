"""The library's points and contact methods come from the server (GET /library), kept in the
cache: checks, names and TAB follow another library's profile; the built-in list is only
the fallback of a machine that never asked."""

from __future__ import annotations

import json
import time

from responses import matchers

from libcli import cache
from libcli.exit_codes import ExitCode
from tests.cli.conftest import API, CARD, TOKEN, title

MINATO = {
    "name": {"ja": "みなと市立図書館", "en": "Minato City Library"},
    "phone": "0120-000-000",
    "reservation_limit": 5,
    "hold_days": 7,
    "points": [
        {"code": "honkan", "name": {"ja": "みなと中央図書館", "en": "Minato Central Library"}},
        {"code": "kita", "name": {"ja": "北分館", "en": "North Branch"}},
    ],
    "contact_methods": ["email", "none"],
    "online_types": ["book"],
}


def minato_cache(profile: str = "default") -> None:
    cache.update(
        profile,
        points=[{"id": p["code"], "name": p["name"]} for p in MINATO["points"]],
        contact_methods=[{"id": m} for m in MINATO["contact_methods"]],
    )


def reserve_kita(http) -> None:
    http.get(API + "/catalog/titles/T1", json=title("T1"))
    http.post(
        API + "/reservations",
        json={"reserved": [{"reservation_id": 3, "id": "T1", "title": "t", "position": 1}]},
        match=[
            matchers.json_params_matcher(
                {"title_ids": ["T1"], "pickup": "kita", "contact": "email"}, strict_match=False
            )
        ],
    )


def test_login_keeps_the_librarys_points_and_contact_methods(run, http, memory_keyring):
    http.post(API + "/auth/login", json={"token": TOKEN, "patron": {"name": "N"}})
    http.get(API + "/library", json=MINATO)
    assert run("login", CARD, "--password-stdin", input="pw\n").exit_code == 0
    assert [e["id"] for e in cache.entries("default", "points")] == ["honkan", "kita"]
    assert [e["id"] for e in cache.entries("default", "contact_methods")] == ["email", "none"]


def test_reserve_takes_a_point_of_the_cached_library_by_code_or_name(run, http, logged_in):
    minato_cache()
    reserve_kita(http)
    result = run("reserve", "T1", "--pickup", "北分館", "--contact", "email", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert "North Branch" in result.stderr  # the server's name for it, in the patron's language


def test_a_point_the_library_does_not_have_is_refused_before_anything_is_sent(run, http, logged_in):
    minato_cache()
    http.get(API + "/library", json=MINATO)  # asked once more before refusing
    result = run("reserve", "T1", "--pickup", "main", "--contact", "email", "--yes")
    assert result.exit_code == ExitCode.USAGE
    assert "honkan, kita" in result.stderr
    assert [c.request.url for c in http.calls] == [API + "/library"]


def test_a_contact_method_the_library_does_not_offer_is_refused(run, http, logged_in):
    minato_cache()
    http.get(API + "/library", json=MINATO)
    result = run("reserve", "T1", "--pickup", "kita", "--contact", "phone", "--yes")
    assert result.exit_code == ExitCode.USAGE
    assert "email, none" in result.stderr


def test_without_a_cache_an_unknown_point_is_asked_about_once(run, http, logged_in):
    http.get(API + "/library", json=MINATO)
    reserve_kita(http)
    result = run("reserve", "T1", "--pickup", "kita", "--contact", "email", "--yes")
    assert result.exit_code == 0, result.stderr
    assert [e["id"] for e in cache.entries("default", "points")] == ["honkan", "kita"]


def test_without_a_cache_or_a_server_the_built_in_points_are_the_fallback(run, logged_in):
    result = run("--server", "http://127.0.0.1:9", "config", "set", "pickup", "南郷図書館")
    assert result.exit_code == 0 and "pickup = nango" in result.stdout
    assert run("config", "set", "pickup", "kita").exit_code == ExitCode.USAGE


def test_config_checks_against_the_cached_library(run):
    minato_cache()
    assert run("config", "set", "pickup", "みなと中央図書館").stdout.startswith("pickup = honkan")
    result = run("config", "set", "contact", "phone")
    assert result.exit_code == ExitCode.USAGE and "email, none" in result.stderr


def test_help_shows_the_cached_librarys_points(run):
    minato_cache()
    out = run("reserve", "--help").stdout
    assert "[honkan|kita]" in out and "[email|none]" in out


def test_status_asks_for_the_library_again_once_a_day(run, http, logged_in):
    http.get(API + "/status", json={"loans": [], "reservations": []})
    minato_cache()
    run("status")  # the cache is fresh: no GET /library
    assert [c.request.url for c in http.calls] == [API + "/status"]

    data = cache.load("default")
    data["written"]["points"] = time.time() - 2 * 24 * 3600
    cache.cache_path("default").write_text(json.dumps(data))
    changed = {**MINATO, "points": [*MINATO["points"], {"code": "minami", "name": {"en": "S"}}]}
    http.get(API + "/library", json=changed)
    run("status")
    assert [e["id"] for e in cache.entries("default", "points")] == ["honkan", "kita", "minami"]


def test_a_garbled_library_answer_changes_nothing(run, http, logged_in):
    minato_cache()
    http.get(API + "/library", json={"points": "everywhere", "contact_methods": [1, 2]})
    run("reserve", "T1", "--pickup", "nowhere", "--contact", "email", "--yes")
    assert [e["id"] for e in cache.entries("default", "points")] == ["honkan", "kita"]


def test_logout_forgets_the_patrons_ids_and_keeps_the_librarys_points(run, http, logged_in):
    minato_cache()
    cache.update("default", favorites=[{"id": "T1", "title": "t"}])
    http.post(API + "/auth/logout", status=204)
    assert run("logout").exit_code == 0
    assert cache.entries("default", "favorites") == []
    assert [e["id"] for e in cache.entries("default", "points")] == ["honkan", "kita"]
