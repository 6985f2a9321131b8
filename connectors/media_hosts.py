"""Where a customer's file may be downloaded from: the provider's hosts, never this network.

A media URL comes from a webhook or from the provider's API, and Hilo GETs it from inside
the deployment, next to its databases, Redis and cloud metadata endpoints. A URL that named
one of those (a forged or compromised payload, a redirect to 169.254.169.254) would make
Hilo fetch it, and the answer would land in the media store for an agent to open. So each
channel downloads only from its provider's domains, over HTTPS, from addresses that are
public on the internet, and every redirect is checked again (connectors/media_inbound.py
follows them one at a time).

The channel's configured API base URL (`*_API_BASE_URL`, and Twilio's
`TWILIO_MEDIA_BASE_URL` for its CDN) is trusted as configured: it is the
operator's choice, and it is how tests put a fake provider on 127.0.0.1. Any other host is
looked up, and refused when any of its addresses is private, loopback, link-local or
otherwise not global. A DNS answer could still change between this check and the
connection (rebinding); the provider domains on the list are Meta's and Twilio's own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.errors import MediaError

# Meta serves WhatsApp and Messenger media from its CDN and lookaside hosts.
META_MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net", "facebook.com", "whatsapp.net", "cdninstagram.com")
# Twilio's MediaUrl is on api.twilio.com and redirects to its media CDN.
TWILIO_MEDIA_DOMAINS = ("twilio.com", "twiliocdn.com")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class MediaHosts:
    """A channel's download allow-list: its provider's domains and its configured API."""

    domains: tuple[str, ...]
    configured: tuple[str, ...] = ()

    def configured_origin(self, url: str) -> bool:
        """Whether `url` is on one of the channel's configured bases (scheme, host and port)."""
        return any(base and _origin(url) == _origin(base) for base in self.configured)

    def on_the_list(self, url: str) -> bool:
        """Whether `url` is HTTPS on one of the provider's domains (no address literals)."""
        scheme, host, _ = _origin(url)
        if scheme != "https" or not host or _is_address(host):
            return False
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)

    async def check(self, url: str) -> None:
        """Raises MediaError unless `url` may be downloaded."""
        if self.configured_origin(url):
            return
        if not self.on_the_list(url):
            raise MediaError("download", "host not on the channel's list")
        _, host, port = _origin(url)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise MediaError("download", "host not found") from error
        if not found or not all(_public(str(entry[4][0])) for entry in found):
            raise MediaError("download", "host resolves to a private address")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global
