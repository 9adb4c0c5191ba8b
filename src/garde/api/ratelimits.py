"""Rate limits on routes: ``Depends(rate_limited("requests.submit"))`` in a route's signature.

The counter lives in the store (:mod:`garde.ratelimit`), so a limit holds across every worker
of `garde serve` and every machine on the same store. The key is the client's address (an
IPv6 address by its /64 network: one subscriber holds a whole /64), kept as a keyed digest,
never in clear. Past the limit: 429 problem+json with ``Retry-After``.

The client address is the connection's peer. Behind a reverse proxy every peer is the proxy:
list it in ``GARDE_TRUSTED_PROXIES``, and only then is ``X-Forwarded-For`` read, from the
right, skipping the trusted proxies (the first address a trusted proxy saw). Never trust the
header from anyone else: any client can write it to pass as any address.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from garde.api.auth import BEARER, Allow, allow
from garde.api.keys import ApiKey
from garde.api.state import service
from garde.keys import identifier_data_key
from garde.ratelimit import Limit, RateLimited, exhausted, hit
from garde.store.transactions import retried

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Per client address unless named ``.key``. Add a scope here, then ``Depends(rate_limited(scope))``
# (or ``per_key(scope)``) on the route.
LIMITS = {
    limit.scope: limit for limit in (
        Limit("session.start", 10, timedelta(hours=1)),
        Limit("session.confirm", 30, timedelta(hours=1)),
        Limit("requests.submit", 10, timedelta(hours=1)),
        Limit("requests.send_code", 10, timedelta(hours=1)),
        # The privacy center's consent form (per identity too: garde.rights.my_consents).
        Limit("consents.change", 60, timedelta(hours=1)),
        # The cookie banner's public write route: one browser or script cannot fill the ledger.
        Limit("banner.choice", 30, timedelta(minutes=1)),
        # Wrong keys pasted into the DPO dashboard's login form (failures only: see ``refused``).
        Limit("dpo.login", 10, timedelta(minutes=15)),
        # Per staff key (``per_key``), where a call mails someone or creates a request: a leaked
        # or runaway key cannot flood the queue or send mail in garde's name without end. The
        # figure here is the default; ``api_key_mail_and_requests_per_hour`` sets it.
        Limit("requests.submit.key", 120, timedelta(hours=1)),
        Limit("requests.send_code.key", 120, timedelta(hours=1)),
        # The consent API's invitations to confirm (garde.consent.confirmations): past it, kept unmailed.
        Limit("consent.confirm.key", 120, timedelta(hours=1)),
    )
}


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: Address, proxies: list[str]) -> bool:
    for proxy in proxies:
        try:
            if address in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The client's address: the peer, or behind a trusted proxy what ``X-Forwarded-For`` says."""
    peer = request.client.host if request.client else ""
    address = _address(peer)
    if address is None:
        return peer[:64] or "unknown"
    if trusted_proxies and _trusted(address, trusted_proxies):
        forwarded = [hop for part in request.headers.getlist("x-forwarded-for") for hop in part.split(",")]
        for hop in reversed(forwarded):
            seen = _address(hop)
            if seen is None:
                break  # a garbled hop: stop at the last address a trusted proxy wrote
            address = seen
            if not _trusted(seen, trusted_proxies):
                break
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


def address_key(request: Request) -> str:
    """The keyed digest of the client's address: what the store's counters are keyed by."""
    held = service(request)
    address = client_address(request, held.settings.trusted_proxies)
    return hmac.digest(identifier_data_key(held.engine), f"address:{address}".encode(), "sha256").hex()


def count_failure(request: Request, scope: str) -> None:
    """Count one failure of the client under ``scope`` (committed at once; RateLimited past it)."""
    key = address_key(request)
    retried(service(request).engine, lambda conn: hit(conn, LIMITS[scope], key), what=f"a {scope} failure")


def refused(request: Request, scope: str) -> RateLimited | None:
    """The refusal the client's address has earned under ``scope``, without counting: for limits
    that count failures only (a right answer must stay possible until the failures run out)."""
    with service(request).engine.connect() as conn:
        wait = exhausted(conn, LIMITS[scope], address_key(request))
    return None if wait is None else RateLimited(LIMITS[scope], wait)


@dataclass(frozen=True)
class RateLimit:
    """A route's limit per client address; the dependency counts one hit (committed at once)."""

    limit: Limit

    def __call__(self, request: Request) -> None:
        key = address_key(request)
        retried(service(request).engine, lambda conn: hit(conn, self.limit, key), what="a rate-limited call")


def rate_limited(scope: str) -> RateLimit:
    """The dependency limiting a route by client address under ``scope`` (one of :data:`LIMITS`)."""
    return RateLimit(LIMITS[scope])


def key_counter(key: ApiKey) -> str:
    """What a key's counters are keyed by: its id (not a secret, names no one)."""
    return f"key:{key.id}"


@dataclass(frozen=True)
class KeyRateLimit(Allow):
    """A staff route's limit per API key (its roles' keys: ``agent`` and ``dpo`` by default): the
    dependency checks the key as :func:`~garde.api.auth.allow` does, counts one hit of it (committed
    at once) and returns it. Every key has its own budget, whatever address it calls from."""

    limit: Limit = field(kw_only=True)

    def __call__(self, request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> ApiKey:
        key = super().__call__(request, credentials)
        state = service(request)
        limit = replace(self.limit, limit=state.settings.api_key_mail_and_requests_per_hour)
        retried(state.engine, lambda conn: hit(conn, limit, key_counter(key)),
                what="a key's rate-limited call")
        return key


def key_budget(request: Request, key: ApiKey, scope: str) -> tuple[Limit, str]:
    """``key``'s limit under ``scope`` (the setting's figure) and its counter key, for work that is
    counted on the key without refusing the call (:func:`garde.consent.confirmations.ask`)."""
    return (replace(LIMITS[scope], limit=service(request).settings.api_key_mail_and_requests_per_hour),
            key_counter(key))


def per_key(scope: str, *roles: str) -> KeyRateLimit:
    """The dependency giving a staff route's caller (``key: Annotated[ApiKey, Depends(per_key(scope))]``),
    limited per key under ``scope`` (one of :data:`LIMITS`); ``agent`` keys and ``roles``' (and ``dpo``)."""
    return KeyRateLimit(allow("agent", *roles).roles, limit=LIMITS[scope])
