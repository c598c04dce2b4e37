"""Request and response bodies, as described at /openapi.json."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from libcli.server.profile import MATERIAL_TYPES
from libcli.server.rules.holds import ACTIVE

Card = Field(pattern=r"^[0-9]{9}$", min_length=9, max_length=9, examples=["100000001"])
# The library's profile says which points and contact methods there are (GET /library);
# the service checks a reservation against it, so here they are plain codes.
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
PointCode = Annotated[Code, Field(description="a service point code of GET /library `points`")]
ContactMethod = Annotated[Code, Field(description="one of GET /library `contact_methods`")]
MaterialType = Literal[MATERIAL_TYPES]  # type: ignore[valid-type]
Password = Field(min_length=1, max_length=1024)
# No control characters (NUL breaks PostgreSQL text, CR/LF would break a mail header).
TitleId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    card: str = Card
    password: str = Password


class PatronOut(BaseModel):
    card: str
    name: str
    email: str | None = None
    phone: str | None = None


class LoginResponse(BaseModel):
    token: str
    expires_at: str
    patron: PatronOut


class MeOut(PatronOut):
    session_expires_at: str


class PasswordChange(Strict):
    current_password: str = Password
    new_password: str = Password


class EmailChange(Strict):
    email: str = Field(min_length=3, max_length=254)
    current_password: str = Password


class ResetRequest(Strict):
    card: str = Card
    email: str = Field(min_length=1, max_length=254)


class ResetConfirm(Strict):
    token: str = Field(min_length=1, max_length=256)
    new_password: str = Password


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class TitleSummary(BaseModel):
    id: str
    title: str
    author: str | None = None
    publisher: str | None = None
    year: int | None = None
    type: str
    isbn: str | None = None
    copies: int
    available: int
    reservable: bool
    reason: str | None = None


class SearchResult(BaseModel):
    items: list[TitleSummary]
    total: int
    # False when `total` is an upper bound (the true number is at most it).
    total_exact: bool = True


class CopyOut(BaseModel):
    barcode: str
    point: str
    loanable: bool
    state: Literal["on_shelf", "on_loan", "in_transit", "held"]
    due_date: str | None = None


class TitleDetail(TitleSummary):
    copies: list[CopyOut]  # type: ignore[assignment]


class Favorites(BaseModel):
    items: list[TitleSummary]


class ReserveRequest(Strict):
    title_ids: list[TitleId] = Field(min_length=1, max_length=50)
    pickup: PointCode
    contact: ContactMethod
    email_confirmation: bool = False


class Reserved(BaseModel):
    reservation_id: int
    id: str
    title: str
    position: int | None = None


class Skipped(BaseModel):
    id: str
    title: str | None = None
    reason: str


class ReserveResponse(BaseModel):
    reserved: list[Reserved]
    skipped: list[Skipped]


class LoanOut(BaseModel):
    barcode: str
    id: str
    title: str
    point: str
    checked_out_on: str
    due_date: str
    overdue: bool = False
    renewals_left: int = 0


class RenewRequest(Strict):
    """The loans to renew, by the barcode of the copy in hand; `all` for every loan."""

    barcodes: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=50
    )
    all: bool = False


class Renewed(BaseModel):
    barcode: str
    title: str
    due_date: str


class RenewSkipped(BaseModel):
    barcode: str
    title: str | None = None
    reason: str


class RenewResponse(BaseModel):
    renewed: list[Renewed]
    skipped: list[RenewSkipped]


class ReservationOut(BaseModel):
    reservation_id: int
    id: str
    title: str
    status: Literal[ACTIVE]
    pickup: str
    contact: str
    via: str
    position: int | None = None
    placed_at: str
    ready_since: str | None = None
    pickup_deadline: str | None = None
    suspended_until: str | None = None  # 休止: passed over by returned copies until then


class SuspendRequest(Strict):
    until: dt.date


class StatusOut(BaseModel):
    loans: list[LoanOut]
    reservations: list[ReservationOut]


class EventOut(BaseModel):
    kind: Literal["hold_ready", "hold_expired", "due_soon", "overdue"]
    title: str
    date: str | None = None
    id: str
    reservation_id: int | None = None
    pickup: str | None = None
    pickup_deadline: str | None = None
    barcode: str | None = None


class EventsOut(BaseModel):
    events: list[EventOut]


class PointOut(BaseModel):
    code: str
    name: dict[str, str]
    short_names: list[str] = []


class LibraryOut(BaseModel):
    name: dict[str, str]
    phone: str
    reservation_limit: int
    hold_days: int
    points: list[PointOut]
    contact_methods: list[str]
    online_types: list[str]


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str | None = None
    messages: dict[str, str]
    retry_after: int | None = None  # rate_limited, busy (also the Retry-After header)
    phone: str | None = None  # ready_cannot_cancel
    errors: list[dict] | None = None  # invalid_request


class CalendarFeedOut(BaseModel):
    url: str  # the secret feed URL: whoever holds it reads the patron's dates


class CalendarFeedRevoked(BaseModel):
    revoked: bool  # False: there was no feed


class RemindersChange(Strict):
    reminders: bool


class RemindersOut(BaseModel):
    reminders: bool
    days: int  # the reminder comes this many days before a due date
    email: str | None
