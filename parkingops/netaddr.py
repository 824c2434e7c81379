"""The client's address, as far as it can be trusted; address-list matching. Pure functions."""

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

Networks = Sequence[IPv4Network | IPv6Network]


def in_networks(address: str, networks: Networks) -> bool:
    """Tell whether ``address`` lies in any of ``networks`` (False for a malformed one)."""
    try:
        ip = ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta: Mapping[str, str], *, trusted_proxies: Networks) -> str:
    """Return the address of the client that sent the request described by ``meta``.

    The socket's peer (REMOTE_ADDR) is the client unless it is one of ``trusted_proxies``;
    then X-Forwarded-For is read from the right, skipping trusted proxies, and the first
    address not among them is the client. Anything left of it could be forged by the client.
    """
    peer = meta.get("REMOTE_ADDR", "")
    if not trusted_proxies or not in_networks(peer, trusted_proxies):
        return peer
    forwarded = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in forwarded if hop]):
        if not in_networks(hop, trusted_proxies):
            return hop
    return peer
