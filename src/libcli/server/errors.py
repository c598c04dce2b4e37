"""The service's refusals: one stable code each, with the words for people in ja and en."""

from __future__ import annotations

MESSAGES: dict[str, tuple[int, str, str]] = {
    # code: (HTTP status, Japanese, English)
    "auth_required": (
        401,
        "ログインが必要です。ログインしてください。",
        "Please log in.",
    ),
    "invalid_credentials": (
        401,
        "利用者カードの番号またはパスワードが違います。",
        "The card number or password is wrong.",
    ),
    "wrong_password": (403, "現在のパスワードが違います。", "The current password is wrong."),
    "not_found": (404, "見つかりません。", "Not found."),
    "invalid_request": (422, "入力内容に誤りがあります。", "The request is not valid."),
    "weak_password": (
        422,
        "このパスワードは使えません。前後の空白を除いて8文字以上で、よく使われるパスワード"
        "や利用者カードの番号を含むものは使えません。",
        "This password cannot be used: use at least 8 characters, not counting spaces at"
        " either end, and not a common password or one that contains your card number.",
    ),
    "invalid_token": (
        400,
        "このリンクは無効か、期限切れか、すでに使われています。もう一度申し込んでください。",
        "This link is invalid, expired or already used: please request a new one.",
    ),
    "email_required": (
        422,
        "メールでの連絡にはメールアドレスの登録が必要です。",
        "Contact by email needs a registered email address.",
    ),
    "ready_cannot_cancel": (
        409,
        "受取可になった予約はインターネットから取り消せません。図書館へお電話ください。",
        "A reservation ready for pickup cannot be cancelled online: please phone the library.",
    ),
    "rate_limited": (
        429,
        "試行回数が多すぎます。しばらくしてからもう一度お試しください。",
        "Too many attempts: please wait a while and try again.",
    ),
    "unavailable": (
        503,
        "ただいまサービスを利用できません。しばらくしてからもう一度お試しください。",
        "The service is unavailable: please try again later.",
    ),
    "busy": (
        503,
        "ただいま混み合っています。少し待ってからもう一度お試しください。",
        "The service is busy: please try again in a moment.",
    ),
    "conflict": (409, "現在の状態ではできません。", "Not possible in the current state."),
    # Reasons a title cannot be reserved (per title, in `reason` fields).
    "not_a_book": (
        422,
        "インターネットから予約できるのは図書のみです。雑誌・AVはカウンターでご予約ください。",
        "Only books can be reserved online: reserve magazines and AV at the counter.",
    ),
    "on_shelf": (
        422,
        "貸出可能な資料が棚にあります。来館してご利用ください。",
        "A copy is on the shelf: please come to the library and borrow it.",
    ),
    "reference_only": (
        422,
        "禁帯出の資料です。来館して館内でご利用ください。",
        "Reference only: please use it inside the library.",
    ),
    "no_copies": (
        422,
        "所蔵がないため予約できません。",
        "The library holds no copy of this title.",
    ),
    "limit_reached": (
        422,
        "予約できる冊数の上限（カウンター受付分を含む各館合計）に達しています。",
        "You have reached the reservation limit.",
    ),
    "already_reserved": (
        409,
        "この資料はすでに予約しています。",
        "You already have a reservation for this title.",
    ),
    "borrowed_by_you": (
        409,
        "この資料は現在あなたが借りています。",
        "You are borrowing this title right now.",
    ),
}


def message(code: str, lang: str) -> str:
    _status, ja, en = MESSAGES.get(code, MESSAGES["conflict"])
    return ja if lang == "ja" else en


class LibraryError(Exception):
    """A request the library refuses; nothing it would have changed is kept."""

    def __init__(self, code: str, detail: str | None = None, **extra: object):
        super().__init__(code)
        self.code = code
        self.status = MESSAGES.get(code, (409,))[0]
        self.detail = detail
        self.extra = extra

    def __str__(self) -> str:
        return self.detail or message(self.code, "en")
