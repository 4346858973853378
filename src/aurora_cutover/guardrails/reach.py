"""The switch name resolves and the database port answers, from each host in ``dns.check_hosts`` (testinfra).

What testinfra does here, honestly: ``host.addr(x).port(3306).is_reachable`` runs ``nc -z`` on that host,
or (no nc) ``timeout 1 bash -c 'cat < /dev/null > /dev/tcp/x/3306'`` — a TCP connect, nothing more (no TLS,
no login). testinfra's own name resolution (``addr.is_resolvable``) uses the host's system resolver, which
in the lab does not know db.eduphoria.ex; so the name is resolved with :mod:`aurora_cutover.dns.resolve`
through the configured resolver, and the host is asked to reach each resolved address.

    >>> results = check(migration)        # [Reach(host="local://", address="127.0.4.2", reachable=True)]
"""

from __future__ import annotations

from dataclasses import dataclass

from aurora_cutover.config import Migration
from aurora_cutover.dns.resolve import ResolveError, lookup


@dataclass(frozen=True)
class Reach:
    host: str
    name: str
    address: str
    port: int
    reachable: bool
    error: str = ""


def check(m: Migration, port: int | None = None) -> tuple[list[Reach], list[str]]:
    import testinfra

    port = port or m.source.port
    try:
        res = lookup(m.dns)
    except ResolveError as exc:
        return [], [f"{m.dns.record_name} does not resolve: {exc}"]
    if not res.addresses:
        return [], [f"{m.dns.record_name} resolves to no address"]
    out, problems = [], []
    for spec in m.dns.check_hosts:
        try:
            host = testinfra.get_host(spec)
        except Exception as exc:
            problems.append(f"check host {spec!r}: cannot connect: {type(exc).__name__}: {exc}")
            continue
        for addr in res.addresses:
            try:
                ok = bool(host.addr(addr).port(port).is_reachable)
                err = ""
            except Exception as exc:  # the host could not run the probe: that is a failure, not a pass
                ok, err = False, f"{type(exc).__name__}: {exc}"
            out.append(Reach(spec, res.name, addr, port, ok, err))
            if not ok:
                problems.append(f"from {spec}: {res.name} -> {addr}:{port} not reachable {err}".rstrip())
    return out, problems
