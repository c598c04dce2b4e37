"""The words of the patron pages, in Japanese (the default) and English.

Refusals of the library itself come from `libcli.server.errors.MESSAGES`; this table
holds only what the pages add around them (headings, labels, buttons).
"""

from __future__ import annotations

import datetime as dt

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
_WEEKDAYS_JA = "月火水木金土日"

TEXTS: dict[str, tuple[str, str]] = {
    # key: (Japanese, English)
    "other_lang": ("English", "日本語"),
    "other_lang_label": ("Switch to English", "日本語で表示"),
    "skip": ("本文へ移動", "Skip to content"),
    "phone": ("電話", "Phone"),
    "footer_note": (
        "インターネットでできないお手続きは、お電話でお問い合わせください。",
        "For anything you cannot do online, please phone the library.",
    ),
    # The password reset page (R17).
    "reset_title": ("パスワードの再設定", "Set a new password"),
    "reset_intro": (
        "新しいパスワードを2回入力してください。8文字以上で、推測されにくいものにしてください。",
        "Enter your new password twice. Use at least 8 characters that are hard to guess.",
    ),
    "new_password": ("新しいパスワード", "New password"),
    "new_password_again": ("新しいパスワード（確認）", "New password (again)"),
    "password_hint": ("8文字以上", "At least 8 characters"),
    "reset_submit": ("パスワードを設定する", "Set the password"),
    "passwords_differ": (
        "2つのパスワードが一致しません。もう一度入力してください。",
        "The two passwords are not the same: please type them again.",
    ),
    "reset_done_title": ("パスワードを設定しました", "Your new password is set"),
    "reset_done": (
        "新しいパスワードでログインしてください。"
        "これまでのログインはすべて終了しました"
        "（利用者用コマンド libcli もログインし直してください）。",
        "Log in with your new password. Every earlier login has ended "
        "(log in again in the libcli command too).",
    ),
    "link_expired_title": ("このリンクは有効期限が切れています", "This link has expired"),
    "link_expired": (
        "パスワード再設定のリンクは、お申し込みから{minutes}分間だけ有効です。"
        "お手数ですが、もう一度お申し込みください。",
        "A password reset link works for {minutes} minutes after the request. "
        "Please request a new one.",
    ),
    "link_used_title": ("このリンクはすでに使われています", "This link has already been used"),
    "link_used": (
        "パスワード再設定のリンクは一度だけ使えます。"
        "パスワードを忘れた場合は、もう一度お申し込みください。",
        "A password reset link works only once. "
        "If you have forgotten the password again, please request a new link.",
    ),
    "link_unknown_title": ("このリンクは無効です", "This link is not valid"),
    "request_again": ("再設定を申し込む", "Request a new link"),
    "to_status": ("利用状況を見る", "See your usage status"),
    # Requesting a reset (R17): card number + email address.
    "forgot_title": ("パスワードを忘れたとき", "Forgotten password"),
    "forgot_intro": (
        "利用者カードの番号と、登録しているメールアドレスを入力してください。"
        "パスワード再設定用のURLをメールでお送りします。",
        "Enter your library card number and the email address you registered. "
        "We will mail you a URL to set a new password.",
    ),
    "forgot_submit": ("送信する", "Send"),
    "forgot_sent_title": ("受け付けました", "Request received"),
    "forgot_sent": (
        "カード番号とメールアドレスが登録内容と一致した場合、再設定用のURLをお送りしました。"
        "メールが届かない場合は、カウンターでお問い合わせください。",
        "If the card number and email address match our records, we have mailed you a "
        "URL to set a new password. If no mail arrives, please ask at a library counter.",
    ),
    "email": ("メールアドレス", "Email address"),
    "forgot_link": ("パスワードを忘れた場合", "Forgotten your password?"),
    # The status page (R11, R12, R18).
    "status_title": ("利用状況", "Your loans and reservations"),
    "login_title": ("ログイン", "Log in"),
    "login_intro": (
        "利用状況を見るには、利用者カードの番号とパスワードでログインしてください。",
        "Log in with your library card number and password to see your loans and reservations.",
    ),
    "card": ("利用者カードの番号", "Library card number"),
    "card_hint": (
        "カード右上のバーコードの下にある9桁の数字",
        "The 9 digits under the barcode, top right of your card",
    ),
    "password": ("パスワード", "Password"),
    "login_submit": ("ログイン", "Log in"),
    "logout": ("ログアウト", "Log out"),
    "logged_out": ("ログアウトしました。", "You have logged out."),
    "cookies_needed": (
        "ページの有効期限が切れました。もう一度入力してください"
        "（ブラウザーのCookieを有効にしてください）。",
        "This page has expired: please try again (cookies must be enabled).",
    ),
    "greeting": ("{name} 様（カード {card}）", "{name} (card {card})"),
    "loans": ("借りている資料", "Loans"),
    "no_loans": ("借りている資料はありません。", "You have no loans."),
    "due": ("返却期限", "Due"),
    "overdue": ("返却期限を過ぎています", "overdue"),
    "barcode": ("資料番号", "Barcode"),
    "reservations": ("予約している資料", "Reservations"),
    "no_reservations": ("予約している資料はありません。", "You have no reservations."),
    "state": ("状態", "Status"),
    "pickup": ("受取館", "Pickup at"),
    "contact": ("連絡方法", "Contact"),
    "state_waiting": ("予約待ち", "Waiting"),
    "state_waiting_position": (
        "予約待ち（{position}番目）",
        "Waiting (No. {position} in the queue)",
    ),
    "state_in_transit": ("回送中", "On its way to the pickup point"),
    "state_ready": ("受取可", "Ready for pickup"),
    "state_ready_until": ("受取可（{date}まで）", "Ready for pickup (until {date})"),
    "ready_note": (
        "受取可になった予約の取り消しは、お電話でお願いします。",
        "To cancel a reservation that is ready, please phone the library.",
    ),
    "cancel": ("予約を取り消す", "Cancel reservation"),
    "cancel_title": ("予約の取り消し", "Cancel a reservation"),
    "cancel_confirm": (
        "次の予約を取り消します。よろしいですか？",
        "This reservation will be cancelled. Are you sure?",
    ),
    "cancel_yes": ("取り消す", "Yes, cancel it"),
    "cancel_no": ("戻る", "No, go back"),
    "cancelled": ("予約を取り消しました。", "The reservation has been cancelled."),
    "placed": ("予約日", "Reserved on"),
    "reservation_count": ("{count}件", "{count}"),
}

STATE_NAMES = {"waiting": "state_waiting", "in_transit": "state_in_transit", "ready": "state_ready"}

CONTACT_NAMES: dict[str, tuple[str, str]] = {  # R13
    "phone": ("電話", "Phone call"),
    "email": ("メール", "Email"),
    "ring": ("着信のみ", "Ring only"),
    "voicemail": ("留守電", "Voicemail"),
    "none": ("連絡不要", "No contact"),
}


def pick_lang(value: str | None) -> str | None:
    """A supported language from a query or cookie value, or None."""
    value = (value or "").strip().lower()[:8]
    return value if value in LANGS else None


def text(lang: str, key: str, **values: object) -> str:
    ja, en = TEXTS[key]
    words = ja if lang == "ja" else en
    return words.format(**values) if values else words


def contact_name(lang: str, code: str) -> str:
    ja, en = CONTACT_NAMES.get(code, (code, code))
    return ja if lang == "ja" else en


def date_text(lang: str, day: dt.date | str | None) -> str:
    """A day as a patron reads it: 2026年12月15日(火) / Tue 15 Dec 2026."""
    if day is None:
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"
    return f"{day:%a} {day.day} {day:%b %Y}"
