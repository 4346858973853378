"""The verified state: a green baseline's chunk verdicts, kept next to its evidence (SQLite under reports/).

    >>> digest = save(path, Baseline(verdicts, {"source": p_src, "target": p_tgt}, cfg_fp, schema_fp,
    ...                              "readiness-20261201T1600Z.json", "2026-12-01T16:00:00Z"))
    >>> b = load(path, sha256=digest, config_fp=cfg_fp)     # StateError: one line saying why not
    >>> due = sweep(clean, now, full_sweep_h=24, every_s=900)

The file's sha256 goes into the evidence chain; ``load`` refuses a file whose sha256 is not the one the
evidence recorded (edited, replaced), whose own content digest does not match (edited in place), or that
belongs to another config or evidence file. ``sweep`` chooses the clean chunks a delta re-checks anyway, so
that every chunk is re-read at least every ``full_sweep_h`` — the only way to catch changes no binlog shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aurora_cutover.parity.verdict import ChunkVerdict, Position
from aurora_cutover.sql import verified_state as store_sql

FORMAT = "aurora-cutover verified state v1"


class StateError(Exception):
    """The verified state cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class Baseline:
    verdicts: tuple[ChunkVerdict, ...]
    starts: dict[str, Position]  # side -> the binlog position tracking starts from (read before the pass)
    config_fp: str
    schema_fp: dict[str, str]  # table -> fingerprint of its definition at the baseline
    evidence: str  # the evidence file this state belongs to
    created_utc: str

    def table(self, name: str) -> list[ChunkVerdict]:
        return [v for v in self.verdicts if v.table == name]

    @property
    def green(self) -> bool:
        return all(v.equal for v in self.verdicts)


def fingerprint(doc: Any) -> str:
    """A stable sha256 of a JSON-able document (config, a table's definition)."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- typed key values


def _enc(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return ["n", None] if v is None else ["i", int(v)]
    if isinstance(v, int):
        return ["i", v]
    if isinstance(v, str):
        return ["s", v]
    if isinstance(v, bytes | bytearray):
        return ["b", bytes(v).hex()]
    if isinstance(v, Decimal):
        return ["d", str(v)]
    if isinstance(v, float):
        return ["f", repr(v)]
    if isinstance(v, dt.datetime):
        return ["dt", v.isoformat()]
    if isinstance(v, dt.date):
        return ["da", v.isoformat()]
    if isinstance(v, dt.timedelta):
        return ["td", [v.days, v.seconds, v.microseconds]]
    raise TypeError(f"cannot store a key value of type {type(v).__name__}")


def _dec(x: Any) -> Any:
    kind, v = x
    return {"n": lambda: None, "i": lambda: int(v), "s": lambda: str(v), "b": lambda: bytes.fromhex(v),
            "d": lambda: Decimal(v), "f": lambda: float(v), "dt": lambda: dt.datetime.fromisoformat(v),
            "da": lambda: dt.date.fromisoformat(v), "td": lambda: dt.timedelta(v[0], v[1], v[2])}[kind]()


encode_value, decode_value = _enc, _dec  # a key value to / from its typed JSON form (also parity/tracking.py)


def _bound(b: tuple[Any, ...] | None) -> str:
    return json.dumps(None if b is None else [_enc(x) for x in b])


def _unbound(s: str) -> tuple[Any, ...] | None:
    d = json.loads(s)
    return None if d is None else tuple(_dec(x) for x in d)


def _row(v: ChunkVerdict) -> tuple[Any, ...]:
    return (v.table, v.index, json.dumps(list(v.columns)), _bound(v.lower), _bound(v.upper),
            json.dumps(list(v.source)), json.dumps(list(v.target)), json.dumps(v.at.as_data()), v.checked_utc)


def _verdict(r: Sequence[Any]) -> ChunkVerdict:
    agg = lambda s: tuple(int(x) for x in json.loads(s))  # noqa: E731
    return ChunkVerdict(str(r[0]), str(r[1]), tuple(json.loads(r[2])), _unbound(r[3]), _unbound(r[4]),
                        agg(r[5]), agg(r[6]), Position.from_data(json.loads(r[7])), str(r[8]))  # type: ignore[arg-type]


def _meta(b: Baseline) -> dict[str, str]:
    return {"format": FORMAT, "config_fp": b.config_fp, "schema_fp": json.dumps(b.schema_fp, sort_keys=True),
            "evidence": b.evidence, "created_utc": b.created_utc,
            "starts": json.dumps({k: p.as_data() for k, p in sorted(b.starts.items())})}


def _digest(meta: dict[str, str], rows: Sequence[Sequence[Any]]) -> str:
    h = hashlib.sha256()
    for k in sorted(meta):
        if k != "digest":
            h.update(f"{k}={meta[k]}\n".encode())
    for r in rows:
        h.update(json.dumps(list(r)).encode() + b"\n")
    return h.hexdigest()


# --------------------------------------------------------------------------- save / load


def save(path: Path, b: Baseline) -> str:
    """Write the state (replacing any older file atomically); returns its sha256 for the evidence."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    rows = [_row(v) for v in b.verdicts]
    meta = _meta(b)
    meta["digest"] = _digest(meta, rows)
    con = sqlite3.connect(tmp)
    try:
        for stmt in store_sql.CREATE:
            con.execute(stmt)
        con.executemany(store_sql.INSERT_META, sorted(meta.items()))
        con.executemany(store_sql.INSERT_CHUNK, rows)
        con.commit()
    finally:
        con.close()
    tmp.replace(path)
    return sha256_of(path)


def load(path: Path, *, sha256: str, config_fp: str, evidence: str | None = None) -> Baseline:
    """The baseline, or StateError naming the first reason it cannot be trusted."""
    path = Path(path)
    if not path.is_file():
        raise StateError(f"verified state {path.name} is missing")
    actual = sha256_of(path)
    if actual != sha256:
        raise StateError(f"verified state {path.name} was changed: sha256 {actual[:12]}… is not the "
                         f"{sha256[:12]}… its evidence recorded")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(con.execute(store_sql.SELECT_META).fetchall())
            rows = con.execute(store_sql.SELECT_CHUNKS).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise StateError(f"verified state {path.name} is not readable: {exc}") from None
    if meta.get("format") != FORMAT:
        raise StateError(f"verified state {path.name} is not a {FORMAT} file")
    if meta.get("digest") != _digest(meta, rows):
        raise StateError(f"verified state {path.name} was edited: its content does not match its digest")
    if meta["config_fp"] != config_fp:
        raise StateError(f"verified state {path.name} belongs to another config (fingerprint "
                         f"{meta['config_fp'][:12]}…, this config {config_fp[:12]}…)")
    if evidence is not None and meta["evidence"] != evidence:
        raise StateError(f"verified state {path.name} belongs to evidence {meta['evidence']}, not {evidence}")
    try:
        verdicts = tuple(_verdict(r) for r in rows)
        starts = {k: Position.from_data(d) for k, d in json.loads(meta["starts"]).items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(f"verified state {path.name} holds an unreadable verdict: {exc}") from None
    return Baseline(verdicts, starts, meta["config_fp"], json.loads(meta["schema_fp"]), meta["evidence"],
                    meta["created_utc"])


def schema_changes(b: Baseline, schema_fp_now: dict[str, str]) -> dict[str, str]:
    """Tables whose definition is not the baseline's (a full pass each, with this reason)."""
    out = {}
    for t in sorted(set(b.schema_fp) | set(schema_fp_now)):
        if t not in schema_fp_now:
            out[t] = "dropped since the baseline"
        elif t not in b.schema_fp:
            out[t] = "not in the baseline (new table)"
        elif b.schema_fp[t] != schema_fp_now[t]:
            out[t] = "definition changed since the baseline (DDL)"
    return out


# --------------------------------------------------------------------------- the sweep


def _utc(s: str) -> dt.datetime:
    d = dt.datetime.fromisoformat(s.replace("Z", "+00:00")) if s else dt.datetime.min.replace(tzinfo=dt.UTC)
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def sweep(clean: Sequence[ChunkVerdict], now: dt.datetime, *, full_sweep_h: float,
          every_s: float) -> list[ChunkVerdict]:
    """Clean chunks to re-check in this run (oldest first): every chunk that would be older than
    ``full_sweep_h`` before the next run (``every_s`` from now), and at least the slice that spreads a whole
    sweep over the runs of ``full_sweep_h`` (ceil(n × every_s / full_sweep_h)), so no run takes all at once."""
    if full_sweep_h <= 0 or every_s <= 0:
        raise ValueError("full_sweep_h and every_s must be > 0")
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    limit = dt.timedelta(hours=full_sweep_h)
    ahead = dt.timedelta(seconds=every_s)
    order = sorted(clean, key=lambda v: _utc(v.checked_utc))
    due = [v for v in order if now + ahead - _utc(v.checked_utc) >= limit]
    share = min(len(order), math.ceil(len(order) * every_s / (full_sweep_h * 3600)))
    return order[:max(len(due), share)]
