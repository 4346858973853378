"""What every step needs: the config, admin sessions (reopened when dropped), the deadline, facts.

    >>> ctx = Context.start(m, "cutover", route53=aws_client(m.aws, "route53"))
    >>> ctx.bound(m.cutover.drain_timeout_s)     # never beyond the total timeout
    >>> ctx.admin("source")                       # admin session (the RDS/Aurora master user over TLS)
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.cutover.faultpoint import FaultPoint
from aurora_cutover.db import Flavour, alive, connect, detect_flavour
from aurora_cutover.db.connect import describe_tls
from aurora_cutover.sql import fence


class CutoverTimeout(Exception):
    """The total timeout (cutover.timeout_s) is used up."""


@dataclass
class Context:
    m: Migration
    action: str  # "cutover" | "rollback"
    route53: Any
    run_id: str = field(default_factory=lambda: secrets.token_hex(6))
    deadline: float = 0.0
    accept_data_loss: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    # Tests inject faults here: hooks["before:<step>"](ctx) runs just before that step's do().
    hooks: dict[str, Callable[[Context], None]] = field(default_factory=dict)
    aws: Callable[[str], Any] | None = None
    fault: FaultPoint | None = None  # the documented fault-injection hook (cutover/faultpoint.py), else None
    # Every database session the action opened → its TLS protocol and cipher (the evidence's "tls"; no secret).
    tls: dict[str, str] = field(default_factory=dict)
    _conns: dict[str, Any] = field(default_factory=dict)
    _flavours: dict[str, Flavour] = field(default_factory=dict)

    @classmethod
    def start(cls, m: Migration, action: str, route53: Any, **kw: Any) -> Context:
        ctx = cls(m, action, route53, **kw)
        ctx.deadline = time.monotonic() + m.cutover.timeout_s
        aws = ctx.aws
        if aws is not None:
            def guarded(service: str) -> Any:
                ctx.guard()
                return aws(service)
            ctx.aws = guarded
        return ctx

    def guard(self) -> None:
        """Before acting on a server or AWS: a run taken over while it was paused stops here (the journal's
        :meth:`~aurora_cutover.cutover.journal.Journal.confirm` raises Superseded), changing nothing."""
        lock = self.facts.get("lock")
        confirm = getattr(lock, "confirm", None)
        if confirm is not None:
            confirm()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def bound(self, seconds: float) -> float:
        """A wait of at most ``seconds``, never past the total deadline; raises when nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise CutoverTimeout(f"total timeout cutover.timeout_s = {self.m.cutover.timeout_s:.0f}s used up")
        return max(0.05, min(seconds, left))

    def undo_bound(self, seconds: float) -> float:
        """An undo's own budget: undos run exactly when the total deadline may be used up, and each must still
        be attempted, bounded (the result lists what was and was not undone)."""
        return seconds

    def admin(self, side: str) -> Any:
        self.guard()
        c = self._conns.get(side)
        if c is not None:
            if alive(c):
                return c
            self.drop(side)
        read_timeout = max(5.0, min(self.m.endpoint(side).read_timeout_s, self.remaining() + 5))
        c = connect(self.m, side, admin=True, read_timeout_s=read_timeout)  # type: ignore[arg-type]
        self._conns[side] = c
        self.note_tls(f"admin on {side}", c, side)
        return c

    def note_tls(self, what: str, conn: Any, side: str) -> None:
        """Record the session's TLS version and cipher as the server reports them (never fails the action)."""
        try:
            self.tls[f"{what} ({self.m.endpoint(side).host})"] = str(describe_tls(conn, self.m.endpoint(side)))
        except Exception as exc:  # the evidence says so; the action goes on
            self.tls[f"{what} ({self.m.endpoint(side).host})"] = f"unknown ({type(exc).__name__})"

    def drop(self, side: str) -> None:
        c = self._conns.pop(side, None)
        if c is not None:
            with contextlib.suppress(Exception):
                c.close()

    def flavour(self, side: str) -> Flavour:
        if side not in self._flavours:
            self._flavours[side] = detect_flavour(self.admin(side))
        return self._flavours[side]

    def rds(self, side: str) -> bool:
        """RDS/Aurora (and the lab): no SUPER, kill/replication via the mysql.rds_* procedures."""
        key = f"rds:{side}"
        if key not in self.facts:
            fl = self.flavour(side)
            self.facts[key] = fl.name == "aurora-mysql" or int(self.one(side, fence.HAS_RDS_PROCEDURES) or 0) > 0
        return bool(self.facts[key])

    def query(self, side: str, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        with self.admin(side).cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def one(self, side: str, sql: str, args: Any = None) -> Any:
        rows = self.query(side, sql, args)
        return rows[0][0] if rows else None

    def close(self) -> None:
        for side in list(self._conns):
            self.drop(side)
