"""The pages behind the links in the library's mails: password reset (R17) and usage
status with cancelling (R11, R12, R18), server-rendered for any browser.

The rules stay in the service layer; these routes only ask it and show its verdict
in the page language. Every link and form target is a path on this site: nothing is
built from the request's Host header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from libcli.server.api.deps import ClientAddress, Config, Db
from libcli.server.errors import LibraryError, message
from libcli.server.i18n import N_, _
from libcli.server.profile import contact_name
from libcli.server.rules.holds import can_cancel_online
from libcli.server.service import accounts, reservations
from libcli.server.settings import Settings
from libcli.server.web import guard
from libcli.server.web.texts import (
    DEFAULT_LANG,
    STATE_NAMES,
    SWITCH_TO,
    date_text,
    pick_lang,
)

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC_DIR = HERE / "static"

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
NOTICES = {  # ?notice= → what the page says
    "cancelled": N_("The reservation has been cancelled."),
    "logged_out": N_("You have logged out."),
    "renewed": N_("The loan has been renewed."),
}
# Pages hold personal data or single-use tokens: never cached, framed or referred on.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


# -- helpers ---------------------------------------------------------------------------


def page_lang(request: Request, form_lang: str | None = None) -> str:
    """?lang=, then the form's hidden field, then the remembered choice, then Japanese."""
    return (
        pick_lang(request.query_params.get("lang"))
        or pick_lang(form_lang)
        or pick_lang(request.cookies.get(guard.LANG_COOKIE))
        or DEFAULT_LANG
    )


def _href(path: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def _harden(response: Response, request: Request, settings: Settings, lang: str) -> Response:
    response.headers.update(SECURITY_HEADERS)
    chosen = pick_lang(request.query_params.get("lang"))
    if chosen and chosen != pick_lang(request.cookies.get(guard.LANG_COOKIE)):
        guard.set_lang_cookie(response, request, settings, lang)
    return response


def render(
    request: Request,
    settings: Settings,
    template: str,
    lang: str,
    *,
    switch: str,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """A page in `lang`; `switch` is the same page's path+query, without lang."""
    profile = settings.profile
    other = "en" if lang == "ja" else "ja"
    joiner = "&" if "?" in switch else "?"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "other_lang": other,
            "switch_href": f"{switch}{joiner}lang={other}",
            "switch_name": SWITCH_TO[other][0],
            "switch_label": SWITCH_TO[other][1],
            "_": lambda message, **values: _(message, lang).format(**values),
            "date": lambda day: date_text(lang, day),
            "library_name": profile.name(lang),
            "phone": profile.phone,
            "phone_uri": "tel:" + "".join(ch for ch in profile.phone if ch.isdigit()),
            **context,
        },
        status_code=status_code,
    )
    return _harden(response, request, settings, lang)


def redirect(request: Request, settings: Settings, path: str, lang: str) -> RedirectResponse:
    # A relative Location: the browser stays on the host it used, whatever Host said.
    return _harden(RedirectResponse(path, status_code=303), request, settings, lang)


# -- the password reset page (R17) -----------------------------------------------------


def _reset_page(request, settings, lang, token, state, *, error=None, status_code=200):
    if state != "ok":
        status_code = 400
    return render(
        request,
        settings,
        "reset.html",
        lang,
        switch=_href("/reset", token=token),
        status_code=status_code,
        token=token,
        state=state,
        error=error,
        minutes=settings.reset_token_minutes,
        message_invalid=message("invalid_token", lang),
    )


@router.get("/reset", response_class=HTMLResponse)
def reset_form(request: Request, db: Db, settings: Config, token: str = ""):
    lang = page_lang(request)
    state = accounts.reset_link_state(db, token, settings.now())
    return _reset_page(request, settings, lang, token, state)


@router.post("/reset", response_class=HTMLResponse)
def reset_submit(
    request: Request,
    db: Db,
    settings: Config,
    token: FormText = "",
    password: FormText = "",
    password_again: FormText = "",
    lang: FormText = "",
):
    lang = page_lang(request, lang)
    state = accounts.reset_link_state(db, token, settings.now())
    if state != "ok":
        return _reset_page(request, settings, lang, token, state)
    if password != password_again:
        error = _("The two passwords are not the same: please type them again.", lang)
        return _reset_page(request, settings, lang, token, state, error=error, status_code=422)
    try:
        accounts.reset_password(db, settings, token, password)
    except LibraryError as refusal:
        if refusal.code == "invalid_token":  # used or expired a moment ago
            return _reset_page(
                request, settings, lang, token, accounts.reset_link_state(db, token, settings.now())
            )
        error = message(refusal.code, lang)
        return _reset_page(request, settings, lang, token, state, error=error, status_code=422)
    response = render(request, settings, "reset_done.html", lang, switch="/status")
    # Every session ended with the reset, this browser's included.
    guard.clear_session_cookie(response, request, settings)
    return response


@router.get("/reset/request", response_class=HTMLResponse)
def forgot_form(request: Request, settings: Config):
    lang = page_lang(request)
    return render(request, settings, "forgot.html", lang, switch="/reset/request", sent=False)


@router.post("/reset/request", response_class=HTMLResponse)
def forgot_submit(
    request: Request,
    db: Db,
    settings: Config,
    client: ClientAddress,
    after: BackgroundTasks,
    card: FormText = "",
    email: FormText = "",
    lang: FormText = "",
):
    lang = page_lang(request, lang)
    # R17: the same answer, after the same work, whether or not the card and the address
    # matched; the lookup and the link run once the page has gone out.
    try:
        after.add_task(accounts.request_password_reset(db, settings, card, email, client=client))
    except LibraryError as refusal:
        return render(
            request,
            settings,
            "forgot.html",
            lang,
            switch="/reset/request",
            sent=False,
            error=message(refusal.code, lang),
            status_code=refusal.status,
        )
    return render(request, settings, "forgot.html", lang, switch="/reset/request", sent=True)


# -- the status page (R11, R12, R18) ---------------------------------------------------


def _login_page(request, settings, lang, *, error=None, notice=None, card="", status_code=200):
    csrf, fresh = guard.login_csrf(request)
    response = render(
        request,
        settings,
        "login.html",
        lang,
        switch="/status",
        status_code=status_code,
        csrf=csrf,
        error=error,
        notice=notice,
        card=card,
    )
    if fresh:
        guard.set_login_csrf_cookie(response, request, settings, csrf)
    return response


def _reservation_view(r: dict, lang: str, settings: Settings) -> dict:
    status = r["status"]
    if status == "waiting" and r.get("position"):
        state = _("Waiting (No. {position} in the queue)", lang).format(position=r["position"])
    elif status == "ready" and r.get("pickup_deadline"):
        state = _("Ready for pickup (until {date})", lang).format(
            date=date_text(lang, r["pickup_deadline"])
        )
    else:
        state = _(STATE_NAMES.get(status, STATE_NAMES["waiting"]), lang)
    try:
        pickup = settings.profile.point(r["pickup"]).name(lang)
    except KeyError:
        pickup = r["pickup"]
    return {
        **r,
        "state_text": state,
        "pickup_name": pickup,
        "contact_name": contact_name(r["contact"], lang),
        "can_cancel": can_cancel_online(status),  # R12
    }


def _status_page(
    request, db, settings, lang, who, *, error=None, notice=None, status_code=200, **extra
):
    with db.read() as session:
        data = reservations.status(session, settings, who.card)
    loans = data["loans"]  # each with `overdue` and `renewals_left`
    return render(
        request,
        settings,
        "status.html",
        lang,
        switch="/status",
        status_code=status_code,
        who=who,
        loans=loans,
        reservations=[_reservation_view(r, lang, settings) for r in data["reservations"]],
        error=error,
        notice=notice,
        **extra,
    )


@router.get("/", include_in_schema=False)
def home(request: Request, settings: Config):
    return redirect(request, settings, "/status", page_lang(request))


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, db: Db, settings: Config, notice: str = ""):
    lang = page_lang(request)
    notice_text = _(NOTICES[notice], lang) if notice in NOTICES else None
    who = guard.current_session(request, db, settings)
    if who is None:
        return _login_page(request, settings, lang, notice=notice_text)
    return _status_page(request, db, settings, lang, who, notice=notice_text)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: Db,
    settings: Config,
    client: ClientAddress,
    card: FormText = "",
    password: FormText = "",
    csrf: FormText = "",
    lang: FormText = "",
):
    lang = page_lang(request, lang)
    card = card.strip()
    if not guard.same(csrf, request.cookies.get(guard.LOGIN_CSRF_COOKIE)):
        error = _("This page has expired: please try again (cookies must be enabled).", lang)
        return _login_page(request, settings, lang, error=error, card=card, status_code=403)
    try:
        token, _row, _patron = accounts.login(db, settings, card, password, client=client)
    except LibraryError as refusal:
        error = message(refusal.code, lang)
        return _login_page(
            request, settings, lang, error=error, card=card, status_code=refusal.status
        )
    response = redirect(request, settings, "/status", lang)
    guard.set_session_cookie(response, request, settings, token)
    response.delete_cookie(guard.LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout_submit(
    request: Request, db: Db, settings: Config, csrf: FormText = "", lang: FormText = ""
):
    lang = page_lang(request, lang)
    who = guard.current_session(request, db, settings)
    if who is not None:
        if not guard.same(csrf, who.csrf):
            error = _("This page has expired: please try again (cookies must be enabled).", lang)
            return _status_page(request, db, settings, lang, who, error=error, status_code=403)
        with db.write() as session:
            accounts.logout_hash(session, who.token_hash)
    response = redirect(request, settings, "/status?notice=logged_out", lang)
    guard.clear_session_cookie(response, request, settings)
    return response


@router.post("/status/cancel", response_class=HTMLResponse)
def cancel_submit(
    request: Request,
    db: Db,
    settings: Config,
    reservation: FormText = "",
    csrf: FormText = "",
    confirm: FormText = "",
    lang: FormText = "",
):
    """R12: the first press asks to confirm; the second cancels (until 受取可)."""
    lang = page_lang(request, lang)
    who = guard.current_session(request, db, settings)
    if who is None:
        return _login_page(request, settings, lang, error=message("auth_required", lang))
    if not guard.same(csrf, who.csrf):
        error = _("This page has expired: please try again (cookies must be enabled).", lang)
        return _status_page(request, db, settings, lang, who, error=error, status_code=403)
    with db.read() as session:
        mine = reservations.status(session, settings, who.card)["reservations"]
    chosen = next((r for r in mine if str(r["reservation_id"]) == reservation.strip()), None)
    if chosen is None:
        error = message("not_found", lang)
        return _status_page(request, db, settings, lang, who, error=error, status_code=404)
    if confirm != "yes" and can_cancel_online(chosen["status"]):
        return render(
            request,
            settings,
            "cancel.html",
            lang,
            switch="/status",
            who=who,
            reservation=_reservation_view(chosen, lang, settings),
        )
    try:
        with db.write() as session:
            reservations.cancel(session, settings, who.card, chosen["reservation_id"])
    except LibraryError as refusal:
        return _status_page(
            request,
            db,
            settings,
            lang,
            who,
            error=message(refusal.code, lang),
            status_code=refusal.status,
            phone_hint=refusal.code == "ready_cannot_cancel",
        )
    return redirect(request, settings, "/status?notice=cancelled", lang)


@router.post("/status/renew", response_class=HTMLResponse)
def renew_submit(
    request: Request,
    db: Db,
    settings: Config,
    barcode: FormText = "",
    csrf: FormText = "",
    lang: FormText = "",
):
    """Renew one loan (延長): done at once, or the refusal shown above the loans."""
    from libcli.server.service import loans

    lang = page_lang(request, lang)
    who = guard.current_session(request, db, settings)
    if who is None:
        return _login_page(request, settings, lang, error=message("auth_required", lang))
    if not guard.same(csrf, who.csrf) or not barcode.strip():
        error = _("This page has expired: please try again (cookies must be enabled).", lang)
        return _status_page(request, db, settings, lang, who, error=error, status_code=403)
    with db.write() as session:
        result = loans.renew(session, settings, who.card, [barcode.strip()])
    if result["skipped"]:
        code = result["skipped"][0]["reason"]
        status_code = 404 if code == "not_found" else 409
        error = message(code, lang)
        return _status_page(request, db, settings, lang, who, error=error, status_code=status_code)
    return redirect(request, settings, "/status?notice=renewed", lang)
