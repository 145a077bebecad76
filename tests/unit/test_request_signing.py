"""What a signed request signs (docs/api.md, "Signed requests"): the documented worked example,
recomputed here and by the documented client snippet, so that the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from risiti.api.request_signing import (
    TOLERANCE_SECONDS,
    native_string_to_sign,
    sign,
    signature_digest,
    signature_matches,
    timestamp_is_fresh,
    version_1_string_to_sign,
)

API_DOCS = Path(__file__).parents[2] / "docs" / "api.md"
KEY = "sk_test_7rJ2mQx9VbN4kTz1HcW8pLd3"
TIMESTAMP = "1700000000"
BODY = (
    b'{"customer_name": "AfriTech Solutions", "items": '
    b'[{"description": "Setup", "qty": 1, "price": 250000}]}'
)
POST_STRING = (
    '1700000000.POST./v1/invoices.{"customer_name": "AfriTech Solutions", "items": '
    '[{"description": "Setup", "qty": 1, "price": 250000}]}'
)
POST_SIGNATURE = (
    "ee95d9850059e38bf8e205076535e97678438514f97b090f65e31b7e6df7e3cb"
    "ecc8b83785fbc023587c7416ac1ad487dc0a4208816ef229433482cc1e07ed82"
)
GET_STRING = "1700000000.GET./v1/invoices?limit=5."
GET_SIGNATURE = (
    "fe76bd19651b9bd758547b89d2880dbaf186e48703b1fd2dacee626e23c1e2e0"
    "22671169d23d104d53da35ba2f024e1b4d82072f8d2c8f452b18e80085c982f0"
)


def signed_requests_section() -> str:
    text = API_DOCS.read_text()
    start = text.index("## Signed requests\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_worked_example_post_signs_timestamp_method_path_and_body() -> None:
    string_to_sign = native_string_to_sign(TIMESTAMP, "POST", "/v1/invoices", BODY)

    assert string_to_sign.decode() == POST_STRING
    assert sign(KEY, string_to_sign) == POST_SIGNATURE


def test_the_worked_example_get_signs_its_query_and_an_empty_body() -> None:
    string_to_sign = native_string_to_sign(TIMESTAMP, "get", "/v1/invoices?limit=5", b"")

    assert string_to_sign.decode() == GET_STRING
    assert sign(KEY, string_to_sign) == GET_SIGNATURE


def test_the_docs_show_the_worked_example_as_computed() -> None:
    section = signed_requests_section()

    for documented in (KEY, BODY.decode(), POST_STRING, POST_SIGNATURE, GET_STRING, GET_SIGNATURE):
        assert documented in section


def test_the_documented_python_client_computes_the_documented_signatures() -> None:
    first_snippet = re.findall(r"```python\n(.*?)```", signed_requests_section(), re.S)[0]
    client: dict[str, Any] = {}
    exec(first_snippet, client)

    post = client["signed_headers"](KEY, "POST", "/v1/invoices", BODY, int(TIMESTAMP))
    get = client["signed_headers"](KEY, "GET", "/v1/invoices?limit=5", b"", int(TIMESTAMP))

    assert post["Request-Signature"] == POST_SIGNATURE
    assert get["Request-Signature"] == GET_SIGNATURE
    assert post["Request-Timestamp"] == TIMESTAMP


def test_a_signature_matches_in_either_case_and_only_its_own_string() -> None:
    string_to_sign = POST_STRING.encode()

    assert signature_matches(KEY, string_to_sign, POST_SIGNATURE.upper())
    assert not signature_matches(KEY, GET_STRING.encode(), POST_SIGNATURE)
    assert not signature_matches("sk_test_another", string_to_sign, POST_SIGNATURE)
    assert not signature_matches(KEY, string_to_sign, "not hex at all")
    assert not signature_matches(KEY, string_to_sign, "\u00e9" * 128)


def test_a_version_1_signature_does_not_match_the_native_form() -> None:
    version_1 = sign(KEY, version_1_string_to_sign(TIMESTAMP, BODY))

    assert not signature_matches(
        KEY, native_string_to_sign(TIMESTAMP, "POST", "/v1/invoices", BODY), version_1
    )


@pytest.mark.parametrize(
    ("timestamp", "fresh"),
    [
        ("1700000000", True),
        (str(1700000000 - TOLERANCE_SECONDS), True),
        (str(1700000000 + TOLERANCE_SECONDS), True),
        (str(1700000000 - TOLERANCE_SECONDS - 1), False),
        (str(1700000000 + TOLERANCE_SECONDS + 1), False),
        ("1700000000.5", False),
        ("-1700000000", False),
        ("\u0661\u0667" + "\u0660" * 8, False),  # 1700000000 in Arabic-Indic digits
        ("", False),
        ("9" * 5000, False),
    ],
)
def test_a_timestamp_is_fresh_within_300_seconds_either_way(timestamp: str, fresh: bool) -> None:
    assert timestamp_is_fresh(timestamp, now=1700000000.0) is fresh


def test_the_same_signature_in_upper_case_is_the_same_use() -> None:
    assert signature_digest(POST_SIGNATURE) == signature_digest(POST_SIGNATURE.upper())
    assert signature_digest(POST_SIGNATURE) != signature_digest(GET_SIGNATURE)
