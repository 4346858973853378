"""Pure statement builders for replication control: stop, start, reset, re-point — no I/O.

The dialect is chosen from a :class:`Flavour` and whether the server is RDS/Aurora (no SUPER, so
``CHANGE MASTER`` and thread control go through ``mysql.rds_*`` procedures):

    >>> stop_replica(Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB"))
    'STOP SLAVE'
    >>> stop_replica(Flavour("mysql", (8, 0, 36), "8.0.36"), rds=True)
    'CALL mysql.rds_stop_replication'
    >>> st = change_source(Flavour("mariadb", (10, 11, 6), "10.11.6"), "db", 3306, "repl", "s3cret")
    >>> st.shown[:50], "s3cret" in st.shown, "'s3cret'" in st.sql
    ("CHANGE MASTER TO MASTER_HOST='db', MASTER_PORT=330", False, True)

MySQL 5.7 / 8.0 / Aurora branches are verified by unit tests only (recorded syntax), never against
a live 5.7/8.0 server: the lab runs MariaDB. Reading a replica's status: :mod:`aurora_cutover.sql.replica_status`;
GTID positions and waits: :mod:`aurora_cutover.sql.gtid`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import literal as _lit


def _new_words(flavour: Flavour) -> bool:
    return flavour.mysql_at_least(8, 0, 22)


def stop_replica(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return "CALL mysql.rds_stop_replication"
    return "STOP REPLICA" if _new_words(flavour) else "STOP SLAVE"


def start_replica(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return "CALL mysql.rds_start_replication"
    return "START REPLICA" if _new_words(flavour) else "START SLAVE"


def reset_replica_all(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return ("CALL mysql.rds_reset_external_source" if flavour.is_mysql and flavour.mysql_at_least(8, 0, 23)
                else "CALL mysql.rds_reset_external_master")
    return "RESET REPLICA ALL" if _new_words(flavour) else "RESET SLAVE ALL"


@dataclass(frozen=True)
class Statement:
    """SQL that carries a secret: ``sql`` is executed, ``shown`` is what logs and evidence may print."""

    sql: str
    shown: str


def change_source(flavour: Flavour, host: str, port: int, user: str, password: str, *,
                  ssl: bool = True, rds: bool = False, position: str = "") -> Statement:
    """Point this server's replication at ``host`` from the position it already has (GTID auto-position).

    MariaDB: ``MASTER_USE_GTID=slave_pos``, after :func:`set_replica_position` to the new primary's own
    ``@@gtid_binlog_pos`` (drained, so the two hold the same data): exactly "from the target's current
    position", whatever either binlog remembers from earlier rounds (``current_pos`` would also count this
    server's old local GTIDs and can ask for a position the other binlog never had). MySQL:
    ``*_AUTO_POSITION=1`` (GTID sets do this by themselves). RDS/Aurora MySQL: the
    ``mysql.rds_set_external_*_with_auto_position`` procedure. RDS for MariaDB (and the lab, whose servers are
    MariaDB with RDS's procedures): ``mysql.rds_set_external_master_gtid`` with ``position``, since nobody but
    rdsadmin may ``SET GLOBAL gtid_slave_pos`` there.
    """
    if rds and flavour.is_mariadb and not position:
        raise ValueError("RDS for MariaDB: rds_set_external_master_gtid needs the GTID position")

    def build(pw: str) -> str:
        if rds and flavour.is_mariadb:
            return (f"CALL mysql.rds_set_external_master_gtid({_lit(host)}, {int(port)}, {_lit(user)}, {pw}, "
                    f"{_lit(position)}, {1 if ssl else 0})")
        if rds and flavour.is_mysql:
            proc = ("mysql.rds_set_external_source_with_auto_position" if flavour.mysql_at_least(8, 0, 23)
                    else "mysql.rds_set_external_master_with_auto_position")
            return f"CALL {proc}({_lit(host)}, {int(port)}, {_lit(user)}, {pw}, {1 if ssl else 0}, 0)"
        if flavour.is_mariadb:
            return (f"CHANGE MASTER TO MASTER_HOST={_lit(host)}, MASTER_PORT={int(port)}, MASTER_USER={_lit(user)}, "
                    f"MASTER_PASSWORD={pw}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, "
                    f"MASTER_SSL={1 if ssl else 0}")
        if flavour.mysql_at_least(8, 0, 23):
            return (f"CHANGE REPLICATION SOURCE TO SOURCE_HOST={_lit(host)}, SOURCE_PORT={int(port)}, "
                    f"SOURCE_USER={_lit(user)}, SOURCE_PASSWORD={pw}, SOURCE_AUTO_POSITION=1, "
                    f"SOURCE_CONNECT_RETRY=1, SOURCE_SSL={1 if ssl else 0}")
        return (f"CHANGE MASTER TO MASTER_HOST={_lit(host)}, MASTER_PORT={int(port)}, MASTER_USER={_lit(user)}, "
                f"MASTER_PASSWORD={pw}, MASTER_AUTO_POSITION=1, MASTER_CONNECT_RETRY=1, "
                f"MASTER_SSL={1 if ssl else 0}")
    return Statement(build(_lit(password)), build("'***'"))


def set_replica_position(flavour: Flavour, position: str, *, rds: bool = False) -> tuple[str, tuple[str]] | None:
    """MariaDB: where the next ``MASTER_USE_GTID=slave_pos`` replication starts (replica threads stopped).
    RDS: None — the position is an argument of :func:`change_source`'s procedure instead."""
    return ("SET GLOBAL gtid_slave_pos = %s", (position,)) if flavour.is_mariadb and not rds else None
