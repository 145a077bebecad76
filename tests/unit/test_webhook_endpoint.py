"""The WebhookEndpoint aggregate's rules, without any I/O."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from risiti.domain.errors import InvalidFieldError, InvalidStateError
from risiti.domain.webhook_endpoint import (
    MAX_SECRET_OVERLAP_SECONDS,
    WebhookEndpoint,
    subscribes_to,
)

ACCOUNT = UUID("00000000-0000-4000-8000-000000000001")


def _endpoint(**changes: Any) -> WebhookEndpoint:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT,
        "livemode": True,
        "url": "https://example.com/hooks",
        "events": ["invoice.paid"],
    }
    return WebhookEndpoint.register(**(fields | changes))


def _replayed(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    replayed: Any = None
    for domain_event in endpoint.collect_events():
        replayed = domain_event.mutate(replayed)
    assert isinstance(replayed, WebhookEndpoint)
    return replayed


def test_update_changes_the_fields_and_replays_to_the_same_state() -> None:
    endpoint = _endpoint()

    endpoint.update(
        {
            "url": "https://example.com/other",
            "events": ["*"],
            "description": "Books",
            "enabled": False,
        }
    )

    replayed = _replayed(endpoint)
    assert (replayed.url, replayed.events, replayed.description, replayed.enabled) == (
        "https://example.com/other",
        ["*"],
        "Books",
        False,
    )
    assert replayed.version == 2


def test_an_update_that_changes_nothing_appends_nothing() -> None:
    endpoint = _endpoint()
    endpoint.collect_events()

    endpoint.update({"url": "https://example.com/hooks", "enabled": True})

    assert endpoint.collect_events() == []


@pytest.mark.parametrize(
    ("events", "event_type", "taken"),
    [
        (["invoice.paid"], "invoice.paid", True),
        (["invoice.paid"], "invoice.created", False),
        (["*"], "customer.created", True),
        ([], "invoice.paid", False),
    ],
)
def test_a_subscription_takes_its_event_types_and_star_takes_all(
    events: list[str], event_type: str, taken: bool
) -> None:
    assert subscribes_to(events, event_type) is taken


def test_a_disabled_endpoint_wants_no_event() -> None:
    endpoint = _endpoint()

    endpoint.update({"enabled": False})

    assert not endpoint.wants("invoice.paid")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "http://example.com/hooks"}, "url"),
        ({"url": "ftp://example.com/"}, "url"),
        ({"events": ["invoice.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"livemode": False}, "livemode"),
    ],
)
def test_update_refuses_what_registration_refuses(changes: dict[str, Any], field: str) -> None:
    endpoint = _endpoint()

    with pytest.raises(InvalidFieldError) as refused:
        endpoint.update(changes)

    assert refused.value.field == field


def test_deleted_endpoint_wants_nothing_and_refuses_every_change() -> None:
    endpoint = _endpoint(events=["*"])

    endpoint.delete()

    replayed = _replayed(endpoint)
    assert replayed.deleted
    assert not replayed.enabled
    assert not replayed.wants("invoice.paid")
    for change in (
        lambda: replayed.update({"description": "again"}),
        replayed.delete,
        lambda: replayed.rotate_secret(60),
    ):
        with pytest.raises(InvalidStateError):
            change()


def test_rotation_is_an_event_that_holds_no_secret() -> None:
    endpoint = _endpoint()
    endpoint.collect_events()

    endpoint.rotate_secret(3600)

    (rotated,) = endpoint.collect_events()
    assert isinstance(rotated, WebhookEndpoint.SecretRotated)
    assert rotated.expire_current_after_seconds == 3600
    fields = set(vars(rotated)) - {"originator_id", "originator_version", "timestamp"}
    assert fields == {"expire_current_after_seconds"}


@pytest.mark.parametrize("seconds", [-1, MAX_SECRET_OVERLAP_SECONDS + 1])
def test_rotation_overlap_is_zero_to_seven_days(seconds: int) -> None:
    endpoint = _endpoint()

    with pytest.raises(InvalidFieldError):
        endpoint.rotate_secret(seconds)
