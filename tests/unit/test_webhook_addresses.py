"""Where webhooks may go (SSRF guard): public addresses only; loopback in test mode if allowed."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from risiti.domain.webhook_addresses import literal_address, refused_address

NEVER = [
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.10.10",
    "fd00:ec2::254",
    "100.100.100.200",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "fc00::1",
    "fe80::1",
]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]
PUBLIC = ["8.8.8.8", "102.89.4.1", "2001:4860:4860::8888"]


@pytest.mark.parametrize("livemode", [True, False])
@pytest.mark.parametrize("address", NEVER)
def test_private_link_local_and_metadata_addresses_are_refused_in_both_modes(
    address: str, livemode: bool
) -> None:
    assert refused_address(ip_address(address), livemode=livemode, allow_loopback_in_test=True)


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_is_refused_in_live_mode_even_when_test_mode_allows_it(address: str) -> None:
    assert refused_address(ip_address(address), livemode=True, allow_loopback_in_test=True)


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_is_allowed_in_test_mode_only_when_the_setting_says_so(address: str) -> None:
    assert refused_address(ip_address(address), livemode=False, allow_loopback_in_test=True) is None
    assert refused_address(ip_address(address), livemode=False, allow_loopback_in_test=False)


@pytest.mark.parametrize("livemode", [True, False])
@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str, livemode: bool) -> None:
    assert (
        refused_address(ip_address(address), livemode=livemode, allow_loopback_in_test=False)
        is None
    )


def test_a_literal_host_is_read_as_an_address_and_a_name_is_not() -> None:
    assert literal_address("[::1]") == ip_address("::1")
    assert literal_address("10.0.0.5") == ip_address("10.0.0.5")
    assert literal_address("hooks.example.com") is None
