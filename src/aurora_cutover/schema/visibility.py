"""Readiness preflight: can the checker's login see every object kind the schema-drift check compares?

    >>> gaps(conn, m, "target")     # [] or ["TRIGGER (triggers are hidden ...)", ...]

Without TRIGGER / SHOW VIEW / EVENT / routine access, information_schema shows no triggers, no events and
empty view and routine bodies on *both* sides, so a trigger missing on the target compares equal. This reads the
login's own grants (SHOW GRANTS) and names what it cannot see. Grants held only through a role that SHOW GRANTS
does not list are not counted (conservative: grant them to the login directly).
"""

from __future__ import annotations

from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.db import detect_flavour
from aurora_cutover.sql import grants


def gaps(conn: Any, m: Migration, side: str) -> list[str]:
    flavour = detect_flavour(conn)
    with conn.cursor() as cur:
        cur.execute(grants.show_grants_sql())
        lines = [str(r[0]) for r in cur.fetchall()]
    database = m.endpoint(side).database
    # the barrier and the heartbeat write on the source only
    hb = m.replication.heartbeat_table if side == "source" else None
    return grants.missing(grants.parse(lines), flavour, database, hb)
