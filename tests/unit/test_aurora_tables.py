"""Aurora/DMS table requirements from recorded information_schema rows (5.7, 8.0 and MariaDB spellings)."""

from aurora_cutover.schema import aurora
from aurora_cutover.sql import schema_queries as sq

TABLES = [  # TABLE_NAME, ENGINE, ROW_FORMAT, CREATE_OPTIONS
    ("users", "InnoDB", "Dynamic", ""),
    ("legacy_log", "MyISAM", "Fixed", ""),
    ("archive_57", "InnoDB", "Compressed", "row_format=COMPRESSED KEY_BLOCK_SIZE=8"),
    ("paged_80", "InnoDB", "Dynamic", 'COMPRESSION="zlib"'),
    ("paged_off_80", "InnoDB", "Dynamic", 'COMPRESSION="None"'),
    ("paged_maria", "InnoDB", "Dynamic", "`PAGE_COMPRESSED`='1'"),
    ("parted", "InnoDB", "Dynamic", "partitioned"),
    ("events_raw", "InnoDB", "Dynamic", ""),
    ("tags", "InnoDB", "Dynamic", ""),
    ("audit", "InnoDB", "Dynamic", ""),
]
KEYS = [  # TABLE_NAME, INDEX_NAME, NON_UNIQUE, NULLABLE
    ("users", "PRIMARY", 0, ""), ("legacy_log", "PRIMARY", 0, ""), ("archive_57", "PRIMARY", 0, ""),
    ("paged_80", "PRIMARY", 0, ""), ("paged_off_80", "PRIMARY", 0, ""), ("paged_maria", "PRIMARY", 0, ""),
    ("parted", "PRIMARY", 0, ""), ("parted", "PRIMARY", 0, ""),
    ("events_raw", "idx_at", 1, ""),  # non-unique only
    ("tags", "uq_name", 0, ""),  # unique NOT NULL: a key
    ("audit", "uq_ref", 0, ""), ("audit", "uq_ref", 0, "YES"),  # unique but one column nullable: not a key
]
LOBS = [("users", "bio"), ("events_raw", "payload"), ("audit", "note")]


def _by(findings):
    return {(f.check, f.object, f.level) for f in findings}


def test_engine_compression_and_keys_are_named_per_table():
    got = _by(aurora.findings(TABLES, KEYS, LOBS, dms=False))
    assert got == {("engine", "legacy_log", "error"),
                   ("compressed", "archive_57", "error"), ("compressed", "paged_80", "error"),
                   ("compressed", "paged_maria", "error"),
                   ("no_key", "events_raw", "warning"), ("no_key", "audit", "warning")}, got


def test_under_dms_a_keyless_table_with_lobs_is_an_error_naming_the_columns():
    f = aurora.findings(TABLES, KEYS, LOBS, dms=True)
    lob = [x for x in f if x.check == "lob_without_key"]
    assert [(x.object, x.level) for x in lob] == [("events_raw", "error"), ("audit", "error")]
    assert "payload" in lob[0].detail and "DMS" in lob[0].detail


def test_a_healthy_schema_has_no_findings():
    assert aurora.findings([("users", "InnoDB", "Dynamic", "")], [("users", "PRIMARY", 0, "")],
                           [("users", "bio")], dms=True) == []


def test_an_unreadable_engine_is_an_error_not_a_pass():
    f = aurora.findings([("broken", None, None, None)], [("broken", "PRIMARY", 0, "")], [], dms=False)
    assert [(x.check, x.level) for x in f] == [("engine", "error")] and "unknown" in f[0].detail


def test_queries_are_parameterised_by_schema():
    for q in (sq.aurora_tables("db1"), sq.aurora_keys("db1"), sq.aurora_lobs("db1")):
        assert q[1] == ("db1",) and "%s" in q[0]


def test_mariadb_only_table_kinds_are_errors():
    rows = [("history", "InnoDB", "Dynamic", "", "SYSTEM VERSIONED"), ("seq_ids", "InnoDB", "Dynamic", "", "SEQUENCE"),
            ("users", "InnoDB", "Dynamic", "", "BASE TABLE")]
    keys = [(t, "PRIMARY", 0, "") for t in ("history", "seq_ids", "users")]
    f = aurora.findings(rows, keys, [], dms=False)
    assert [(x.check, x.object) for x in f] == [("table_type", "history"), ("table_type", "seq_ids")]
    assert "SYSTEM VERSIONED" in f[0].detail
