"""6. One patron cannot read, reserve for, or cancel another's reservations, favorites, loans."""

from __future__ import annotations

from tests.server.conftest import PASSWORD

A, B, C = "100000001", "100000002", "100000003"


def _a_with_everything(library):
    """Patron A with a reservation and a favorite; C holds loans (see the fixture)."""
    a = library.login(A)
    reserved = library.reserve(a, "T-NEKO").json()["reserved"][0]["reservation_id"]
    assert library.api.put("/api/v1/favorites/T-01", headers=a).status_code == 201
    return a, reserved


def test_6_status_shows_only_the_callers_reservations_and_loans(library):
    _a, _reserved = _a_with_everything(library)
    b = library.status(library.login(B))
    assert b == {"loans": [], "reservations": []}
    c = library.status(library.login(C))
    assert c["reservations"] == [] and len(c["loans"]) == 15


def test_6_favorites_are_the_callers_own(library):
    _a, _reserved = _a_with_everything(library)
    b = library.login(B)
    assert library.api.get("/api/v1/favorites", headers=b).json()["items"] == []
    gone = library.api.delete("/api/v1/favorites/T-01", headers=b)
    assert gone.status_code == 404
    a = library.login(A)
    assert [t["id"] for t in library.api.get("/api/v1/favorites", headers=a).json()["items"]] == [
        "T-01"
    ]


def test_6_cannot_cancel_another_patrons_reservation(library):
    _a, reserved = _a_with_everything(library)
    b = library.login(B)
    refused = library.api.delete(f"/api/v1/reservations/{reserved}", headers=b)
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert [r["reservation_id"] for r in library.status(library.login(A))["reservations"]] == [
        reserved
    ]


def test_6_cannot_reserve_for_another_patron(library):
    b = library.login(B)
    for extra in ({"card": A}, {"patron": A}):
        response = library.reserve(b, "T-02", **extra)
        assert response.status_code == 422, extra
    assert library.status(library.login(A))["reservations"] == []
    assert library.status(b)["reservations"] == []


def test_6_account_routes_act_on_the_caller_only(library):
    b = library.login(B)
    email = library.api.put(
        "/api/v1/me/email",
        headers=b,
        json={"email": "taro@example.com", "current_password": PASSWORD, "card": A},
    )
    assert email.status_code == 422  # no way to name another card
    library.api.put(
        "/api/v1/me/password",
        headers=b,
        json={"current_password": PASSWORD, "new_password": "b changes only b"},
    )
    library.login(A)  # A's password is untouched
    assert library.api.get("/api/v1/me", headers=library.login(A)).json()["email"] == (
        "hanako@example.com"
    )


def test_6_every_patron_route_needs_a_token(library):
    schema = library.api.get("/openapi.json").json()
    public = {
        ("get", "/api/v1/health"),
        ("get", "/api/v1/library"),
        ("get", "/api/v1/catalog/search"),
        ("get", "/api/v1/catalog/titles/{title_id}"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/password-reset"),
        ("post", "/api/v1/password-reset/confirm"),
        ("get", "/health"),
        ("get", "/health/ready"),
        # the calendar feed's credential is the secret in its URL (checked below)
        ("get", "/api/v1/calendar/{secret}.ics"),
    }
    unknown_feed = library.api.get("/api/v1/calendar/" + "A" * 43 + ".ics")
    assert unknown_feed.status_code == 404
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if (method, path) in public:
                continue
            concrete = path.replace("{title_id}", "T-NEKO").replace("{reservation_id}", "1")
            response = library.api.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path)
            checked += 1
    assert checked >= 8
