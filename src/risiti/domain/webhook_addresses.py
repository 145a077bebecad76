"""Where webhooks may not be sent (SSRF): a receiver must be a public address, so that nobody
can make Risiti call its own network, a cloud's metadata service or another tenant's host."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

Address = IPv4Address | IPv6Address

# The instance-metadata services of the large clouds (AWS and GCP and Azure share the first).
METADATA_ADDRESSES = frozenset(
    {ip_address("169.254.169.254"), ip_address("fd00:ec2::254"), ip_address("100.100.100.200")}
)


def refused_address(
    address: Address, *, livemode: bool, allow_loopback_in_test: bool
) -> str | None:
    """Why a webhook may not go to `address`, or None if it may.

    In test mode a loopback receiver (a developer's laptop) may be allowed; nothing else
    private ever is."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if (allow_loopback_in_test and not livemode) else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or address.is_reserved or address.is_multicast:
        return "a private or reserved address"
    if address.is_unspecified or not address.is_global:
        return "not a public address"
    return None


def literal_address(host: str) -> Address | None:
    """The address a URL's host names directly (`127.0.0.1`, `[::1]`), or None for a name."""
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None
