"""What a signed request signs (DESIGN.md §6, docs/api.md "Signed requests"), apart from HTTP.

The native form covers the timestamp, the method, the path with its query exactly as sent, and
the raw body, so that a signature cannot be moved to another request. Checking takes the string
to sign as a parameter: each dialect names its own form (`SigningForm`), and the check stays the
same.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

TOLERANCE_SECONDS = 300
NATIVE_FORM = "timestamp.METHOD.path_with_query.body"


def native_string_to_sign(timestamp: str, method: str, path_with_query: str, body: bytes) -> bytes:
    """`timestamp + "." + METHOD + "." + path_with_query + "." + raw body`."""
    head = f"{timestamp}.{method.upper()}.{path_with_query}."
    return head.encode() + body


def version_1_string_to_sign(timestamp: str, body: bytes) -> bytes:
    """The first form, `timestamp + "." + raw body`: no longer accepted natively, only
    recognised, so that a client still sending it is told which form to send instead. It is
    still what Paycashless' document describes ("the request payload", with its timestamp)."""
    return timestamp.encode() + b"." + body


@dataclass(frozen=True)
class SigningForm:
    """What a request's `Request-Signature` signs: written out for the error that says so, and
    built from the request's timestamp, method, path with query, and raw body."""

    written: str
    string_to_sign: Callable[[str, str, str, bytes], bytes]


NATIVE = SigningForm(NATIVE_FORM, native_string_to_sign)
TIMESTAMP_AND_BODY = SigningForm(
    "timestamp.body",
    lambda timestamp, method, path_with_query, body: version_1_string_to_sign(timestamp, body),
)


def sign(key: str, string_to_sign: bytes) -> str:
    """The hex HMAC-SHA512 of the string to sign, keyed with the secret key."""
    return hmac.new(key.encode(), string_to_sign, hashlib.sha512).hexdigest()


def signature_matches(key: str, string_to_sign: bytes, signature: str) -> bool:
    """Whether `signature` (hex, either case) signs `string_to_sign` with `key`; in constant
    time, so that a guesser learns nothing from how long a refusal takes."""
    if not signature.isascii():
        return False  # compare_digest compares only ASCII text; no hex signature is other text
    return hmac.compare_digest(sign(key, string_to_sign), signature.strip().lower())


def timestamp_is_fresh(timestamp: str, now: float) -> bool:
    """Unix seconds in ASCII digits, within the tolerance of `now` either way."""
    # Twelve digits reach past the year 30000; a longer run is refused before int() reads it
    # (which refuses more than 4300 digits with an error of its own).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    return abs(now - int(timestamp)) <= TOLERANCE_SECONDS


def signature_digest(signature: str) -> bytes:
    """What records a signature as used: the SHA-256 of its bytes, so that the same signature
    in upper case is the same use. Only for a signature that matched (hence valid hex)."""
    return hashlib.sha256(bytes.fromhex(signature.strip())).digest()
