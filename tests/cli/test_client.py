"""The HTTP client against a mocked server (responses): headers, retries, error mapping."""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers

from libcli import errors
from libcli.client import LibraryClient, ensure_safe_url, make_session
from libcli.exit_codes import ExitCode
from tests.cli.conftest import API, SERVER, problem, title


@pytest.fixture
def client():
    return LibraryClient(SERVER, token="secret-token", lang="ja", session=make_session(backoff=0))


def test_requests_carry_user_agent_language_and_bearer_token(http, client):
    http.get(
        API + "/me",
        json={"card": "123456789"},
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer secret-token", "Accept-Language": "ja"}
            )
        ],
    )
    assert client.me() == {"card": "123456789"}
    assert http.calls[0].request.headers["User-Agent"].startswith("libcli/")


def test_public_routes_send_no_token(http, client):
    http.post(API + "/auth/login", json={"token": "t", "patron": {}})
    client.login("123456789", "pw")
    assert "Authorization" not in http.calls[0].request.headers


def test_search_passes_query_type_and_paging(http, client):
    http.get(
        API + "/catalog/search",
        json={"items": [title("T1")], "total": 1},
        match=[
            matchers.query_param_matcher({"q": "村上", "type": "book", "limit": "5", "offset": "0"})
        ],
    )
    assert client.search("村上", type="book", limit=5)["total"] == 1


@pytest.mark.parametrize(
    ("code", "status", "cls", "exit_code"),
    [
        ("auth_required", 401, errors.AuthError, ExitCode.AUTH),
        ("invalid_credentials", 401, errors.AuthError, ExitCode.AUTH),
        ("wrong_password", 403, errors.AuthError, ExitCode.AUTH),
        ("not_found", 404, errors.NotFoundError, ExitCode.NOT_FOUND),
        ("invalid_request", 422, errors.InvalidRequestError, ExitCode.USAGE),
        ("weak_password", 422, errors.RefusedError, ExitCode.REFUSED),
        ("invalid_token", 400, errors.AuthError, ExitCode.AUTH),
        ("email_required", 422, errors.RefusedError, ExitCode.REFUSED),
        ("ready_cannot_cancel", 409, errors.RefusedError, ExitCode.REFUSED),
        ("rate_limited", 429, errors.RefusedError, ExitCode.REFUSED),
        ("busy", 503, errors.ServerError, ExitCode.UNREACHABLE),
        ("something_new", 409, errors.RefusedError, ExitCode.REFUSED),
    ],
)
def test_problem_json_maps_to_typed_error_with_code(http, client, code, status, cls, exit_code):
    http.delete(API + "/reservations/7", **problem(code, status))
    with pytest.raises(cls) as info:
        client.cancel("7")
    assert info.value.code == code
    assert info.value.exit_code == exit_code


def test_ready_cannot_cancel_carries_the_phone_number(http, client):
    http.delete(
        API + "/reservations/7", **problem("ready_cannot_cancel", 409, phone="0178-22-0266")
    )
    with pytest.raises(errors.RefusedError) as info:
        client.cancel("7")
    assert "0178-22-0266" in info.value.message()


def test_unknown_code_falls_back_on_the_servers_message_in_the_patrons_language(http, client):
    from libcli import i18n

    i18n.set_language("ja")
    http.get(API + "/status", **problem("brand_new_rule", 409))
    with pytest.raises(errors.ApiError) as info:
        client.status()
    assert info.value.message() == "brand_new_rule（日本語）"


def test_connection_refused_is_unreachable():
    client = LibraryClient("http://127.0.0.1:9", session=make_session(retries=0))
    with pytest.raises(errors.UnreachableError) as info:
        client.library()
    assert info.value.exit_code == ExitCode.UNREACHABLE
    assert info.value.code == "unreachable"


def test_timeout_is_unreachable(http, client):
    http.get(API + "/status", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(errors.UnreachableError) as info:
        client.status()
    assert info.value.code == "timeout"


def test_5xx_without_problem_is_a_server_error(http, client):
    http.post(API + "/reservations", status=500, body="oops")
    with pytest.raises(errors.ServerError) as info:
        client.reserve(["T1"], pickup="main", contact="none", email_confirmation=False)
    assert info.value.exit_code == ExitCode.UNREACHABLE


def test_non_json_answer_is_reported_not_crashed(http, client):
    http.get(API + "/status", body="<html>proxy</html>", content_type="text/html")
    with pytest.raises(errors.ApiError) as info:
        client.status()
    assert info.value.code == "bad_response"


def test_get_is_retried_on_503(http, client):
    http.get(API + "/status", status=503)
    http.get(API + "/status", json={"loans": [], "reservations": []})
    assert client.status() == {"loans": [], "reservations": []}
    assert len(http.calls) == 2


def test_post_is_never_retried(http, client):
    http.post(API + "/reservations", status=503, json={"code": "busy"})
    with pytest.raises(errors.ServerError):
        client.reserve(["T1"], pickup="main", contact="none", email_confirmation=False)
    assert len(http.calls) == 1


def test_stale_token_on_a_public_read_retries_anonymously(http, client):
    http.get(API + "/catalog/titles/T1", **problem("auth_required", 401))
    http.get(API + "/catalog/titles/T1", json=title("T1"))
    assert client.title("T1")["id"] == "T1"
    assert "Authorization" not in http.calls[1].request.headers


def test_path_segments_are_quoted(http, client):
    http.put(API + "/favorites/a%2Fb", status=204)
    client.add_favorite("a/b")
    assert http.calls[0].request.url.endswith("/favorites/a%2Fb")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "https://lib.example"],
)
def test_safe_urls(url):
    assert ensure_safe_url(url) == url


def test_plain_http_to_another_host_needs_insecure():
    with pytest.raises(errors.UsageProblem) as info:
        ensure_safe_url("http://library.example")
    assert info.value.code == "insecure_url"
    assert ensure_safe_url("http://library.example", insecure=True) == "http://library.example"


def test_tls_is_verified():
    assert make_session().verify is True


@responses.activate
def test_retry_after_is_honoured_for_get(monkeypatch):
    responses.get(API + "/library", status=503, headers={"Retry-After": "0"})
    responses.get(API + "/library", json={"phone": "0178-22-0266"})
    client = LibraryClient(SERVER, session=make_session(backoff=0))
    assert client.library()["phone"] == "0178-22-0266"
