"""GTID positions: read, wait for, parse — pure, no I/O (one parser per dialect for the whole product).

    >>> position(Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB"))
    'SELECT @@global.gtid_binlog_pos'
    >>> parse_mariadb("1-1-332,2-2-5")
    [(1, 1, 332), (2, 2, 5)]
    >>> mariadb_to_wait("1-1-9,2-2-5", "1-1-9,2-2-3")
    '2-2-5'
    >>> parse_mysql_set("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,abc:1-3:7")
    {'3e11fa47-71ca-11e1-9e33-c80aa9429562': '1-5', 'abc': '1-3:7'}
"""

from __future__ import annotations

from aurora_cutover.db.flavour import Flavour

MARIADB_POSITION_AND_ID = "SELECT @@global.gtid_binlog_pos, @@server_id"
MARIADB_POSITION = "SELECT @@global.gtid_binlog_pos"
MYSQL_EXECUTED = "SELECT @@global.gtid_executed"
MYSQL_UUID_AND_EXECUTED = "SELECT @@server_uuid, @@global.gtid_executed"


def position(flavour: Flavour) -> str:
    """Everything this server has written to its binlog (own + replicated with log_slave_updates)."""
    return MARIADB_POSITION if flavour.is_mariadb else MYSQL_EXECUTED


def wait(flavour: Flavour, pos: str, timeout_s: float) -> tuple[str, tuple[str, float]]:
    """Block until this server has applied ``pos``; see :func:`wait_ok` for the result."""
    if flavour.is_mariadb:
        return "SELECT MASTER_GTID_WAIT(%s, %s)", (pos, float(timeout_s))
    return "SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (pos, float(timeout_s))


def wait_ok(flavour: Flavour, result: object) -> bool:
    """MASTER_GTID_WAIT: 0 = reached, -1 = timeout. WAIT_FOR_EXECUTED_GTID_SET: 0 = reached, 1 = timeout.

    >>> wait_ok(Flavour("mariadb", (10, 11, 6), "10.11.6"), -1), wait_ok(Flavour("mysql", (8, 0, 36), "8.0.36"), 0)
    (False, True)
    """
    return result is not None and int(result) == 0  # type: ignore[call-overload]


def parse_mariadb(pos: str) -> list[tuple[int, int, int]]:
    """'1-1-332,2-2-5' -> [(domain, server_id, seq), ...] (newlines, as some servers print them, ignored)."""
    out = []
    for part in (pos or "").replace("\n", "").split(","):
        part = part.strip()
        if part:
            d, s, n = part.split("-")
            out.append((int(d), int(s), int(n)))
    return out


def by_domain(pos: str) -> dict[int, tuple[int, int]]:
    """'1-1-9,2-2-5' -> {domain: (server_id, seq)}: a position holds one GTID per domain.

    >>> by_domain("1-1-9,2-2-5")
    {1: (1, 9), 2: (2, 5)}
    """
    return {d: (s, n) for d, s, n in parse_mariadb(pos)}


def mariadb_to_wait(src_pos: str, dst_pos: str) -> str:
    """The part of ``src_pos`` that ``dst`` does not have yet (per domain, by sequence number).

    MASTER_GTID_WAIT compares against @@gtid_slave_pos, which never holds a server's own domain: a former
    primary waiting for "1-1-2290,2-2-2" (1 = its own writes) would wait forever. So wait only for the
    domains where the other side is ahead.
    """
    src, dst = by_domain(src_pos), by_domain(dst_pos)
    return ",".join(f"{d}-{srv}-{seq}" for d, (srv, seq) in sorted(src.items()) if seq > dst.get(d, (0, 0))[1])


def parse_mysql_set(gtid_set: str) -> dict[str, str]:
    """'uuid:1-5,uuid2:1-3:7' -> {uuid (lower case): intervals}"""
    out = {}
    for part in (gtid_set or "").replace("\n", "").split(","):
        part = part.strip()
        if part:
            uuid, _, rest = part.partition(":")
            out[uuid.lower()] = rest
    return out
