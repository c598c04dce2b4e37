"""The patron's own settings: who am I, password (R16), email address (R15), reminders."""

from __future__ import annotations

from fastapi import APIRouter, Response

from libcli.server.api import schemas
from libcli.server.api.deps import ClientAddress, Config, CurrentPatron, Db
from libcli.server.service import accounts, reminders

router = APIRouter(tags=["account"])


@router.get("/me", response_model=schemas.MeOut)
def me(caller: CurrentPatron):
    return {
        "card": caller.card,
        "name": caller.name,
        "email": caller.email,
        "phone": caller.phone,
        "session_expires_at": caller.session_expires_at.isoformat(),
    }


@router.put("/me/password", status_code=204, response_class=Response)
def change_password(
    body: schemas.PasswordChange,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
    client: ClientAddress,
):
    accounts.change_password(
        db,
        settings,
        caller.card,
        body.current_password,
        body.new_password,
        keep_session=caller.token_hash,
        client=client,
    )


@router.put("/me/email", response_model=schemas.PatronOut)
def change_email(
    body: schemas.EmailChange,
    caller: CurrentPatron,
    db: Db,
    settings: Config,
    client: ClientAddress,
):
    patron = accounts.change_email(
        db, settings, caller.card, body.email, body.current_password, client=client
    )
    return {"card": patron.card, "name": patron.name, "email": patron.email, "phone": patron.phone}


@router.put("/me/reminders", response_model=schemas.RemindersOut)
def set_reminders(body: schemas.RemindersChange, caller: CurrentPatron, db: Db, settings: Config):
    """Opt in to (or out of) reminder mails before a due date and on the first overdue day."""
    with db.write() as session:
        return reminders.set_reminders(session, settings, caller.card, body.reminders)
