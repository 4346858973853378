"""Delta readiness, wired: which baseline a readiness session stands on, what it re-checks per table, and the
verified state (the next link) a green session leaves next to its evidence.

    >>> d = DeltaSession.open(m, parity, reports_dir, full=False)      # reads both sides' positions first
    >>> d.mode, d.reason            # ('delta', '') or ('full', 'no green readiness evidence with a verified state …')
    >>> parity.checksum_table("users", planner=d.planner)               # None for a full session
    >>> ev.session_data["parity"] = d.finish(results, json_path)         # writes <stamp>-readiness.verified.sqlite

Tracking file: when the tracker (parity/tracker.py) kept a valid ``<link>.tracking.sqlite`` for the link, its
persisted marks are used and the binlogs are read only from where it stopped (``before``/``tails``; the evidence's
``tracked`` says how many events each read); an unusable file is ignored with the reason (``tracking_note``).

Positions: both sides' binlog positions are read when the session opens, before any table is read on either
side; they are where the next delta's tracking starts. A delta then reads both sides' binlogs from its
baseline's positions to their end (bounded): every chunk untouched in between still holds as verified, every
touched one is re-checked at a position later than the session's start. See docs/data-parity.md.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.evidence.record import iso, utc_now
from aurora_cutover.parity import chain, delta, dirty, state, tracking
from aurora_cutover.parity.checkpoint import DeltaCarry, Resumable, fresh_utc
from aurora_cutover.parity.engine import DeltaChunks, Parity
from aurora_cutover.parity.results import TableResult
from aurora_cutover.parity.verdict import ChunkVerdict, Position
from aurora_cutover.replication import binlog_stream, changes

SIDES = ("source", "target")
TRACK_MAX_S = 300.0  # one tracking read per side per session, bounded; not caught up = a full pass, said why
TRACK_MAX_EVENTS = 20_000_000


@dataclasses.dataclass
class DeltaSession:
    m: Migration
    starts: dict[str, Position]  # read before any table: the next link's tracking starts here
    mode: str = "full"
    reason: str = ""  # why a full pass ("" for a delta; "--full" when asked)
    baseline: state.Baseline | None = None
    baseline_path: Path | None = None
    baseline_sha256: str = ""
    links: int = 0
    tracked: list[changes.Changes] = dataclasses.field(default_factory=list)
    plans: dict[str, delta.TablePlan] = dataclasses.field(default_factory=dict)
    sweep: bool = True  # False: dirty chunks only (the fenced final proof, cutover/final_verify.py)
    _planned: dict[str, tuple[tuple[str, bool], DeltaChunks | None]] = dataclasses.field(default_factory=dict)
    carry: DeltaCarry | None = None  # --resume of a delta on the same link: what the killed session verified
    carried_from: str = ""
    resume_note: str = ""  # what --resume did with an interrupted delta ("" = no delta to resume)
    before: dict[str, changes.Changes] = dataclasses.field(default_factory=dict)  # side -> the tracker's persisted
    tails: dict[str, changes.Changes] = dataclasses.field(default_factory=dict)  # side -> what this session read
    tracking_note: str = ""  # the tracking file used, or why none was
    tracking_load_s: float = 0.0  # reading and checking that file

    @classmethod
    def open(cls, m: Migration, parity: Parity, reports_dir: Path | None, *, full: bool,
             sweep: bool = True, resume: Resumable | None = None) -> DeltaSession:
        """``resume``: the interrupted session's checkpoint (``--resume``): a full one continues as a full pass, a
        delta one on the same link from the same positions (another link now: a new delta, ``resume_note`` why)."""
        d = cls(m, {side: parity.position(side) for side in SIDES}, sweep=sweep)
        if full:
            d.reason = "--full asked for a full pass"
        elif resume is not None and resume.delta is None:
            d.reason = "--resume continues a full pass"
        elif reports_dir is None:
            d.reason = "no reports directory"
        else:
            d._find(reports_dir, parity)
            if resume is not None:
                d._continue(resume)
        return d

    def _continue(self, resume: Resumable) -> None:
        """A killed delta continues only on the link it stood on: then its start positions stay this session's
        (its carried verdicts were read after them) and its equal verdicts are not read again."""
        assert resume.delta is not None
        was = resume.delta.start
        if self.mode != "delta":
            self.resume_note = f"--resume: the interrupted delta stood on {was.baseline}; now a full pass"
        elif (self.baseline_name, self.baseline_sha256) != (was.baseline, was.baseline_sha256):
            self.resume_note = (f"--resume: the interrupted delta stood on {was.baseline}, the newest usable link "
                                f"is {self.baseline_name}: a new delta, nothing carried over")
        else:
            self.starts, self.carry, self.carried_from = dict(was.starts), resume.delta, resume.session
            self.resume_note = (f"--resume continues the delta of session {resume.session} against "
                                f"{was.baseline} from its start positions")

    def _find(self, reports_dir: Path, parity: Parity) -> None:
        try:
            path, sha, b, links = chain.latest(reports_dir, self.m.fingerprint())
        except chain.ChainError as exc:
            self.reason = f"no usable baseline: {exc}"
            return
        self.baseline, self.baseline_path, self.baseline_sha256, self.links = b, path, sha, len(links)
        for side in SIDES:
            if side not in b.starts or not b.starts[side].file:
                self.reason = f"{side}: the baseline recorded no binlog position (binary logging off?)"
                return
        persisted = self._persisted(path, sha, b)
        for side in SIDES:
            pre = persisted.get(side)
            ch = _track(self.m, parity, side, pre.stop if pre is not None else b.starts[side])
            if pre is not None and ch.coverage:  # never fatal: read from the link's own start, as without it
                self.tracking_note = f"ignored for {side}: the tail from {pre.stop} could not be read ({ch.coverage})"
                pre = None
                ch = _track(self.m, parity, side, b.starts[side])
            self.tails[side] = ch
            if pre is not None:
                ch = tracking.merge(pre, ch)
                self.before[side] = pre
            self.tracked.append(ch)
            if not ch.coverage and ch.stopped_by != "end":
                ch.coverage = (f"tracking did not reach the end of the binlog (stopped by {ch.stopped_by} after "
                               f"{ch.events:,} events, {ch.seconds:.0f} s)")
            if ch.coverage:
                self.reason = f"{side}: {ch.coverage}"
                return
        self.mode = "delta"

    def _persisted(self, path: Path, sha: str, b: state.Baseline) -> dict[str, changes.Changes]:
        """What the tracker (parity/tracker.py) committed for this link; {} with the reason in ``tracking_note``
        when there is no usable file (then both binlogs are read from the link's own starts)."""
        file = tracking.path_for(path)
        if not file.exists():
            self.tracking_note = f"no tracking file {file.name}: the binlogs were read from the link's starts"
            return {}
        t0 = time.monotonic()
        try:
            got = tracking.load(file, tracking.identity(path, sha, b, self.m.fingerprint()))
        except (tracking.TrackingError, OSError, ValueError) as exc:
            self.tracking_note = f"ignored: {exc}"
            return {}
        finally:
            self.tracking_load_s = time.monotonic() - t0
        self.tracking_note = f"used {file.name}"
        return got

    def tracked_facts(self, inside: str = "events_in_session") -> dict[str, dict[str, Any]]:
        """Per side: from where, how far the tracker had read beforehand, how far this session read, and how
        many events each read (``inside`` names this session's count: "events_in_fence" for the final proof)."""
        out: dict[str, dict[str, Any]] = {}
        for c in self.tracked:
            pre, tail = self.before.get(c.side), self.tails.get(c.side, c)
            out[c.side] = {"from": str(c.start), "tracker_to": str(pre.stop) if pre is not None else "",
                           "to": str(c.stop), "events": c.events,
                           "events_before": pre.events if pre is not None else 0, inside: tail.events,
                           "row_images": c.row_images, "seconds": round(tail.seconds, 3),
                           "tracker_file_s": round(self.tracking_load_s, 3)}
        return out

    def tracked_line(self, here: str = "in this session") -> str:
        """One line for the report: how much the tracker had read beforehand vs this session, per side."""
        if not self.before:
            return f"tracker: none ({self.tracking_note})" if self.tracking_note else ""
        parts = [f"{c.side} {self.before[c.side].events:,} events read by the tracker beforehand "
                 f"({c.start} → {self.before[c.side].stop}), {self.tails[c.side].events:,} {here} (→ {c.stop})"
                 for c in self.tracked if c.side in self.before]
        return "tracker: " + "; ".join(parts)

    # ------------------------------------------------------------------ per table

    def planner(self, table: str, schema_fp: str, exact: bool, locate: dirty.Locate | None) -> DeltaChunks | None:
        """The engine's Planner: the chunks of ``table`` to re-check, or None (a full pass, reason kept). Planned
        once per table and definition: the count test and the checksum test of a table re-read the same chunks."""
        if self.mode != "delta" or self.baseline is None:
            return None
        known = self._planned.get(table)
        if known is not None and known[0] == (schema_fp, exact):
            return known[1]
        b = self.baseline
        one = dataclasses.replace(b, verdicts=tuple(b.table(table)),
                                  schema_fp={table: b.schema_fp[table]} if table in b.schema_fp else {})
        p = delta.plan(one, self.tracked, {table: schema_fp}, utc_now(), full_sweep_h=self.m.thresholds.full_sweep_h,
                       every_s=self.m.thresholds.evidence_freshness_s, exact={table: exact},
                       locate={table: locate} if locate is not None else None, sweep=self.sweep)
        tp = p.tables[table]
        self.plans[table] = tp
        out = None if tp.mode == "full" else DeltaChunks(tp.chunks, tp.line(self.baseline_name), tp.total,
                                                         self._carried(tp.chunks, schema_fp), self.carried_from,
                                                         tp.dirty_chunks)
        self._planned[table] = ((schema_fp, exact), out)
        return out

    def _carried(self, chunks: Sequence[ChunkVerdict], schema_fp: str) -> tuple[ChunkVerdict | None, ...]:
        """Per planned chunk, the killed session's equal, fresh verdict of it (bounds as the baseline types them)."""
        if self.carry is None:
            return ()
        out: list[ChunkVerdict | None] = []
        for v in chunks:
            c = self.carry.get(v, schema_fp)
            ok = c is not None and fresh_utc(c.checked_utc, self.m.thresholds.evidence_freshness_s)
            out.append(dataclasses.replace(c, lower=v.lower, upper=v.upper) if ok and c is not None else None)
        return tuple(out)

    def count(self, table: str, fresh: Mapping[delta.Bounds, tuple[int, int]]) -> delta.DeltaCount:
        """``table``'s exact counts: the baseline's verified chunks plus ``fresh`` (the chunks counted again)."""
        assert self.baseline is not None
        return delta.count(table, self.baseline.table(table), fresh)

    def untouched(self, table: str) -> bool:
        """No binlog read shows any change to ``table`` (bare name) since the baseline — not even DDL, which the
        binlog shows too: the fenced proof skips it without reading its definition."""
        if self.mode != "delta":
            return False
        for ch in self.tracked:
            mk = ch.tables.get(table)
            if mk is not None and (mk.keys or mk.whole or mk.rows):
                return False
        return True

    def baseline_chunks(self, table: str) -> int:
        return len(self.baseline.table(table)) if self.baseline is not None else 0

    @property
    def baseline_name(self) -> str:
        return self.baseline_path.name if self.baseline_path is not None else ""

    def full_note(self, table: str) -> str:
        """Why this table had a full pass, for its report line ("" when it was a delta)."""
        tp = self.plans.get(table)
        if self.mode != "delta":
            return f"full: {self.reason}"
        return tp.line(self.baseline_name) if tp is not None and tp.mode == "full" else ""

    # ------------------------------------------------------------------ the next link

    def merged(self, results: Sequence[TableResult]) -> list[ChunkVerdict]:
        """Every chunk's newest verdict: a delta table's re-checked chunks replace the baseline's, a full table's
        verdicts are all new."""
        out: list[ChunkVerdict] = []
        for r in results:
            tp = self.plans.get(r.name)
            if self.baseline is None or tp is None or tp.mode != "delta":
                out += r.verdicts
                continue
            new = {(v.lower, v.upper): v for v in r.verdicts}
            out += [new.get((v.lower, v.upper), v) for v in self.baseline.table(r.name)]
        return out

    def finish(self, results: Mapping[str, TableResult], tables: Sequence[str], evidence_json: Path | None
               ) -> dict[str, Any]:
        """The evidence's ``parity`` object; a session whose every table is green also writes its verified state."""
        got = [results[t] for t in tables if t in results]
        doc: dict[str, Any] = {"mode": self.mode, "baseline": self.baseline_name if self.mode == "delta" else "",
                               "chunks_checked": sum(r.chunks for r in got),
                               "chunks_total": sum(r.chunks_total or r.chunks for r in got)}
        if self.mode == "delta":
            doc.update(baseline_sha256=self.baseline_sha256, links_below=self.links, tracked=self.tracked_facts(),
                       tracking=self.tracking_note)
        else:
            doc["reason"] = self.reason
        doc["starts"] = {k: p.as_data() for k, p in self.starts.items()}
        if self.resume_note:
            doc["resume"] = self.resume_note
        complete = len(got) == len(tables) and bool(got)
        if evidence_json is None or not complete or not all(r.ok for r in got):
            doc["state"] = ""
            doc["state_note"] = ("no verified state kept: " + ("not every table was checked" if not complete
                                                               else "a table is not green"))
            return doc
        path = evidence_json.with_name(evidence_json.stem + chain.STATE_SUFFIX)
        b = state.Baseline(tuple(self.merged(got)), dict(self.starts), self.m.fingerprint(),
                           {r.name: r.schema for r in got}, evidence_json.name, iso(utc_now()))
        doc.update(state=path.name, state_sha256=state.save(path, b))
        return doc


def _track(m: Migration, parity: Parity, side: str, start: Position) -> changes.Changes:
    try:
        scope = changes.load_scope(parity.conn[side], m.endpoint(side).database, m.tables.in_scope,
                                   m.replication.heartbeat_table)
        settings = binlog_stream.settings_for(m, side)  # type: ignore[arg-type]
    except Exception as exc:
        return changes.Changes(side, start, start, {}, coverage=f"cannot start tracking: {exc}")
    return changes.track(settings, side, start, scope, max_s=TRACK_MAX_S, max_events=TRACK_MAX_EVENTS)

