"""Pure pieces of the lab's DMS: table-mapping selection, CDC start positions, the task state machine.

    >>> Mappings.parse('{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "a",'
    ...   ' "object-locator": {"schema-name": "edu%", "table-name": "%"}, "rule-action": "include"}]}'
    ...   ).selected("eduphoria", "users")
    True
    >>> parse_position("mysql-bin-changelog.000024:373")
    Position(file='mysql-bin-changelog.000024', pos=373)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


class InvalidParameter(ValueError):
    """Maps to InvalidParameterValueException."""


class InvalidState(ValueError):
    """Maps to InvalidResourceStateFault."""


# --------------------------------------------------------------------------- table mappings


def _like(pattern: str, name: str) -> bool:
    """DMS object-locator matching: ``%`` any run, ``_`` one character; case-insensitive like MySQL names."""
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, name, re.IGNORECASE | re.DOTALL) is not None


@dataclass(frozen=True)
class Rule:
    schema: str
    table: str
    action: str  # include | exclude | explicit


@dataclass(frozen=True)
class Mappings:
    rules: tuple[Rule, ...]

    @classmethod
    def parse(cls, text: str) -> Mappings:
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InvalidParameter(f"TableMappings is not valid JSON: {exc}") from None
        rules = []
        for r in (doc or {}).get("rules", []):
            if r.get("rule-type") != "selection":
                continue  # transformation rules are not emulated (documented)
            loc = r.get("object-locator") or {}
            action = r.get("rule-action", "")
            if action not in ("include", "exclude", "explicit") or "schema-name" not in loc:
                raise InvalidParameter(f"selection rule {r.get('rule-id')!r}: needs object-locator.schema-name "
                                       "and rule-action include/exclude/explicit")
            rules.append(Rule(str(loc["schema-name"]), str(loc.get("table-name", "%")), action))
        if not any(r.action in ("include", "explicit") for r in rules):
            raise InvalidParameter("TableMappings: at least one selection rule must include a table")
        return cls(tuple(rules))

    def selected(self, schema: str, table: str) -> bool:
        """Included by some rule and excluded by none (DMS: exclude wins); explicit = exact name."""
        included = excluded = False
        for r in self.rules:
            if r.action == "explicit":
                hit = r.schema == schema and r.table == table
            else:
                hit = _like(r.schema, schema) and _like(r.table, table)
            if hit and r.action == "exclude":
                excluded = True
            elif hit:
                included = True
        return included and not excluded

    def schemas(self) -> list[str]:
        """Literal schema names of include rules (for discovering tables); wildcard schemas are not listed."""
        return sorted({r.schema for r in self.rules if r.action != "exclude" and not set(r.schema) & {"%", "_"}})


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class Position:
    file: str
    pos: int

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}"


_NATIVE = re.compile(r"^([^:#\s]+\.\d+):(\d+)$")
# e.g. checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:677883278264080:
#      mysql-bin-changelog.157832:1876#0#0#*#0#93
_CHECKPOINT = re.compile(r"^checkpoint:V1#\d+#([^:#\s]+\.\d+):(\d+):")


def parse_position(text: str) -> Position:
    """CdcStartPosition for a MySQL source: a native ``file:pos`` or a DMS checkpoint string."""
    text = (text or "").strip()
    m = _NATIVE.match(text) or _CHECKPOINT.match(text)
    if m is None or int(m.group(2)) < 4:
        raise InvalidParameter(f"CdcStartPosition {text!r}: expected binlog 'file.NNNNNN:pos' or a checkpoint")
    return Position(m.group(1), int(m.group(2)))


def checkpoint(p: Position, seq: int = 0) -> str:
    """The task's RecoveryCheckpoint / CdcStopPosition-style string, parseable by parse_position."""
    return f"checkpoint:V1#{seq}#{p.file}:{p.pos}:-1:{p.pos}:0:{p.file}:{p.pos}#0#0#*#0#0"


# --------------------------------------------------------------------------- task state machine

START_TYPES = ("start-replication", "resume-processing", "reload-target")

# (from state, event) -> to state. Events: created, start, started, stop, stopped, fail, delete.
_TRANSITIONS: dict[tuple[str, str], str] = {
    ("creating", "created"): "ready",
    ("ready", "start"): "starting",
    ("stopped", "start"): "starting",
    ("failed", "start"): "starting",
    ("starting", "started"): "running",
    ("starting", "fail"): "failed",
    ("running", "fail"): "failed",
    ("running", "stop"): "stopping",
    ("starting", "stop"): "stopping",
    ("stopping", "stopped"): "stopped",
    ("stopping", "fail"): "failed",
    ("ready", "delete"): "deleting",
    ("stopped", "delete"): "deleting",
    ("failed", "delete"): "deleting",
}


def transition(state: str, event: str) -> str:
    """The next state, or InvalidState naming what DMS would say."""
    nxt = _TRANSITIONS.get((state, event))
    if nxt is None:
        raise InvalidState(f"the task is {state!r}: {event} is not allowed in that state")
    return nxt


def check_start(state: str, start_type: str, migration_type: str, has_position: bool) -> None:
    """StartReplicationTask's rules: resume needs a task that ran; a cdc task's first start needs a position."""
    if start_type not in START_TYPES:
        raise InvalidParameter(f"StartReplicationTaskType {start_type!r}: one of {', '.join(START_TYPES)}")
    if state not in ("ready", "stopped", "failed"):
        raise InvalidState(f"the task is {state!r}: it can be started only when ready, stopped or failed")
    if start_type == "resume-processing" and state == "ready":
        raise InvalidState("resume-processing: the task never ran; use start-replication")
    if migration_type == "cdc" and start_type == "start-replication" and not has_position:
        raise InvalidParameter("a cdc task needs CdcStartPosition or CdcStartTime to start")


def task_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """ReplicationTaskStats from the applier's per-table counters."""
    tables = stats.get("tables", {})
    return {"FullLoadProgressPercent": 100, "ElapsedTimeMillis": int(stats.get("elapsed_ms", 0)),
            "TablesLoaded": len(tables), "TablesLoading": 0, "TablesQueued": 0,
            "TablesErrored": int(stats.get("tables_errored", 0))}
