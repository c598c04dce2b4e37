"""The FastAPI application."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from libcli import __version__
from libcli.server import logs, web
from libcli.server.api import (
    account,
    auth,
    calendar,
    catalog,
    events,
    favorites,
    loans,
    problems,
    reservations,
    schemas,
    suspension,
)
from libcli.server.api.deps import refuse_malformed_input
from libcli.server.db.session import Database
from libcli.server.errors import LibraryError
from libcli.server.settings import Settings

API_PREFIX = "/api/v1"


def _problems(*statuses: int) -> dict:
    """OpenAPI `responses` for the problem+json answers a group of routes can give."""
    return {
        status: {"model": schemas.Problem, "content": {problems.PROBLEM: {}}} for status in statuses
    }


# What each group of routes may answer besides success; every route may also answer
# 422 (malformed input) and 503 (database busy).
ROUTE_PROBLEMS = {
    auth: _problems(400, 401, 429),
    account: _problems(401, 403),
    catalog: _problems(404),
    favorites: _problems(401, 404),
    reservations: _problems(401, 404, 409),
    loans: _problems(401),
    suspension: _problems(401, 404, 409),
    calendar: _problems(401, 404),
    events: _problems(401),
}


def library_info(settings: Settings) -> dict:
    """The library's profile as clients need it: `libcli` validates and completes the pickup
    point and contact method from it (and caches it)."""
    profile = settings.profile
    return {
        "name": {"ja": profile.name_ja, "en": profile.name_en},
        "phone": profile.phone,
        "reservation_limit": profile.reservation_limit,
        "hold_days": profile.hold_days,
        "points": [
            {
                "code": p.code,
                "name": {"ja": p.name_ja, "en": p.name_en},
                "short_names": list(p.short_names),
            }
            for p in profile.points
        ],
        "contact_methods": list(profile.contact_methods),
        "online_types": list(profile.online_types),
    }


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    app = FastAPI(
        title="libcli-server",
        version=__version__,
        description="The internet reservation service of " + settings.profile.name_en,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    problems.install(app)

    api = APIRouter(
        prefix=API_PREFIX,
        responses=_problems(422, 503),
        dependencies=[Depends(refuse_malformed_input)],
    )

    @api.get("/health", tags=["service"])
    def api_health():
        return {"status": "ok"}

    @api.get("/library", tags=["service"], response_model=schemas.LibraryOut)
    def library():
        return library_info(settings)

    for module, responses in ROUTE_PROBLEMS.items():
        api.include_router(module.router, responses=responses)
    app.include_router(api)

    @app.get("/health", tags=["service"])
    async def health():
        """Liveness: the process answers (touches nothing else)."""
        return {"status": "ok"}

    @app.get("/health/ready", tags=["service"], responses=_problems(503))
    def ready():
        """Readiness: the database answers a query."""
        if not app.state.db.answers():
            raise LibraryError("unavailable")
        return {"status": "ready"}

    web.install(app)  # the HTML pages behind the mail links (R17, R18)
    app.add_middleware(logs.RequestLog, settings=settings)
    return app


def app_from_env() -> FastAPI:
    """The app for uvicorn's factory mode (one per worker), configured by LIBCLI_SERVER_*."""
    from libcli.server.settings import load_settings

    logs.configure()
    return create_app(load_settings())  # serve checked them before starting the workers
