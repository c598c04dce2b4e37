"""Loans: renewal (延長)."""

from __future__ import annotations

from fastapi import APIRouter

from libcli.server.api import schemas
from libcli.server.api.deps import Config, CurrentPatron, Db
from libcli.server.errors import LibraryError
from libcli.server.service import loans

router = APIRouter(tags=["loans"])


@router.post("/loans/renewals", response_model=schemas.RenewResponse)
def renew(body: schemas.RenewRequest, caller: CurrentPatron, db: Db, settings: Config):
    """Renew the loans named by barcode (or all of them): each renewed or skipped with a
    reason (`overdue`, `renewal_limit`, `reserved_by_others`, `not_found`)."""
    if not body.all and not body.barcodes:
        raise LibraryError("invalid_request", "name barcodes, or all")
    with db.write() as session:
        return loans.renew(session, settings, caller.card, None if body.all else body.barcodes)
