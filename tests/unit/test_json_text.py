"""Risiti's JSON text: compact and UTF-8 from orjson, and still written for what orjson refuses."""

from __future__ import annotations

import json

from risiti.presentation.json_text import json_bytes, json_text


def test_json_text_is_compact_and_keeps_non_ascii_text() -> None:
    assert json_text({"amount": 250000, "currency": "₦", "paid": False}) == (
        '{"amount":250000,"currency":"₦","paid":false}'
    )


def test_an_integer_past_64_bits_is_written_exactly() -> None:
    huge = 2**70
    assert json.loads(json_bytes({"metadata": {"k": huge}})) == {"metadata": {"k": huge}}


def test_integer_keys_are_written_as_strings_as_the_standard_library_does() -> None:
    assert json_text({1: "a"}) == '{"1":"a"}'


def test_default_turns_what_json_has_no_type_for_into_text_on_both_paths() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    assert json_text({"x": Opaque()}, default=str) == '{"x":"opaque"}'
    assert json.loads(json_text({"x": Opaque(), "k": 2**70}, default=str)) == {
        "x": "opaque",
        "k": 2**70,
    }
