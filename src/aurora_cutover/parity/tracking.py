"""The tracking file: change tracking persisted outside the fence, beside the readiness link it continues.

    reports/20261201T160000Z-readiness.json               the link (green, kept a verified state)
    reports/20261201T160000Z-readiness.verified.sqlite    its verified state (parity/state.py)
    reports/20261201T160000Z-readiness.tracking.sqlite    this file: what the tracker read since the link's starts

    >>> ident = identity(link_json, link_sha256, baseline, m.fingerprint())
    >>> store = Store.create(path_for(link_json), ident)          # or Store.resume(path, ident): TrackingError
    >>> store.append(changes.track(settings, "source", store.stop("source"), scope, max_s=1))   # one transaction
    >>> got = load(path_for(link_json), ident)                     # {"source": Changes, "target": Changes}
    >>> merged = merge(got["source"], tail)                         # the persisted marks + the in-fence tail

A segment is one bounded read of one side that reached its stop without a coverage problem (an unbroken stream,
stopped at a transaction boundary); its marks (keys one row each, deduplicated; whole-table reasons; row counts)
and its end position are committed in ONE SQLite transaction, so a tracker killed mid-write leaves the previous
consistent state. Each segment carries a digest chained to the previous one (over its positions and marks), so
a file whose positions or marks were edited, or that was cut short, does not load. The file names its link (the
evidence name, the evidence's sha256 and its verified state's sha256), the config and both start positions: it is
never applied to another link. ``load`` raises TrackingError (one line); the consumer then ignores the file with
that reason and reads the binlogs from the link's own starts, as without a tracker. See docs/change-tracking.md.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aurora_cutover.evidence.record import iso, utc_now
from aurora_cutover.parity import chain, state
from aurora_cutover.parity.verdict import Position
from aurora_cutover.replication.changes import Changes, TableMarks
from aurora_cutover.sql import tracking as q

FORMAT = "aurora-cutover tracking v1"
SUFFIX = ".tracking.sqlite"
SIDES = ("source", "target")
MAX_WHOLE_REASONS = 5  # per side and table
BUSY_TIMEOUT_S = 30.0


class TrackingError(Exception):
    """The tracking file cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class Identity:
    """What a tracking file continues: one link of one config, from these start positions."""

    link: str  # the evidence file's name
    link_sha256: str
    state_sha256: str
    config_fp: str
    starts: dict[str, Position]

    def meta(self) -> dict[str, str]:
        return {"format": FORMAT, "link": self.link, "link_sha256": self.link_sha256,
                "state_sha256": self.state_sha256, "config_fp": self.config_fp,
                "starts": json.dumps({k: p.as_data() for k, p in sorted(self.starts.items())}, sort_keys=True)}


def path_for(link_json: Path) -> Path:
    return link_json.with_name(link_json.stem + SUFFIX)


def identity(link_json: Path, link_sha256: str, b: state.Baseline, config_fp: str) -> Identity:
    """The identity of the link ``chain.latest`` returned (its evidence names its verified state's sha256)."""
    doc = json.loads(link_json.read_text(encoding="utf-8"))
    return Identity(link_json.name, link_sha256, str(chain.parity_of(doc).get("state_sha256") or ""), config_fp,
                    {s: b.starts[s] for s in SIDES if s in b.starts})


def _pos(p: Position) -> str:
    return json.dumps(p.as_data(), sort_keys=True)


def _unpos(s: str) -> Position:
    return Position.from_data(json.loads(s))


def _segment_digest(prev: str, head: tuple[Any, ...], counts: list[tuple[Any, ...]], whole: list[tuple[Any, ...]],
                    keys: list[tuple[Any, ...]]) -> str:
    """sha256 over the previous segment's digest, this one's positions, counts, whole reasons and new keys (each
    part in the order the store reads it back), one update per part: keys are many."""
    h = hashlib.sha256(prev.encode())
    h.update(json.dumps(list(head)).encode() + b"\n")
    for part in (counts, whole, keys):
        h.update("\n".join("\x1f".join(str(x) for x in r) for r in part).encode() + b"\n\x1e\n")
    return h.hexdigest()


def _decode_keys(texts: list[str]) -> list[tuple[Any, ...]]:
    """Typed JSON keys (state.encode_value per column) back to tuples; one JSON parse for all of them, integers
    (the common key) without a call per value."""
    parsed = json.loads("[" + ",".join(texts) + "]")
    dec = state.decode_value
    return [tuple(int(v) if t == "i" else dec([t, v]) for t, v in key) for key in parsed]


def _connect(path: Path) -> sqlite3.Connection:
    # autocommit mode: every transaction below is an explicit BEGIN … COMMIT
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)


class Store:
    """The tracker's side of the file: created for one link, then one segment per bounded read."""

    def __init__(self, path: Path, ident: Identity, con: sqlite3.Connection) -> None:
        self.path, self.ident, self.con = path, ident, con

    @classmethod
    def create(cls, path: Path, ident: Identity) -> Store:
        """A new, empty file for ``ident`` (replacing any file at ``path`` atomically)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        con = _connect(tmp)
        try:
            con.execute(q.BEGIN_WRITE)
            for stmt in q.CREATE:
                con.execute(stmt)
            con.executemany(q.INSERT_META, sorted({**ident.meta(), "created_utc": iso(utc_now())}.items()))
            con.execute(q.COMMIT)
        finally:
            con.close()
        tmp.replace(path)
        return cls(path, ident, _connect(path))

    @classmethod
    def resume(cls, path: Path, ident: Identity) -> Store:
        """An existing valid file of ``ident`` (a restarted tracker continues from its ends); TrackingError if not."""
        load(path, ident)
        return cls(path, ident, _connect(path))

    def close(self) -> None:
        self.con.close()

    def stop(self, side: str) -> Position:
        """Where ``side``'s next segment starts: the last committed stop, else the link's start."""
        row = self.con.execute(q.LAST_STOP, (side,)).fetchone()
        return _unpos(row[0]) if row else self.ident.starts[side]

    def append(self, ch: Changes) -> int:
        """Commit one segment (marks + end position) in one transaction; returns its sequence number. Refused
        (TrackingError, nothing written) when it does not start where this side's last segment stopped or it
        records a coverage problem (use ``problem``)."""
        if ch.coverage:
            raise TrackingError(f"{ch.side}: a segment with a coverage problem is not persisted ({ch.coverage})")
        con = self.con
        con.execute(q.BEGIN_WRITE)
        try:
            if ch.start != self.stop(ch.side):
                raise TrackingError(f"{ch.side}: the segment starts at {ch.start}, not where the file stops "
                                    f"({self.stop(ch.side)})")
            last = con.execute(q.LAST_SEGMENT).fetchone()
            seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, "")
            whole_before = {str(r[0]) for r in con.execute(q.WHOLE_TABLES, (ch.side,))}
            counts = []
            for tbl, mk in sorted(ch.tables.items()):
                for reason in mk.whole:
                    con.execute(q.INSERT_WHOLE, (ch.side, tbl, reason, seq, ch.side, tbl, MAX_WHOLE_REASONS))
                if mk.keys and not mk.whole and tbl not in whole_before:  # a whole table needs no keys
                    con.executemany(q.INSERT_KEY, ((ch.side, tbl, json.dumps([state.encode_value(x) for x in k]),
                                                    seq) for k in mk.keys))
                if mk.rows or mk.inserts or mk.updates or mk.deletes:
                    counts.append((seq, tbl, mk.rows, mk.inserts, mk.updates, mk.deletes))
            con.executemany(q.INSERT_COUNTS, counts)
            head = (seq, ch.side, _pos(ch.start), _pos(ch.stop), ch.events, ch.row_images)
            digest = _segment_digest(prev, head, [c[1:] for c in counts],
                                     con.execute(q.SEGMENT_WHOLE, (seq,)).fetchall(),
                                     con.execute(q.SEGMENT_KEYS, (seq,)).fetchall())
            con.execute(q.INSERT_SEGMENT, (*head, round(ch.seconds, 3), digest))
            con.execute(q.COMMIT)
        except BaseException:
            con.execute(q.ROLLBACK)
            raise
        return seq

    def problem(self, side: str, why: str) -> None:
        """Record a coverage problem: the file is not used from now on (the consumer reads from the link)."""
        self.con.execute(q.BEGIN_WRITE)
        self.con.execute(q.UPSERT_META, ("problem", f"{side}: {why}"[:500]))
        self.con.execute(q.COMMIT)


def _check_meta(path: Path, meta: dict[str, str], ident: Identity) -> None:
    if meta.get("format") != FORMAT:
        raise TrackingError(f"tracking file {path.name} is not a {FORMAT} file")
    want = ident.meta()
    for k, what in (("link", "belongs to link"), ("link_sha256", "was made for another version of link"),
                    ("state_sha256", "was made for another verified state of link"),
                    ("config_fp", "belongs to another config (link"), ("starts", "starts elsewhere than link")):
        if meta.get(k) != want[k]:
            shown = meta.get("link", "?") if k != "link" else meta.get(k, "?")
            raise TrackingError(f"tracking file {path.name} {what} {shown}" + (")" if k == "config_fp" else "")
                                + f", not {ident.link}'s")
    if meta.get("problem"):
        raise TrackingError(f"tracking file {path.name} recorded a coverage problem: {meta['problem']}")


def load(path: Path, ident: Identity) -> dict[str, Changes]:
    """Per side, everything the tracker committed (start = the link's start, stop = its last segment's stop), or
    TrackingError naming why the file cannot be trusted: another link/config/start, a recorded coverage problem,
    segments that are not contiguous from the link's starts, a digest that does not match (edited), unreadable."""
    path = Path(path)
    if not path.is_file():
        raise TrackingError(f"tracking file {path.name} is missing")
    try:
        con = _connect(path)  # read-write: a hot journal left by a killed tracker is rolled back on open
        try:
            con.execute(q.BEGIN_READ)  # one snapshot for every read below (the tracker may commit meanwhile)
            meta = dict(con.execute(q.SELECT_META).fetchall())
            _check_meta(path, meta, ident)
            segs = con.execute(q.SELECT_SEGMENTS).fetchall()
            counts = con.execute(q.SELECT_COUNTS).fetchall()
            whole = con.execute(q.SELECT_WHOLE).fetchall()
            keys = con.execute(q.SELECT_KEYS).fetchall()
            con.execute(q.COMMIT)
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise TrackingError(f"tracking file {path.name} is not readable: {exc}") from None
    try:
        return _rebuild(path, ident, segs, counts, whole, keys)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise TrackingError(f"tracking file {path.name} holds an unreadable segment: {exc}") from None


def _by_seq(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    out: dict[int, list[tuple[Any, ...]]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append(tuple(r[1:]))
    return out


def _rebuild(path: Path, ident: Identity, segs: list[Any], counts: list[Any], whole: list[Any],
             keys: list[Any]) -> dict[str, Changes]:
    c_by, w_by, k_by = _by_seq(counts), _by_seq(whole), _by_seq(keys)
    out = {s: Changes(s, ident.starts[s], ident.starts[s], {}, stopped_by="tracker") for s in SIDES
           if s in ident.starts}
    prev = ""
    for seq, side, start, stop, events, row_images, seconds, digest in segs:
        ch = out.get(side)
        if ch is None:
            raise TrackingError(f"tracking file {path.name}: segment {seq} is of an unknown side {side!r}")
        s_start, s_stop = _unpos(start), _unpos(stop)
        if s_start != ch.stop or s_stop < s_start:
            raise TrackingError(f"tracking file {path.name}: {side} segment {seq} starts at {s_start}, not where "
                                f"the previous one stopped ({ch.stop}): not contiguous from the link's start")
        seg_keys = [(t, k) for s, t, k in k_by.get(seq, [])]
        seg_whole = [(t, r) for s, t, r in w_by.get(seq, [])]
        prev = _segment_digest(prev, (seq, side, start, stop, events, row_images), c_by.get(seq, []), seg_whole,
                               seg_keys)
        if prev != digest:
            raise TrackingError(f"tracking file {path.name} was edited: segment {seq} ({side}) does not match its "
                                "digest")
        by_table: dict[str, list[str]] = {}
        for t, k in seg_keys:
            by_table.setdefault(t, []).append(k)
        for t, texts in by_table.items():
            ch.tables.setdefault(t, TableMarks()).keys.update(_decode_keys(texts))
        for t, r in seg_whole:
            ch.tables.setdefault(t, TableMarks()).whole.append(r)
        for t, rows, ins, upd, dels in c_by.get(seq, []):
            mk = ch.tables.setdefault(t, TableMarks())
            mk.rows, mk.inserts, mk.updates, mk.deletes = (mk.rows + rows, mk.inserts + ins, mk.updates + upd,
                                                           mk.deletes + dels)
        ch.stop, ch.events, ch.row_images = s_stop, ch.events + int(events), ch.row_images + int(row_images)
        ch.seconds += float(seconds)
    known = {int(s[0]) for s in segs}
    stray = sorted((set(c_by) | set(w_by) | set(k_by)) - known)
    if stray:
        raise TrackingError(f"tracking file {path.name} was edited: marks of segment {stray[0]}, which it does "
                            "not hold")
    return out


def merge(before: Changes, tail: Changes) -> Changes:
    """The persisted marks followed by the tail read from their stop: one Changes from the link's start."""
    if tail.start != before.stop:
        raise ValueError(f"{tail.side}: the tail starts at {tail.start}, not at the persisted stop {before.stop}")
    tables: dict[str, TableMarks] = {}
    for src in (before.tables, tail.tables):
        for t, mk in src.items():
            m = tables.setdefault(t, TableMarks())
            m.keys |= mk.keys
            m.whole += [w for w in mk.whole if w not in m.whole][:max(0, MAX_WHOLE_REASONS - len(m.whole))]
            m.rows, m.inserts, m.updates, m.deletes = (m.rows + mk.rows, m.inserts + mk.inserts,
                                                       m.updates + mk.updates, m.deletes + mk.deletes)
    return Changes(tail.side, before.start, tail.stop, tables, coverage=tail.coverage,
                   events=before.events + tail.events, row_images=before.row_images + tail.row_images,
                   stopped_by=tail.stopped_by, seconds=tail.seconds, facts=dict(tail.facts))
