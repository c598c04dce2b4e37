"""Login, logout and the forgotten password (R1, R17)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from libcli.server.api import schemas
from libcli.server.api.deps import ClientAddress, Config, CurrentPatron, Db
from libcli.server.service import accounts

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=schemas.LoginResponse)
def login(body: schemas.LoginRequest, db: Db, settings: Config, client: ClientAddress):
    token, row, patron = accounts.login(db, settings, body.card, body.password, client=client)
    return {
        "token": token,
        "expires_at": row.expires_at.isoformat(),
        "patron": {"card": patron.card, "name": patron.name, "email": patron.email},
    }


@router.post("/auth/logout", status_code=204, response_class=Response)
def logout(caller: CurrentPatron, db: Db):
    with db.write() as session:
        accounts.logout_hash(session, caller.token_hash)


@router.post("/password-reset", status_code=202, response_model=schemas.Accepted)
def request_reset(
    body: schemas.ResetRequest,
    db: Db,
    settings: Config,
    client: ClientAddress,
    after: BackgroundTasks,
):
    # R17: the same answer, after the same work, whether or not card and address matched;
    # the lookup and the link run once the answer has gone out.
    after.add_task(
        accounts.request_password_reset(db, settings, body.card, body.email, client=client)
    )
    return {"status": "accepted"}


@router.post("/password-reset/confirm", status_code=204, response_class=Response)
def confirm_reset(body: schemas.ResetConfirm, db: Db, settings: Config):
    accounts.reset_password(db, settings, body.token, body.new_password)
