"""The secret in a calendar feed URL: making it, its URLs, and checking one.

A token is 64 URL-safe characters: the feed's 128-bit random key followed by an HMAC-SHA256 of
that key under SECRET_KEY (Django's `salted_hmac`, as its password-reset tokens do). The database
keeps only the key, so a copy of it gives no usable URL, yet the clinic can show or email the
current URL again without rotating it. SECRET_KEY_FALLBACKS keep URLs working across a key
rotation. Unknown, revoked and forged tokens are all simply "not found" (`feeds.version`).
"""

from __future__ import annotations

import binascii
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from ..models import CalendarFeed
from ..public_urls import public_url

KEY_BYTES = 16
TOKEN_LENGTH = 64  # base64 of 16 + 32 bytes, no padding
_SALT = "jakmonitor.calendar-feed"


def new_feed_key() -> str:
    return secrets.token_bytes(KEY_BYTES).hex()


def _mac(key: bytes, secret: str) -> bytes:
    return salted_hmac(_SALT, key.hex(), secret=secret, algorithm="sha256").digest()


def feed_token(feed: CalendarFeed) -> str:
    key = bytes.fromhex(feed.key)
    return urlsafe_b64encode(key + _mac(key, settings.SECRET_KEY)).decode()


@dataclass(frozen=True)
class FeedUrls:
    web: str  # https:// in production (the scheme of JAKMONITOR_BASE_URL)
    webcal: str  # opens the subscribe dialog of Apple Calendar and Outlook


def feed_urls(feed: CalendarFeed) -> FeedUrls:
    web = public_url("calendar-feed", feed_token(feed))
    return FeedUrls(web=web, webcal="webcal://" + web.split("://", 1)[1])


def token_key(token: str) -> tuple[str, bytes] | None:
    """The feed key (hex) and MAC a well-formed token carries, or None."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = urlsafe_b64decode(token)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != KEY_BYTES + 32:
        return None
    return raw[:KEY_BYTES].hex(), raw[KEY_BYTES:]


def token_valid(key: str, mac: bytes) -> bool:
    """Whether the MAC was made with SECRET_KEY or one of its fallbacks (key rotation)."""
    secrets_ = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(mac, _mac(bytes.fromhex(key), s)) for s in secrets_)
