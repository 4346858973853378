"""Server settings the application depends on, source vs target, from recorded SHOW GLOBAL VARIABLES rows."""

from aurora_cutover.schema import settings

# recorded: MySQL 5.7 (RDS defaults) and Aurora MySQL 3 (8.0 defaults), abbreviated to the compared names
MYSQL57 = [("time_zone", "SYSTEM"), ("system_time_zone", "UTC"), ("lower_case_table_names", "0"),
           ("max_allowed_packet", "67108864"),
           ("sql_mode", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_CREATE_USER"),
           ("character_set_server", "utf8mb4"), ("collation_server", "utf8mb4_general_ci"),
           ("explicit_defaults_for_timestamp", "OFF"), ("tx_isolation", "REPEATABLE-READ"),
           ("auto_increment_increment", "1"), ("auto_increment_offset", "1"), ("event_scheduler", "OFF")]
AURORA3 = [("time_zone", "UTC"), ("system_time_zone", "UTC"), ("lower_case_table_names", "0"),
           ("max_allowed_packet", "67108864"), ("sql_mode", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"),
           ("character_set_server", "utf8mb4"), ("collation_server", "utf8mb4_0900_ai_ci"),
           ("explicit_defaults_for_timestamp", "ON"), ("transaction_isolation", "REPEATABLE-READ"),
           ("tx_isolation", "READ-COMMITTED"),  # only transaction_isolation counts where both exist
           ("auto_increment_increment", "1"), ("auto_increment_offset", "1"), ("event_scheduler", "OFF"),
           ("sql_require_primary_key", "OFF")]


def by(found):
    return {(f.object, f.level) for f in found}


def test_recorded_57_to_aurora3_defaults_warn_about_collation_and_timestamps_only():
    found = settings.findings(settings.values(MYSQL57), settings.values(AURORA3))
    # SYSTEM(UTC) = UTC; NO_AUTO_CREATE_USER (gone in 8.0) is not a difference; isolation names differ, values not
    assert by(found) == {("@@collation_server", "warning"), ("@@explicit_defaults_for_timestamp", "warning")}, found


def test_each_error_names_both_values():
    tgt = dict(settings.values(AURORA3), time_zone="+02:00", max_allowed_packet="4194304",
               lower_case_table_names="1", sql_mode="ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES")
    found = {f.object: f for f in settings.findings(settings.values(MYSQL57), tgt)}
    assert found["@@time_zone"].level == "error" and "'+00:00'" in found["@@time_zone"].detail
    assert "'+02:00'" in found["@@time_zone"].detail
    assert "target 4194304 < source 67108864" in found["@@max_allowed_packet"].detail
    assert found["@@lower_case_table_names"].level == "error"
    assert "+ONLY_FULL_GROUP_BY" in found["@@sql_mode"].detail and found["@@sql_mode"].level == "error"


def test_a_larger_packet_limit_on_the_target_is_fine_and_target_only_risks_warn():
    tgt = dict(settings.values(AURORA3), max_allowed_packet="1073741824", sql_require_primary_key="ON",
               event_scheduler="ON")
    assert by(settings.findings(settings.values(AURORA3), tgt)) == {
        ("@@sql_require_primary_key", "warning"), ("@@event_scheduler", "warning")}


def test_an_accepted_error_is_reported_with_its_reason_and_does_not_fail():
    tgt = dict(settings.values(AURORA3), sql_mode="ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION")
    found = settings.findings(settings.values(AURORA3), tgt, accept=("sql_mode: app tested with 8.0 defaults",))
    assert [(f.object, f.level) for f in found] == [("@@sql_mode", "warning")]
    assert "ACCEPTED: app tested with 8.0 defaults" in found[0].detail
    assert settings.invalid_accepts(["sql_mode"]) == ["settings.accept entry 'sql_mode' must be 'variable: reason'"]


def test_the_query_lists_every_spelling():
    q, args = settings.query()
    assert q.startswith("SHOW GLOBAL VARIABLES WHERE Variable_name IN (") and q.count("%s") == len(args)
    assert "tx_isolation" in args and "transaction_isolation" in args


def test_a_setting_that_cannot_be_read_is_a_failure_not_a_pass():
    src = settings.values(AURORA3)
    tgt = {k: v for k, v in src.items() if k != "max_allowed_packet"}
    found = {f.object: f for f in settings.findings(src, tgt)}
    assert found["@@max_allowed_packet"].level == "error" and "cannot compare" in found["@@max_allowed_packet"].detail


def test_the_variables_builder_refuses_an_empty_list():
    import pytest

    from aurora_cutover.sql.settings import show_global_variables
    with pytest.raises(ValueError):
        show_global_variables(())
