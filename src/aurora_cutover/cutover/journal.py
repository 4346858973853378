"""The action journal: one DynamoDB item per migration, outside both databases, with a lease and a fencing token.

    >>> j = Journal.acquire(dynamodb, m, "cutover", run_id)   # raises JournalHeld while a live run holds it
    >>> j.previous                                  # a crashed run's last record (its lease ran out), or None
    >>> j.step("fence"); j.save(facts, ["preflight", "recheck"], "fence"); j.finish("done")

Why DynamoDB: the journal must stay writable through every fence — a fenced RDS source refuses even its
master user, and the target is fenced during a rollback — and it must not live on the operator's machine
(a rollback from another host must find it). Every write is conditional on the holder's token: a run that
wakes up after another took over fails its next write (:class:`Superseded`) and stops before its next step.
The lease is renewed by a background thread every ``lease_s / 3``; a run that dies stops renewing, so after
``lease_s`` the next run may take over — and must then finish or undo what the dead run left.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.evidence.record import iso, utc_now

RUNNING = "running"
TERMINAL = ("done", "undone")  # a run that ended so frees the journal; any other state is dealt with next


class JournalError(Exception):
    """The journal cannot be read or written; the message names the table and the AWS error."""


class JournalHeld(JournalError):
    """A live run holds the journal (its lease has not run out)."""

    def __init__(self, message: str, info: dict[str, Any]) -> None:
        super().__init__(message)
        self.info = info


class Superseded(JournalError):
    """Another run took the journal over (our lease ran out): stop before the next step."""


@dataclass(frozen=True)
class Record:
    """The journal item as the last writer left it."""

    action: str
    run_id: str
    token: int
    state: str  # running | done | undone | STOPPED AFTER FLIP | UNDO INCOMPLETE
    step: str  # the step started last ("" before the first)
    steps_done: tuple[str, ...]
    facts: dict[str, Any]
    lease_until: float
    owner: str
    updated_utc: str

    @property
    def crashed(self) -> bool:
        """It was running and its holder stopped renewing the lease."""
        return self.state == RUNNING and self.lease_until < time.time()

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Record:
        def s(key: str) -> str:
            return str(item.get(key, {}).get("S", ""))

        def n(key: str) -> float:
            return float(item.get(key, {}).get("N", "0"))

        return cls(s("action"), s("run_id"), int(n("token")), s("state"), s("step"),
                   tuple(x.get("S", "") for x in item.get("steps_done", {}).get("L", [])),
                   json.loads(s("facts") or "{}"), n("lease_until"), s("owner"), s("updated_utc"))

    def describe(self) -> str:
        left = self.lease_until - time.time()
        lease = f"lease {left:.0f}s left" if left > 0 else f"lease ran out {-left:.0f}s ago"
        return (f"{self.action} run {self.run_id} by {self.owner}: {self.state}, step {self.step or '-'} "
                f"(done: {', '.join(self.steps_done) or 'none'}), {lease}, updated {self.updated_utc}")


def portable(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts another process can use: JSON values, without this process's monotonic clock readings."""
    out = {}
    for k, v in facts.items():
        if k.endswith("_at"):
            continue
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


@dataclass
class Journal:
    client: Any
    table: str
    key: str
    action: str
    run_id: str
    token: int
    lease_s: float
    previous: Record | None = None  # the record this run took over from
    new_client: Callable[[], Any] | None = None  # for the renewal thread (boto3 clients are not shared)
    superseded: bool = False
    replicated: bool = False  # the Lock interface: nothing of the journal travels with replication
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _held_until: float = 0.0  # monotonic: the lease this process last wrote (it keeps running through SIGSTOP)

    @classmethod
    def acquire(cls, client: Any, m: Migration, action: str, run_id: str, *,
                new_client: Callable[[], Any] | None = None, wait_s: float = 0.0) -> Journal:
        """Take the journal: free, finished, or its holder's lease ran out (then ``previous`` is what the dead
        run left). A live holder → :class:`JournalHeld` — after waiting up to ``wait_s`` for its lease."""
        table, key = m.journal.table, m.migration.name
        deadline = time.monotonic() + wait_s
        while True:
            prev = read(client, table, key)
            live = prev is not None and prev.state == RUNNING and prev.lease_until >= time.time()
            if not live or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.1, prev.lease_until - time.time() + 0.1)))  # type: ignore[union-attr]
        if live:
            info = {"run_id": prev.run_id, "action": prev.action, "step": prev.step,  # type: ignore[union-attr]
                    "owner": prev.owner, "state": prev.state}  # type: ignore[union-attr]
            raise JournalHeld(f"journal {table}/{key} held: {prev.describe()}", info)  # type: ignore[union-attr]
        token = (prev.token if prev else 0) + 1
        j = cls(client, table, key, action, run_id, token, m.journal.lease_s, prev, new_client)
        cond = "attribute_not_exists(migration)" if prev is None else "#t = :old"
        values = {":old": {"N": str(prev.token)}} if prev is not None else {}
        item = {"migration": {"S": key}, "steps_done": {"L": []}, "facts": {"S": "{}"}, "step": {"S": ""},
                **j._fields(RUNNING)}
        try:
            client.put_item(TableName=table, Item=item, ConditionExpression=cond,
                            **({"ExpressionAttributeNames": {"#t": "token"}, "ExpressionAttributeValues": values}
                               if prev is not None else {}))
        except Exception as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise JournalHeld(f"journal {table}/{key}: another run took it at the same moment", {}) from None
            raise JournalError(f"journal {table}: put_item: {_code(exc)}") from None
        j._held_until = time.monotonic() + j.lease_s
        j._start_renewal()
        return j

    def _fields(self, state: str) -> dict[str, Any]:
        return {"action": {"S": self.action}, "run_id": {"S": self.run_id}, "token": {"N": str(self.token)},
                "state": {"S": state}, "lease_until": {"N": f"{time.time() + self.lease_s:.3f}"},
                "owner": {"S": f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"},
                "updated_utc": {"S": iso(utc_now())}}

    def _update(self, client: Any, sets: dict[str, Any]) -> None:
        names = {f"#{k}": k for k in sets}
        values = {f":{k}": v for k, v in sets.items()} | {":mine": {"N": str(self.token)}}
        expr = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        sent = time.monotonic()
        try:
            client.update_item(TableName=self.table, Key={"migration": {"S": self.key}}, UpdateExpression=expr,
                               ConditionExpression="#token = :mine",
                               ExpressionAttributeNames=names | {"#token": "token"}, ExpressionAttributeValues=values)
        except Exception as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                self.superseded = True
                raise Superseded(f"journal {self.table}/{self.key}: another run took over (token {self.token} is "
                                 "no longer current) — this run stops here") from None
            raise JournalError(f"journal {self.table}: update_item: {_code(exc)}") from None
        if "lease_until" in sets:
            self._held_until = max(self._held_until, sent + self.lease_s)

    # ------------------------------------------------------------------ the Lock interface the runner uses

    def step(self, step: str) -> bool:
        """Intent, before the step acts. Raises Superseded when another run holds the journal now."""
        if self.superseded:
            raise Superseded(f"journal {self.table}/{self.key}: another run took over — this run stops here")
        self._update(self.client, {"step": {"S": step[:128]}, "updated_utc": {"S": iso(utc_now())},
                                   "lease_until": {"N": f"{time.time() + self.lease_s:.3f}"}})
        return True

    def confirm(self) -> None:
        """Before an action changes anything: a run that was paused (SIGSTOP, a frozen VM) past its lease may have
        been taken over while it slept — it must find out before it acts, not at its next step. Within the lease
        this costs nothing; past it, one conditional renewal decides: Superseded, or the lease is ours again. A
        journal that cannot be reached decides nothing here (the step's next journal write stops the run)."""
        if self.superseded:
            raise Superseded(f"journal {self.table}/{self.key}: another run took over — this run stops here")
        if time.monotonic() < self._held_until - self.lease_s / 3:
            return
        try:
            self._update(self.client, {"lease_until": {"N": f"{time.time() + self.lease_s:.3f}"}})
        except Superseded:
            raise
        except JournalError:
            return

    def save(self, facts: dict[str, Any], steps_done: list[str], started: str) -> None:
        """After each step: what is done and what the undo needs (portable facts)."""
        self._update(self.client, {"steps_done": {"L": [{"S": s} for s in steps_done]},
                                   "facts": {"S": json.dumps(portable(facts), default=str)},
                                   "step": {"S": started[:128]}, "updated_utc": {"S": iso(utc_now())}})

    def finish(self, state: str) -> bool:
        """The run's end: a terminal state frees the journal; others (STOPPED AFTER FLIP, UNDO INCOMPLETE)
        keep it for the next command, which reads this record."""
        self._stop.set()
        try:
            self._update(self.client, {"state": {"S": state[:64]}, "lease_until": {"N": "0"},
                                       "updated_utc": {"S": iso(utc_now())}})
            return True
        except JournalError:
            return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _start_renewal(self) -> None:
        if self.new_client is None:
            return
        client = self.new_client()

        def renew() -> None:
            while not self._stop.wait(self.lease_s / 3):
                try:
                    self._update(client, {"lease_until": {"N": f"{time.time() + self.lease_s:.3f}"}})
                except Superseded:
                    return
                except JournalError:
                    continue  # a missed renewal is retried; the lease covers three of them

        self._thread = threading.Thread(target=renew, name="journal-lease", daemon=True)
        self._thread.start()


def read(client: Any, table: str, key: str) -> Record | None:
    try:
        item = client.get_item(TableName=table, Key={"migration": {"S": key}}, ConsistentRead=True).get("Item")
    except Exception as exc:
        raise JournalError(f"journal {table}: get_item: {_code(exc)}") from None
    return Record.from_item(item) if item else None


def create_table(client: Any, table: str) -> bool:
    """The lab (Terraform in production): the table, keyed by migration name; True when created now."""
    with contextlib.suppress(Exception):
        client.describe_table(TableName=table)
        return False
    client.create_table(TableName=table, KeySchema=[{"AttributeName": "migration", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "migration", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    return True


def _code(exc: Exception) -> str:
    resp = getattr(exc, "response", None)  # botocore's connection errors carry response = None
    err = resp.get("Error", {}) if isinstance(resp, dict) else {}
    return str(err.get("Code") or type(exc).__name__)
