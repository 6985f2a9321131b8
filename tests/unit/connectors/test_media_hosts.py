"""A channel downloads media only from its provider's hosts, never from this network."""

from __future__ import annotations

import asyncio

import pytest

from connectors.errors import MediaError
from connectors.media_hosts import META_MEDIA_DOMAINS, TWILIO_MEDIA_DOMAINS, MediaHosts

META = MediaHosts(META_MEDIA_DOMAINS, ("https://graph.facebook.com",))
TWILIO = MediaHosts(TWILIO_MEDIA_DOMAINS, ("https://api.twilio.com",))


def refusal(hosts: MediaHosts, url: str) -> str:
    with pytest.raises(MediaError) as raised:
        asyncio.run(hosts.check(url))
    assert raised.value.reason == "download"
    return str(raised.value)


@pytest.mark.parametrize(
    ("hosts", "url"),
    [
        (META, "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"),
        (META, "https://scontent.xx.fbcdn.net/v/t1.15752-9/1_n.jpg"),
        (TWILIO, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"),
        (TWILIO, "https://mms.twiliocdn.com/AC1/abc"),
    ],
)
def test_the_providers_own_hosts_are_on_the_list(hosts: MediaHosts, url: str) -> None:
    assert hosts.on_the_list(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://lookaside.fbsbx.com/x",  # not HTTPS
        "https://fbsbx.com.evil.example/x",  # the provider's name as a prefix only
        "https://evilfbsbx.com/x",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/x",
        "file:///etc/passwd",
        "https://user@/x",
    ],
)
def test_anything_else_is_refused_before_any_connection(url: str) -> None:
    assert not META.on_the_list(url)
    assert "list" in refusal(META, url)


def test_a_listed_name_that_resolves_to_this_machine_is_refused() -> None:
    """A provider-looking name pointed at a private address (DNS is not the provider's)."""
    hosts = MediaHosts(("localhost",))
    assert hosts.on_the_list("https://localhost/x")
    assert "private" in refusal(hosts, "https://localhost/x")


def test_the_configured_api_is_trusted_as_configured_origin_and_all() -> None:
    local = MediaHosts(META_MEDIA_DOMAINS, ("http://127.0.0.1:8123",))
    asyncio.run(local.check("http://127.0.0.1:8123/whatsapp_business/attachments/?mid=1"))
    for other in ("http://127.0.0.1:6379/", "https://127.0.0.1:8123/x", "http://localhost:8123/"):
        assert not local.configured_origin(other)
        refusal(local, other)
