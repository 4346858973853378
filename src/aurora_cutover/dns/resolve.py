"""Resolve the switch name the way the application would: through the configured resolver.

    >>> lookup(migration.dns)          # -> Resolution(cname_chain=[...], addresses=[...], ttl=1)
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.rdatatype
import dns.resolver

from aurora_cutover.config import Dns


class ResolveError(Exception):
    pass


@dataclass(frozen=True)
class Resolution:
    name: str
    cname_chain: tuple[str, ...]
    addresses: tuple[str, ...]
    ttl: int


def resolver_for(cfg: Dns, lifetime_s: float = 3.0) -> dns.resolver.Resolver:
    if cfg.resolver == "system":
        r = dns.resolver.Resolver()
    else:
        host, _, port = cfg.resolver.rpartition(":")
        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port = [host], int(port)
    r.lifetime = lifetime_s
    r.cache = None  # every call asks: we are measuring what the resolver says now
    return r


def lookup(cfg: Dns, name: str | None = None, lifetime_s: float = 3.0) -> Resolution:
    name = (name or cfg.record_name).rstrip(".")
    try:
        ans = resolver_for(cfg, lifetime_s).resolve(name, "A")
    except (dns.exception.DNSException, OSError) as exc:
        raise ResolveError(f"{name} via {cfg.resolver}: {type(exc).__name__}: {exc}") from None
    chain = tuple(str(rr[0].target).rstrip(".") for rr in ans.response.answer
                  if rr.rdtype == dns.rdatatype.CNAME)
    addrs = tuple(a.address for a in ans)
    first_ttl = ans.response.answer[0].ttl if ans.response.answer else ans.rrset.ttl
    return Resolution(name, chain, addrs, int(first_ttl))


