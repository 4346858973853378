"""The parity checkpoint: every chunk verdict and every finished table of a readiness session, as it happens.

``reports/<stamp>-readiness.parity.jsonl`` — one JSON object per line, append-only, hash-chained (each line's
``h`` is sha256 of the previous line's ``h`` and its own content), flushed line by line so a session killed at
any moment (Ctrl-C, kill -9, lost connection) leaves every verdict it reached. It is the sidecar of the JSON
evidence (the deltas read the verdicts from it) and what ``pytest -m readiness --resume`` continues from:

    >>> cp = Checkpoint.create(Path("reports/20261201T160000Z-readiness.parity.jsonl"), "fp…", continues="")
    >>> cp.chunk("users", "9f…", verdict, size=20_000); cp.table("users", "9f…", result_data, ok=True)
    >>> prev = load(path, fingerprint="fp…")  # CheckpointRefused: one line saying why

Lines: ``session`` (config fingerprint, start, the session it continues), ``chunk`` (table, schema fingerprint,
key, next chunk size, the verdict row of ``verdict.VERDICT_ROW``), ``table`` (a table's end: ok, the result's
numbers). A last line cut short by a kill is ignored; any other line whose hash does not match refuses the
whole checkpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from aurora_cutover.parity.chunker import ChunkerState, utc_stamp
from aurora_cutover.parity.verdict import ChunkVerdict, Position, verdicts_as_data, verdicts_from_data

SUFFIX = ".parity.jsonl"


class CheckpointRefused(ValueError):
    """The checkpoint cannot be resumed from (one line: which file, why)."""


def _h(prev: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev + json.dumps(body, sort_keys=True, default=str)).encode()).hexdigest()


class Checkpoint:
    def __init__(self, path: Path, fh: IO[str], last: str) -> None:
        self.path, self._fh, self._last = path, fh, last
        self._lock = threading.Lock()

    @classmethod
    def create(cls, path: Path, fingerprint: str, continues: str = "",
               delta: DeltaStart | None = None) -> Checkpoint:
        """``delta``: the session is a delta — the link it stands on and its start positions (a resumed delta
        continues only on the same link, from the same positions)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        cp = cls(path, path.open("a", encoding="utf-8"), "")
        body = {"kind": "session", "session": path.name[: -len(SUFFIX)], "config_fingerprint": fingerprint,
                "started_utc": utc_stamp(), "continues": continues}
        if delta is not None:
            body["delta"] = delta.as_data()
        cp._write(body)
        return cp

    def _write(self, body: dict[str, Any]) -> None:
        with self._lock:
            h = _h(self._last, body)
            self._fh.write(json.dumps({**body, "h": h}, default=str) + "\n")
            self._fh.flush()  # in the OS on return: survives the process being killed
            self._last = h

    def chunk(self, table: str, schema: str, v: ChunkVerdict, size: int) -> None:
        d = verdicts_as_data([v])
        self._write({"kind": "chunk", "table": table, "name": v.table, "schema": schema, "index": v.index,
                     "columns": list(v.columns), "size": size, "row": d["rows"][0]})

    def table(self, table: str, schema: str, data: dict[str, Any], ok: bool,
              rechecked: Sequence[tuple[int, ChunkVerdict]] = ()) -> None:
        rows = [[i, verdicts_as_data([v])["rows"][0]] for i, v in rechecked]
        self._write({"kind": "table", "table": table, "schema": schema, "ok": ok, "result": data,
                     "rechecked": rows, "finished_utc": utc_stamp()})

    def close(self) -> None:
        with self._lock:
            self._fh.close()


@dataclass
class Carry:
    """What an interrupted session leaves for one table: its verified chunks (a contiguous prefix), and if it
    finished green, its result."""

    session: str
    table: str
    schema: str
    state: ChunkerState
    green: dict[str, Any] | None = None  # the finished result's numbers when the table was green
    finished_utc: str = ""

    @property
    def oldest_utc(self) -> str:
        return min((v.checked_utc for v in self.state.verdicts), default=self.finished_utc)


@dataclass(frozen=True)
class DeltaStart:
    """What a delta session stands on: its baseline link (evidence file and sha256) and its start positions."""

    baseline: str
    baseline_sha256: str
    starts: dict[str, Position]

    def as_data(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "baseline_sha256": self.baseline_sha256,
                "starts": {k: p.as_data() for k, p in sorted(self.starts.items())}}

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> DeltaStart:
        return cls(str(d["baseline"]), str(d["baseline_sha256"]),
                   {k: Position.from_data(p) for k, p in dict(d["starts"]).items()})


@dataclass
class DeltaCarry:
    """What an interrupted delta session leaves: its start, and per table ("db.t") the equal chunk verdicts it
    reached (final ones for chunks that converged on re-check), keyed by ``bounds_key``, with their schema."""

    start: DeltaStart
    verdicts: dict[str, dict[str, tuple[str, ChunkVerdict]]] = field(default_factory=dict)

    def get(self, v: ChunkVerdict, schema: str) -> ChunkVerdict | None:
        """The interrupted session's equal verdict of the chunk ``v`` (same bounds, same schema), or None."""
        got = self.verdicts.get(v.table, {}).get(bounds_key(v))
        return got[1] if got is not None and got[0] == schema else None


def bounds_key(v: ChunkVerdict) -> str:
    """A chunk's bounds as text, equal for a bound typed from the verified state and one read back from JSON."""
    return json.dumps(verdicts_as_data([v])["rows"][0][:2])


@dataclass
class Resumable:
    path: Path
    session: str
    sha256: str
    tables: dict[str, Carry] = field(default_factory=dict)
    delta: DeltaCarry | None = None  # the interrupted session was a delta (then ``tables`` is empty)


def _parse_utc(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def newest(reports_dir: Path, exclude: Path | None = None) -> Path | None:
    found = [p for p in reports_dir.glob(f"*{SUFFIX}") if p != exclude] if reports_dir.is_dir() else []
    return max(found, key=lambda p: (p.stat().st_mtime, p.name)) if found else None


def load(path: Path, fingerprint: str) -> Resumable:
    """The checkpoint's tables, verified line by line; CheckpointRefused names the file and the first problem."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    cut_short = lines[-1] != ""  # no newline at the end: the process died while writing its last line
    lines = [ln for ln in lines if ln]
    prev, session = "", ""
    tables: dict[str, Carry] = {}
    delta: _DeltaLines | None = None
    for i, line in enumerate(lines, 1):
        try:
            d = json.loads(line)
            h = d.pop("h")
        except (ValueError, KeyError, TypeError, AttributeError):
            if i == len(lines) and cut_short:
                break
            raise CheckpointRefused(f"checkpoint {path.name}: line {i} is not a checkpoint record") from None
        if _h(prev, d) != h:
            raise CheckpointRefused(f"checkpoint {path.name}: line {i} does not match its hash (the file was "
                                    "edited or mixed with another): not resumed; run readiness without --resume")
        prev = h
        if i == 1:
            if d.get("kind") != "session":
                raise CheckpointRefused(f"checkpoint {path.name}: does not begin with its session record")
            if d.get("config_fingerprint") != fingerprint:
                raise CheckpointRefused(f"checkpoint {path.name} is for another config (fingerprint "
                                        f"{str(d.get('config_fingerprint'))[:12]}…, this config is "
                                        f"{fingerprint[:12]}…): not resumed")
            session = str(d["session"])
            if d.get("delta"):
                delta = _DeltaLines(DeltaCarry(DeltaStart.from_data(d["delta"])))
            continue
        if delta is not None:
            delta.line(d)
            continue
        t = str(d.get("table"))
        if d["kind"] == "chunk":
            v = verdicts_from_data({"table": d["name"], "index": d["index"], "columns": d["columns"],
                                    "rows": [d["row"]]})[0]
            c = tables.get(t)
            if v.lower is None:  # a table's first chunk: a (new) pass over it begins
                c = tables[t] = Carry(session, t, str(d["schema"]), ChunkerState(v.table, v.index, v.columns))
            elif (c is None or c.green is not None or c.schema != d["schema"] or c.state.index != v.index
                  or not c.state.verdicts or c.state.verdicts[-1].upper != v.lower):
                tables.pop(t, None)  # not the next chunk of one contiguous pass: never resume across a gap
                continue
            c.state.verdicts.append(v)
            c.state.size = int(d["size"])
        elif d["kind"] == "table":
            c = tables.get(t)
            if d.get("ok") and c is not None and c.schema == d["schema"] and c.state.done:
                c.green, c.finished_utc = dict(d["result"]), str(d["finished_utc"])
                for i, row in d.get("rechecked") or []:  # chunks that converged on re-check: their final verdict
                    if 0 <= int(i) < len(c.state.verdicts):
                        c.state.verdicts[int(i)] = verdicts_from_data({"table": c.state.table, "index": c.state.index,
                                                                       "columns": c.state.columns, "rows": [row]})[0]
            else:  # red or errored: runs again from the start
                tables.pop(t, None)
    if not session:
        raise CheckpointRefused(f"checkpoint {path.name} is empty")
    return Resumable(path, session, hashlib.sha256(raw).hexdigest(), tables,
                     delta.carry() if delta is not None else None)


class _DeltaLines:
    """A delta checkpoint's lines: a table's chunk lines in the order its session checked them, then its table
    line (whose ``rechecked`` entries replace the chunks that converged on re-check, by that order)."""

    def __init__(self, carry: DeltaCarry) -> None:
        self.c = carry
        self.open: dict[str, list[tuple[str, ChunkVerdict]]] = {}  # table -> its chunks so far, in order
        self.done: list[tuple[str, list[tuple[str, ChunkVerdict]]]] = []

    def line(self, d: dict[str, Any]) -> None:
        t = str(d.get("table"))
        if d["kind"] == "chunk":
            v = verdicts_from_data({"table": d["name"], "index": d["index"], "columns": d["columns"],
                                    "rows": [d["row"]]})[0]
            self.open.setdefault(t, []).append((str(d["schema"]), v))
        elif d["kind"] == "table" and t in self.open:
            got = self.open.pop(t)
            for i, row in d.get("rechecked") or []:
                if 0 <= int(i) < len(got):
                    schema, v = got[int(i)]
                    got[int(i)] = (schema, verdicts_from_data({"table": v.table, "index": v.index,
                                                               "columns": v.columns, "rows": [row]})[0])
            self.done.append((t, got))

    def carry(self) -> DeltaCarry:
        for _t, got in [*self.done, *self.open.items()]:  # a table cut short by the kill: the chunks it reached
            for schema, v in got:
                if v.equal:
                    self.c.verdicts.setdefault(v.table, {})[bounds_key(v)] = (schema, v)
        return self.c


def fresh(c: Carry, freshness_s: float, now: dt.datetime | None = None) -> bool:
    """Every verdict carried over must be younger than the evidence freshness (the gate's own limit)."""
    return fresh_utc(c.oldest_utc, freshness_s, now)


def fresh_utc(stamp: str, freshness_s: float, now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC)
    return bool(stamp) and (now - _parse_utc(stamp)).total_seconds() <= freshness_s


def resumable(reports_dir: Path, fingerprint: str) -> Resumable:
    """The newest checkpoint in ``reports_dir``, loaded and verified (``--resume``)."""
    path = newest(reports_dir)
    if path is None:
        raise CheckpointRefused(f"no parity checkpoint (*{SUFFIX}) in {reports_dir}: nothing to resume")
    return load(path, fingerprint)
