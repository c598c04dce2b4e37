"""The patron pages (HTML) behind the links in the library's mails (R17, R18)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from libcli.server.web.pages import STATIC_DIR, router

__all__ = ["STATIC_DIR", "install", "router"]


def install(app: FastAPI) -> None:
    """Add the pages and their stylesheet (under /static) to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
