"""Server settings the application depends on, compared source vs target: after the switch every new session
gets the target's globals, so a different time zone, sql_mode or packet limit changes what the application sees.

    >>> findings(source_vars, target_vars, accept=("sql_mode: app tested with the 8.0 defaults",))
    [Finding(check='setting', level='error', object='@@time_zone', detail="source '+00:00', target '+02:00': ...")]

Rules (pure; values from ``SHOW GLOBAL VARIABLES``, names as 5.7, 8.0 and MariaDB spell them):
  error    time_zone (SYSTEM resolved to system_time_zone; UTC spellings equal), lower_case_table_names,
           max_allowed_packet smaller on the target, sql_mode flags that change results or what is accepted
           (NO_AUTO_CREATE_USER and NO_ENGINE_SUBSTITUTION ignored: they only affect DDL/GRANT)
  warning  character_set_server, collation_server, explicit_defaults_for_timestamp, transaction isolation,
           auto_increment_increment/offset, innodb_strict_mode, group_concat_max_len, div_precision_increment,
           and on the target: sql_require_primary_key = ON, event_scheduler = ON (events could write there)
An error listed in ``[settings] accept`` ("variable: reason") is reported as accepted instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence

from aurora_cutover.schema.upgrade import Finding, _s
from aurora_cutover.sql.settings import show_global_variables

# our name -> the names servers use, newest first
_NAMES: dict[str, tuple[str, ...]] = {
    "time_zone": ("time_zone",),
    "system_time_zone": ("system_time_zone",),
    "lower_case_table_names": ("lower_case_table_names",),
    "max_allowed_packet": ("max_allowed_packet",),
    "sql_mode": ("sql_mode",),
    "character_set_server": ("character_set_server",),
    "collation_server": ("collation_server",),
    "explicit_defaults_for_timestamp": ("explicit_defaults_for_timestamp",),
    "transaction_isolation": ("transaction_isolation", "tx_isolation"),
    "auto_increment_increment": ("auto_increment_increment",),
    "auto_increment_offset": ("auto_increment_offset",),
    "innodb_strict_mode": ("innodb_strict_mode",),
    "group_concat_max_len": ("group_concat_max_len",),
    "div_precision_increment": ("div_precision_increment",),
    "sql_require_primary_key": ("sql_require_primary_key",),
    "event_scheduler": ("event_scheduler",),
}
_WARN_IF_DIFFERENT = {
    "character_set_server": "new tables and connections without an explicit charset get another one",
    "collation_server": "new tables and string comparisons use another collation (e.g. utf8mb4_0900_ai_ci vs "
                        "utf8mb4_general_ci: 'Illegal mix of collations' in joins)",
    "explicit_defaults_for_timestamp": "TIMESTAMP columns without explicit DEFAULT/NULL behave differently",
    "transaction_isolation": "new transactions run at another isolation level",
    "auto_increment_increment": "generated keys step differently",
    "auto_increment_offset": "generated keys start at another offset",
    "innodb_strict_mode": "DDL that warns on one side errors on the other",
    "group_concat_max_len": "GROUP_CONCAT results are truncated at another length",
    "div_precision_increment": "division results carry another number of decimals",
}
_IGNORED_SQL_MODE = {"NO_AUTO_CREATE_USER", "NO_ENGINE_SUBSTITUTION"}  # affect GRANT / DDL only
_UTC = {"+00:00", "UTC", "GMT", "ETC/UTC", "ETC/GMT", "Z", "UNIVERSAL", "ZULU", "COORDINATED UNIVERSAL TIME"}


def query() -> tuple[str, tuple[str, ...]]:
    return show_global_variables(tuple(n for cands in _NAMES.values() for n in cands))


def values(rows: Sequence[tuple]) -> dict[str, str]:
    """SHOW GLOBAL VARIABLES rows -> our names (the first spelling present wins)."""
    raw = {_s(k).lower(): _s(v) for k, v in rows}
    out = {}
    for ours, cands in _NAMES.items():
        hit = next((raw[c] for c in cands if c in raw), None)
        if hit is not None:
            out[ours] = hit
    return out


def _zone(v: dict[str, str]) -> str:
    z = v.get("time_zone", "")
    if z.upper() == "SYSTEM":
        z = v.get("system_time_zone", "SYSTEM")
    return "+00:00" if z.upper() in _UTC else z


def _modes(mode: str) -> set[str]:
    return {m.strip().upper() for m in mode.split(",") if m.strip()} - _IGNORED_SQL_MODE


def findings(src: dict[str, str], tgt: dict[str, str], accept: Sequence[str] = ()) -> list[Finding]:
    out: list[Finding] = []

    def add(name: str, level: str, detail: str) -> None:
        out.append(Finding("setting", level, f"@@{name}", detail))

    if _zone(src) != _zone(tgt):
        add("time_zone", "error", f"source {_zone(src)!r}, target {_zone(tgt)!r}: NOW(), CURDATE() and TIMESTAMP "
                                  "values in the application's sessions shift after the switch")
    if src.get("lower_case_table_names") != tgt.get("lower_case_table_names"):
        add("lower_case_table_names", "error",
            f"source {src.get('lower_case_table_names')!r}, target {tgt.get('lower_case_table_names')!r}: table "
            "names are matched differently (fixed at initialisation on 8.0/Aurora)")
    try:
        packet_t, packet_s = int(tgt["max_allowed_packet"]), int(src["max_allowed_packet"])
    except (KeyError, ValueError):  # could not compare: a failure with the values seen, never a silent pass
        add("max_allowed_packet", "error", f"cannot compare: source {src.get('max_allowed_packet')!r}, "
                                           f"target {tgt.get('max_allowed_packet')!r}")
    else:
        if packet_t < packet_s:
            add("max_allowed_packet", "error",
                f"target {packet_t} < source {packet_s}: statements and rows the source accepts fail on the "
                "target (replication of large rows too)")
    ms, mt = _modes(src.get("sql_mode", "")), _modes(tgt.get("sql_mode", ""))
    if ms != mt:
        diff = ", ".join([f"+{m}" for m in sorted(mt - ms)] + [f"-{m}" for m in sorted(ms - mt)])
        add("sql_mode", "error", f"the target's sql_mode differs by {diff} (target vs source): queries and writes "
                                 "the application makes today may fail or give other results after the switch")
    for name, why in _WARN_IF_DIFFERENT.items():
        if name in src and name in tgt and src[name].lower() != tgt[name].lower():
            add(name, "warning", f"source {src[name]!r}, target {tgt[name]!r}: {why}")
    if tgt.get("sql_require_primary_key", "").upper() in ("ON", "1"):
        add("sql_require_primary_key", "warning", "ON on the target: CREATE/ALTER of a table without a primary key "
                                                  "fails there")
    if tgt.get("event_scheduler", "").upper() in ("ON", "1"):
        add("event_scheduler", "warning", "ON on the target before the switch: scheduled events may run (and write) "
                                          "there as well as on the source")
    return _accepted(out, accept)


def _accepted(found: list[Finding], accept: Sequence[str]) -> list[Finding]:
    reasons = {}
    for entry in accept:
        name, sep, reason = entry.partition(":")
        if sep and reason.strip():
            reasons[name.strip().lstrip("@").lower()] = reason.strip()
    out = []
    for f in found:
        why = reasons.get(f.object.lstrip("@").lower())
        if why and f.level == "error":
            f = Finding(f.check, "warning", f.object, f"{f.detail} — ACCEPTED: {why}")
        out.append(f)
    return out


def invalid_accepts(accept: Sequence[str]) -> list[str]:
    return [f"settings.accept entry {e!r} must be 'variable: reason'" for e in accept
            if not e.partition(":")[1] or not e.partition(":")[0].strip() or not e.partition(":")[2].strip()]
