"""Under DMS a source-only trigger is deferred (the cutover creates it on the target) — unless the cutover could
not create it there: then it is drift now, naming why (pure)."""

import dataclasses

from aurora_cutover.schema.compare import RECREATE, Difference
from aurora_cutover.schema.drift import why_not_recreatable
from aurora_cutover.schema.snapshot import build
from tests.unit.test_schema_gipk_case import MY80, col, table

BODY = ("BEGIN IF NOT (OLD.status <=> NEW.`status`) THEN INSERT INTO activity_log (kind) VALUES "
        "(NEW.status_changed_at); END IF; END")
TRG = Difference("trigger", "activity_log", "trg_audit", "", {"statement": BODY}, None, "real")
COLS = {"tables": [table("activity_log")], "columns": [col("activity_log", "status", 1),
                                                       col("activity_log", "STATUS_CHANGED_AT", 2)]}


def test_a_trigger_whose_table_and_columns_exist_on_the_target_is_deferred():
    assert why_not_recreatable(TRG, build(MY80, "eduphoria", COLS)) == ""  # column names are case-insensitive


def test_a_deferred_trigger_the_cutover_could_not_create_is_red_naming_why():
    lost = {**COLS, "columns": COLS["columns"][:1]}
    why = why_not_recreatable(TRG, build(MY80, "eduphoria", lost))
    assert why == "it uses NEW.status_changed_at, not a column of activity_log on the target"
    assert why_not_recreatable(TRG, build(MY80, "eduphoria", {})) == (
        "its table activity_log does not exist on the target")
    red = dataclasses.replace(TRG, attribute=RECREATE, source=why)
    assert red.failing and red.sentence() == (
        "activity_log.trg_audit: trigger trg_audit exists only on the source and the cutover could not create it on "
        "the target (DMS defers triggers until then): it uses NEW.status_changed_at, not a column of activity_log "
        "on the target")
