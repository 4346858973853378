"""Verifier: the switch name resolves to the new primary (answers in a row, after the record's own TTL), the
application login lands there through db.connect and writes a canary; sessions left on the old primary listed.

    >>> verify_on(ctx, "target")
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pymysql

from aurora_cutover.cutover import probes
from aurora_cutover.cutover.base import OTHER, StepFailed, app_login
from aurora_cutover.cutover.context import Context
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.dns.resolve import ResolveError
from aurora_cutover.dns.resolve import resolve as dns_resolve
from aurora_cutover.evidence.record import iso, utc_now
from aurora_cutover.sql import heartbeat, session

# --------------------------------------------------------------------------- verify


def _expected_addresses(ctx: Context, side: str) -> set[str]:
    ep = ctx.m.endpoint(side)
    try:
        return set(dns_resolve(ctx.m.dns, name=ep.dns_name).addresses) | {ep.host}
    except ResolveError:
        return {ep.host}


VERIFY_ANSWERS = 3  # in a row on the new side: during propagation one answer proves nothing


def verify_on(ctx: Context, side: str) -> dict[str, Any]:
    """The name resolves to ``side``, the app lands there and can write; no app session left on the other."""
    ep, other = ctx.m.endpoint(side), OTHER[side]
    rec = ctx.facts.get("record")  # resolvers cache for the record's own TTL, whatever the config says
    ttl = max(ctx.m.dns.ttl, int(getattr(rec, "ttl", 0) or 0))
    time.sleep(ctx.bound(float(ttl)))  # resolvers may serve the old answer for one TTL
    want = _expected_addresses(ctx, side)
    limit = time.monotonic() + ctx.bound(float(ttl) + ctx.m.cutover.verify_grace_s)
    got: tuple[str, ...] = ()
    agreeing = 0  # consecutive answers: while a change propagates one answer may be old, the next new
    while True:
        try:
            got = dns_resolve(ctx.m.dns).addresses
        except ResolveError as exc:
            got, err = (), str(exc)
        else:
            err = ""
        agreeing = agreeing + 1 if got and set(got) <= want else 0
        if agreeing >= VERIFY_ANSWERS:
            break
        if time.monotonic() > limit:
            raise StepFailed(f"{ctx.m.dns.record_name} resolves to {list(got) or err}, not {side} {sorted(want)} "
                             f"({VERIFY_ANSWERS} answers in a row needed)")
        time.sleep(0.2 if agreeing == 0 else 0.05)
    login = app_login(ctx)
    server_id = int(ctx.one(side, session.SERVER_ID))
    # The name points to ``side`` (above); the canary session goes to the endpoint itself through db.connect, so
    # its TLS checks what the config asks (verify-identity: RDS/Aurora certificates name the instance/cluster
    # endpoints, never a custom CNAME such as the switch name).
    try:
        app = connect(ctx.m, side, login=login, read_timeout_s=10)  # type: ignore[arg-type]
    except ConnectError as exc:
        raise StepFailed(f"app login {login.user} on {side} ({ctx.m.dns.record_name} → {got[0]}) refused: "
                         f"{exc}") from None
    ctx.note_tls(f"app login {login.user} on {side} (canary)", app, side)
    canary = f"canary:{ctx.action}:{ctx.run_id}"[:64]
    try:
        with app.cursor() as cur:
            cur.execute(session.SERVER_ID)
            landed = int(cur.fetchone()[0])
            if landed != server_id:
                raise StepFailed(f"a session through {ctx.m.dns.record_name} landed on server_id {landed}, "
                                 f"{side} is {server_id}")
            q, args = heartbeat.beat(ep.database, ctx.m.replication.heartbeat_table, canary)
            try:
                cur.execute(q, args)
            except pymysql.MySQLError as exc:
                raise StepFailed(f"canary write as {login.user} through {ctx.m.dns.record_name} on {side} failed: "
                                 f"{exc.args[1] if len(exc.args) > 1 else exc}") from None
            q, args = heartbeat.read(ep.database, ctx.m.replication.heartbeat_table, canary)
            cur.execute(q, args)
            if cur.fetchone() is None:
                raise StepFailed(f"canary row {canary!r} written through the name is not readable on {side}")
    finally:
        with contextlib.suppress(Exception):
            app.close()
    # Clients that resolved before the flip may keep the old answer for one TTL, then reconnect.
    settle = ctx.facts.get("insync_at", time.monotonic()) + ttl + ctx.m.cutover.verify_grace_s
    time.sleep(ctx.bound(max(0.0, settle - time.monotonic())))
    stragglers = probes.app_sessions(ctx, other)
    killed: list[int] = []
    if stragglers and ctx.m.cutover.kill_stragglers:
        killed = probes.kill_sessions(ctx, other, stragglers)
        time.sleep(0.2)
        stragglers = probes.app_sessions(ctx, other)
    ctx.facts["verified_at"] = time.monotonic()
    ctx.facts["verified_utc"] = iso(utc_now())
    out = {"resolves_to": list(got), "server_id": server_id, "canary": canary, "app_login": login.user,
           "waited_ttl_s": ttl, "stragglers_killed": killed,
           # not the application's, not fenced: listed so the operator sees who still talks to the old primary
           "other_sessions_on_old_primary": probes.other_sessions(ctx, other)}
    if stragglers:
        listed = ", ".join(f"{s['id']} {s['user']}@{s['host']}" for s in stragglers[:10])
        raise StepFailed(f"{len(stragglers)} application session(s) still on {other} after TTL + grace: {listed}")
    return out
