"""Triggers live only where the application writes, never where DMS applies (see ``sql/triggers.py``).

    >>> copy(ctx, "source", "target")      # the cutover, once the forward DMS task has stopped
    ['trg_enrollments_status_audit']
    >>> remove(ctx, "source", kept_on="target")   # reverse DMS: before the reverse task starts

Order makes a crash harmless: a trigger is removed from a side only once the other side holds it, so its
definition is always on at least one server (and ``copy`` / ``remove`` are idempotent for a rerun).
"""

from __future__ import annotations

from typing import Any

from aurora_cutover.cutover.context import Context
from aurora_cutover.sql import triggers as tsql

# MySQL/MariaDB: naming another definer needs SUPER / SET_USER_ID (1227); binlog on without
# log_bin_trust_function_creators needs SUPER for any trigger (1419), RDS's parameter-group setting.
_NEEDS_SUPER, _NEEDS_TRUST = 1227, 1419


class TriggerError(Exception):
    """A trigger could not be moved; the message names it and why."""


def names(ctx: Context, side: str) -> dict[str, tuple[str, str]]:
    """Trigger name → (table, body) on ``side``'s migrated database, in-scope tables only."""
    db = ctx.m.endpoint(side).database
    return {str(n): (str(t), " ".join(str(b).split())) for n, t, b in ctx.query(side, *tsql.listing(db))
            if ctx.m.tables.in_scope(str(t))}


def read(ctx: Context, side: str) -> list[tsql.Trigger]:
    db = ctx.m.endpoint(side).database
    out = []
    for name, (table, _body) in names(ctx, side).items():
        rows = ctx.query(side, tsql.show_create(db, name))
        if not rows:
            raise TriggerError(f"{side}: SHOW CREATE TRIGGER {name} returned nothing")
        out.append(tsql.parse_show_create(rows[0], table))
    return out


def copy(ctx: Context, src: str, dst: str) -> dict[str, Any]:
    """Create on ``dst`` every in-scope trigger ``src`` has that ``dst`` lacks. One with the same name but
    another body is an error (never overwritten)."""
    have, want = names(ctx, dst), names(ctx, src)
    created, notes = [], []
    conn = ctx.admin(dst)
    with conn.cursor() as cur:
        cur.execute(tsql.use(ctx.m.endpoint(dst).database))
        try:
            for t in read(ctx, src):
                if t.name in have:
                    if have[t.name][1] != want[t.name][1]:
                        raise TriggerError(f"trigger {t.name} exists on the {dst} with another body: not replaced")
                    continue
                for q, a in tsql.session(t):
                    cur.execute(q, a)
                try:
                    cur.execute(t.statement)
                except Exception as exc:
                    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
                    if code == _NEEDS_TRUST:
                        raise TriggerError(f"{dst}: cannot create trigger {t.name}: binlog on and "
                                           "log_bin_trust_function_creators = 0 — set it to 1 in the parameter "
                                           "group (RDS/Aurora)") from None
                    if code != _NEEDS_SUPER:
                        raise TriggerError(f"{dst}: cannot create trigger {t.name}: {exc.args[-1]}") from None
                    cur.execute(tsql.without_definer(t.statement))
                    notes.append(f"{t.name}: created with the admin as definer (was {t.definer}; naming "
                                 "another definer needs SUPER)")
                created.append(t.name)
        finally:
            for q in tsql.restore_session():
                cur.execute(q)
    return {"created": created, "already_there": sorted(set(want) & set(have)), **({"notes": notes} if notes else {})}


def remove(ctx: Context, side: str, *, kept_on: str, only: list[str] | None = None) -> list[str]:
    """Drop ``side``'s in-scope triggers (or ``only`` those) — each only if ``kept_on`` holds it."""
    there, kept = names(ctx, side), names(ctx, kept_on)
    todo = [n for n in there if only is None or n in only]
    missing = [n for n in todo if n not in kept]
    if missing:
        raise TriggerError(f"not dropping trigger(s) {', '.join(missing)} from the {side}: the {kept_on} does not "
                           "hold them (their definition would be lost)")
    db = ctx.m.endpoint(side).database
    for n in todo:
        ctx.query(side, tsql.drop(db, n))
    return todo
