"""Which addresses the service sends requests to (webhooks, CAP audio links): public ones, and allowed networks."""

from __future__ import annotations

import pytest

from broadcast.channels.outbound import OutboundPolicy, parse_networks
from broadcast.config import ConfigError, load_settings


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("169.254.169.254", "link-local"),  # the cloud's metadata service
    ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, nothing binds to it
    ("::", "unspecified"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: the packets go to 127.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("8.8.8.8", None),
    ("14.225.0.1", None),
    ("2606:4700::1111", None),
    ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
])
def test_internal_addresses_are_refused_by_default(address, kind):
    assert OutboundPolicy().refusal(address) == kind


@pytest.mark.parametrize("allowed, address, kind", [
    ("127.0.0.0/8", "127.0.0.1", None),
    ("127.0.0.1", "127.0.0.2", "loopback"),
    ("10.20.0.0/16, 192.168.5.7", "10.20.3.4", None),
    ("10.20.0.0/16, 192.168.5.7", "10.21.3.4", "private"),
    ("10.20.0.0/16, 192.168.5.7", "192.168.5.7", None),
    ("127.0.0.0/8", "::ffff:127.0.0.1", None),
    ("::1/128", "::1", None),
    ("::1/128", "127.0.0.1", "loopback"),
])
def test_listed_networks_are_allowed(allowed, address, kind):
    assert OutboundPolicy.from_text(allowed).refusal(address) == kind


@pytest.mark.parametrize("text", ["10.0.0.0/33", "localhost", "10.0.0.0/8;127.0.0.1", "1.2.3"])
def test_a_bad_network_is_refused_with_its_name(text, tmp_path):
    with pytest.raises(ValueError, match="is not a network"):
        parse_networks(text)
    with pytest.raises(ConfigError, match="OUTBOUND_ALLOW_NETWORKS"):
        load_settings(instance_path=tmp_path, outbound_allow_networks=text)


def test_no_setting_allows_nothing_internal(tmp_path):
    assert parse_networks("") == parse_networks(" , ") == ()
    assert load_settings(instance_path=tmp_path).outbound_allow_networks == ""
