"""Crash recovery (the fault matrix's SIGKILL and SIGSTOP rows, docs/fault-matrix.md).

The operator's `pytest -m <action> --confirm` kills itself at a named point of a step through the product's one
fault-injection hook (cutover/faultpoint.py, ``AURORA_CUTOVER_FAULT``); the next command reads the dead run's
DynamoDB journal and the live record and undoes what it did (no flip) or finishes it (flipped). The points come
from the step lists the code builds (``steps_for``), so a new step is covered without touching this file.

Every case is judged by a client writing through the switch name the whole time (a write journal): 0 acknowledged
writes lost, no write acknowledged by the old primary after one was acknowledged by the new one, exactly one
writable primary with the record on it, the journal DONE or UNDONE, the other side replicating again.
Slow (lease waits): `make test-slow`. One lab for the whole file: a case starts from the state the previous one
left when that is the state it needs (an undo leaves the lab as it found it), else the lab is put there.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.config import Migration
from aurora_cutover.cutover import journal
from aurora_cutover.cutover.actions import steps_for
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.faultpoint import ENV
from aurora_cutover.guardrails import probes as guard
from aurora_cutover.lab.setup import Lab, lab_config
from aurora_cutover.loading import load
from tests.integration.conftest import ROOT, replica_running, run_product
from tests.integration.cutover_helpers import (
    app_connect_through_name,
    failure_messages,
    fast_config,
    read_only,
    record_value,
    restore_lab,
    write_readiness_evidence,
)

LEASE_S = "3.0"  # the journal's minimum: a dead run's lease runs out fast
HOME = {"cutover": "source", "rollback": "target"}
AWAY = {"cutover": "target", "rollback": "source"}


MATRIX_ENV = "AURORA_CRASH_MATRIX"  # "full": every point below; else the quick set (make test-slow's time budget)


def kill_points(action: str, full: bool | None = None) -> list[tuple[str, str]]:
    """(when, step) for every step of ``action`` as the code builds it for this lab's config: after it (journaled
    done); and inside it (its effects in place, not journaled, its facts unsaved) when it has an undo — the next
    run must undo it from the live state — or when it is at or after the point of no return — the next run runs
    it again, so it must be idempotent.

    The quick set (~8 min) keeps what a step adds to the next run's work: ``after`` every step with an undo or at
    or after the point of no return, and ``inside`` the point of no return. A step without an undo before the flip
    changes nothing to undo, so killing after it is killing after the step before it plus read-only work; the full
    set (``AURORA_CRASH_MATRIX=full``, ``make test-crash``, ~20 min) kills there too, and inside every step above."""
    full = os.environ.get(MATRIX_ENV) == "full" if full is None else full
    steps = steps_for(action, Context.start(lab_config(), action, None))
    cut = next(i for i, s in enumerate(steps) if s.point_of_no_return)
    out = []
    for i, s in enumerate(steps):
        if (s.undo is not None or i >= cut) and (full or i == cut):
            out.append(("inside", s.name))
        if full or s.undo is not None or i >= cut:
            out.append(("after", s.name))
    return out


def flipped_by(action: str, step: str) -> bool:
    """A kill inside or after the point of no return (or a later step) leaves the record on the other side."""
    steps = steps_for(action, Context.start(lab_config(), action, None))
    cut = next(i for i, s in enumerate(steps) if s.point_of_no_return)
    return [s.name for s in steps].index(step) >= cut


def _ordered() -> list[tuple[str, str, str]]:
    """Every case, in an order that lets each start where the previous one left the lab (see Shared.at): the
    cutover's undone kills (lab stays on the source), one finished → on the target, the rollback's undone kills
    (stays there), then finished cutovers and rollbacks in turn."""
    before = {a: [(a, w, s) for w, s in kill_points(a) if not flipped_by(a, s)] for a in ("cutover", "rollback")}
    after = {a: [(a, w, s) for w, s in kill_points(a) if flipped_by(a, s)] for a in ("cutover", "rollback")}
    out = before["cutover"] + after["cutover"][:1] + before["rollback"]
    rest_c, rest_r = after["cutover"][1:], after["rollback"]
    for i in range(max(len(rest_c), len(rest_r))):
        out += rest_r[i:i + 1] + rest_c[i:i + 1]
    return out


CASES = [pytest.param(*c, id="-".join(c)) for c in _ordered()]


# --------------------------------------------------------------------------- the write journal


@dataclass
class Writer:
    """The application: one row a time through the switch name, reconnecting (re-resolving) after every error.
    Bounded by count and time; ``acked`` is (seq, server_id, monotonic time) of every acknowledged insert."""

    m: Migration
    marker: str
    max_writes: int = 4000
    max_s: float = 240.0
    acked: list[tuple[int, int, float]] = field(default_factory=list)
    refused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._run, name="app-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        conn, sid, deadline = None, 0, time.monotonic() + self.max_s
        for seq in range(self.max_writes):
            if self._stop.is_set() or time.monotonic() > deadline:
                break
            try:
                if conn is None:
                    conn = app_connect_through_name(self.m)
                    with conn.cursor() as cur:
                        cur.execute("SELECT @@server_id")
                        sid = int(cur.fetchone()[0])
                with conn.cursor() as cur:  # autocommit: acknowledged = committed
                    cur.execute("INSERT INTO activity_log (event_type, entity_type, entity_id) "
                                "VALUES (%s, 'test', %s)", (self.marker, seq))
                self.acked.append((seq, sid, time.monotonic()))
            except Exception:
                self.refused += 1
                with contextlib.suppress(Exception):
                    conn.close()  # type: ignore[union-attr]
                conn = None
            self._stop.wait(0.1)
        with contextlib.suppress(Exception):
            conn.close()  # type: ignore[union-attr]


def server_id(lab: Lab, side: str) -> int:
    return int(getattr(lab, side).query("SELECT @@server_id")[0][0])


def seqs_on(lab: Lab, side: str, marker: str) -> set[int]:
    rows = getattr(lab, side).query("SELECT entity_id FROM activity_log WHERE event_type = %s", (marker,),
                                    database=lab.database)
    return {int(r[0]) for r in rows}


# --------------------------------------------------------------------------- one lab for the file


@dataclass
class Shared:
    lab: Lab
    cfg: Path
    reports: Path
    on: str = "unknown"  # source | target | unknown (a case failed half-way)
    flipped: bool = True  # the emulator refuses a flip to a value it once held: a reset is due first

    def at(self, side: str) -> None:
        if self.on == side and (side == "target" or not self.flipped):
            return
        if self.on != "source" or self.flipped:
            restore_lab(self.lab)
            self.on, self.flipped = "source", False
        if side == "target":
            write_readiness_evidence(self.reports, self.cfg)
            rc, doc, out = run_product(["-m", "cutover", "--confirm"], self.reports, config=str(self.cfg),
                                       timeout_s=150)
            assert rc == 0, failure_messages(doc) if doc else out[-2000:]
            self.on, self.flipped = "target", True


@pytest.fixture(scope="module")
def shared(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Any:
    assert replica_running(lab), "lab replication is not running before the test"
    tmp = tmp_path_factory.mktemp("crash")
    st = Shared(lab, fast_config(lab, tmp, verify_grace_s="2.0", lease_s=LEASE_S), tmp / "reports")
    yield st
    restore_lab(lab)


def start_killed(cfg: Path, reports: Path, action: str, point: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MIGRATION_CONFIG": str(cfg), ENV: point}
    return subprocess.Popen([sys.executable, "-m", "pytest", "-m", action, "--confirm", "-p", "no:randomly",
                             f"--reports-dir={reports}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_dead(proc: subprocess.Popen[bytes], timeout_s: float = 150) -> int:
    try:
        return proc.wait(timeout_s)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
    except (OSError, IndexError):
        return False


def assert_one_primary(lab: Lab, m: Migration, primary: str) -> None:
    """The record on ``primary``, it writable for the app, the other side read_only."""
    other = "target" if primary == "source" else "source"
    assert record_value(lab) == m.endpoint(primary).dns_name, f"record on {record_value(lab)}, not the {primary}"
    assert (read_only(lab, primary), read_only(lab, other)) == (0, 1), \
        f"read_only {primary}={read_only(lab, primary)} {other}={read_only(lab, other)}: not one writable primary"


def assert_write_journal(lab: Lab, w: Writer, primary: str, new_side: str) -> None:
    """Every acknowledged write is on the primary; no write was acknowledged by the old side after the new side
    acknowledged one (a client never saw two primaries); the other side replicates them all."""
    have = seqs_on(lab, primary, w.marker)
    lost = sorted({s for s, _sid, _t in w.acked} - have)
    assert not lost, f"{len(lost)} acknowledged write(s) not on the {primary}: seq {lost[:10]}"
    new_id = server_id(lab, new_side)
    first_new = next((t for _s, sid, t in w.acked if sid == new_id), None)
    both = [s for s, sid, t in w.acked if first_new is not None and sid != new_id and t > first_new]
    assert not both, f"split brain: the old side acknowledged seq {both[:10]} after the {new_side} took writes"
    other = "target" if primary == "source" else "source"
    deadline = time.monotonic() + 30
    while seqs_on(lab, other, w.marker) != have and time.monotonic() < deadline:
        time.sleep(0.3)
    assert seqs_on(lab, other, w.marker) == have, f"the {other} does not replicate the {primary}'s writes"


@pytest.mark.parametrize(("action", "when", "step"), CASES)
def test_killed_at_every_step_the_next_command_ends_consistent(shared, action, when, step):
    lab, cfg = shared.lab, shared.cfg
    m = load(cfg)
    shared.at(HOME[action])
    shared.on = "unknown"
    if action == "cutover":
        write_readiness_evidence(shared.reports, cfg)
    w = Writer(m, f"crash-{action}-{when}-{step}"[:64]).start()
    try:
        time.sleep(0.5)
        rc = wait_dead(start_killed(cfg, shared.reports, action, f"{action}:{when}:{step}"))
        assert rc == -signal.SIGKILL, f"the {action} was not killed {when} {step} (exit {rc})"
        dead = journal.read(lab.aws.client("dynamodb"), m.journal.table, m.migration.name)
        assert dead is not None and dead.state == "running", dead
        assert (step in dead.steps_done) == (when == "after"), dead.describe()
        assert when == "after" or step in dead.step, dead.describe()  # "flip" / "flipped:flip (submitted)"
        flipped = flipped_by(action, step)
        shared.flipped |= flipped  # the emulator now refuses that flip again until a reset
        if action == "cutover":
            write_readiness_evidence(shared.reports, cfg)
        rc, doc, out = run_product(["-m", action, "--confirm"], shared.reports, config=str(cfg), timeout_s=150)
        assert doc is not None and action in doc, out[-2000:]
        r = doc[action]
        assert r["recovered"]["run_id"] == dead.run_id and "RECOVERED" in r["message"], r["message"]
        if flipped:
            assert rc == 0 and r["state"] == "done", r["message"]
            assert "flip" not in {s["step"] for s in r["steps"]} and "flip_back" not in {s["step"] for s in r["steps"]}
        else:
            assert rc != 0 and r["state"] == "undone" and "had not flipped" in r["message"], r["message"]
            assert all(u["outcome"] == "undone" for u in r["undo"]), r["undo"]
        time.sleep(1.0)  # a few writes on the primary the recovery left
    finally:
        w.stop()
    end = journal.read(lab.aws.client("dynamodb"), m.journal.table, m.migration.name)
    assert end is not None and end.state in journal.TERMINAL, end
    primary = AWAY[action] if flipped else HOME[action]
    assert_one_primary(lab, m, primary)
    assert w.acked and w.acked[-1][1] == server_id(lab, primary), "the app does not write on the primary at the end"
    assert_write_journal(lab, w, primary, AWAY[action])
    if primary == "source":  # the next cutover must be possible: its recheck refuses target-local transactions
        with lab.source.admin() as src, lab.target.admin() as tgt:
            # the fence's own ACCOUNT (UN)LOCK on the target is set aside (account administration, named in
            # the facts); any data write the recovery left there is not
            own = guard.local_writes_on_target(src, tgt, m.target.database)[0]
        if own:
            raise AssertionError(f"the target holds data transactions of its own after the recovery: {', '.join(own)}")
    shared.on = primary


@pytest.mark.parametrize("paused_before", ["fence", "flip"])
def test_a_run_paused_past_its_lease_wakes_up_superseded_and_changes_nothing(shared, tmp_path, paused_before):
    """SIGSTOP (a frozen laptop or VM) just before the run fences the source / submits the flip, i.e. with its
    intent journaled and nothing done: the next `cutover --confirm` takes the journal over after the lease and
    undoes what the sleeper had done; then the sleeper is woken (SIGCONT). Its first action asks the journal
    (conditional write on its fencing token) and stops SUPERSEDED: no fence, no flip — the lab stays as the
    recovery left it."""
    lab, cfg = shared.lab, shared.cfg
    m = load(cfg)
    shared.at("source")
    shared.on = "unknown"
    mine = tmp_path / "sleeper-reports"
    write_readiness_evidence(mine, cfg)
    write_readiness_evidence(shared.reports, cfg)
    proc = start_killed(cfg, mine, "cutover", f"cutover:before:{paused_before}:STOP")
    try:
        deadline = time.monotonic() + 90
        while not stopped(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stopped(proc.pid), f"the cutover never paused before {paused_before} (exit {proc.poll()})"
        dyn = lab.aws.client("dynamodb")
        asleep = journal.read(dyn, m.journal.table, m.migration.name)
        assert asleep is not None and asleep.state == "running" and paused_before in asleep.step, asleep
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], shared.reports, config=str(cfg), timeout_s=150)
        assert doc is not None and rc != 0, out[-2000:]
        r = doc["cutover"]
        assert r["state"] == "undone" and r["recovered"]["run_id"] == asleep.run_id, r["message"]
        taken = journal.read(dyn, m.journal.table, m.migration.name)
        assert taken is not None and taken.token == asleep.token + 1 and taken.state == "undone", taken
        os.kill(proc.pid, signal.SIGCONT)
        rc = proc.wait(90)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    docs = sorted(mine.glob("*-cutover.json"), key=lambda p: p.stat().st_mtime)
    assert rc != 0 and docs, f"the woken run exited {rc} without evidence"
    woke = json.loads(docs[-1].read_text())["cutover"]
    assert woke["state"] == "SUPERSEDED" and "nothing was undone" in woke["message"], woke["message"]
    after = journal.read(lab.aws.client("dynamodb"), m.journal.table, m.migration.name)
    assert after == taken, f"the woken run wrote the journal: {after and after.describe()}"
    assert_one_primary(lab, m, "source")
    w = Writer(m, f"after-sleeper-{paused_before}", max_writes=3).start()
    time.sleep(1.0)
    w.stop()
    assert [sid for _s, sid, _t in w.acked] == [server_id(lab, "source")] * 3, "the app cannot write on the source"
    assert_write_journal(lab, w, "source", "target")
    shared.on = "source"
