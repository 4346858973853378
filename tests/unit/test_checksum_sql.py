"""Pure checksum SQL builders: canonical row form per flavour, chunk ranges, key choice (no server).

The MySQL 5.7 / 8.0 (Aurora) metadata rows below are recorded shapes of what those servers return for
the queries in aurora_cutover.sql.checksum (information_schema.COLUMNS / STATISTICS): MySQL reports JSON
as DATA_TYPE 'json'; MariaDB reports LONGTEXT and a CHECK (json_valid(col)) constraint. Dialect behaviour
on real MySQL 5.7/8.0 is verified only through these fixtures (the lab runs MariaDB).
"""

import pytest

from aurora_cutover.sql import checksum as q
from aurora_cutover.sql.checksum import MARIADB, MYSQL57, MYSQL80, Column, Key

# information_schema.COLUMNS rows as columns_sql() returns them: name, data_type, nullable, charset
DISTRICTS_MYSQL57 = [("id", "int", 0, None), ("slug", "varchar", 0, "utf8mb4"), ("settings", "json", 1, None),
                     ("annual_budget", "decimal", 1, None), ("created_at", "timestamp", 0, None)]
DISTRICTS_MYSQL80 = DISTRICTS_MYSQL57  # 8.0 reports the same shapes for these types
DISTRICTS_MARIADB = [("id", "int", 0, None), ("slug", "varchar", 0, "utf8mb4"), ("settings", "longtext", 1, "utf8mb4"),
                     ("annual_budget", "decimal", 1, None), ("created_at", "timestamp", 0, None)]
MARIADB_JSON_CHECKS = {"settings"}  # CHECK_CONSTRAINTS: CONSTRAINT_NAME='settings', json_valid(`settings`)


def cols(rows, json_cols=frozenset()):
    return [Column(n, t, bool(nl), cs, n in json_cols) for n, t, nl, cs in rows]


EXPECTED_S = ("CONCAT_WS('#', `id`, `slug`, `settings`, IFNULL(`annual_budget`, 'N'), UNIX_TIMESTAMP(`created_at`), "
              "LENGTH(`slug`))")  # the last string (settings) needs no length: it is what remains
FLOAT_W = ("IF(`w` * 1099511627776e0 = FLOOR(`w` * 1099511627776e0) AND ABS(`w`) < 8388608e0, "
           "CAST(`w` * 1099511627776e0 AS SIGNED), CONCAT('~', `w` + 0e0))")


@pytest.mark.parametrize("flavour,rows,json_cols", [
    (MYSQL57, DISTRICTS_MYSQL57, frozenset()),
    (MYSQL80, DISTRICTS_MYSQL80, frozenset()),
    (MARIADB, DISTRICTS_MARIADB, MARIADB_JSON_CHECKS),
], ids=["mysql-5.7", "aurora-mysql-8.0", "mariadb-10.11"])
def test_canonical_row_string_and_hash_per_flavour(flavour, rows, json_cols):
    c = cols(rows, json_cols)
    assert q.row_string(c, flavour) == EXPECTED_S
    assert q.row_hash_exprs(c, flavour) == (f"CRC32({EXPECTED_S})", f"CRC32(REVERSE({EXPECTED_S}))")
    assert q.row_hash_exprs(c, flavour, "crc64") == q.row_hash_exprs(c, flavour)  # drill-down halves of h64
    # crc64: S built once per row, assigned in IF's condition and read only in its branch
    assert q.row_hash64_expr(c, flavour) == (
        f"IF((@aurora_parity_s := {EXPECTED_S}) IS NULL, {q.NULL_MARK}, "
        "CRC32(@aurora_parity_s) * 4294967296 + CRC32(REVERSE(@aurora_parity_s)))")
    assert q.row_hash_exprs(c, flavour, "md5") == (f"CAST(CONV(LEFT(MD5({EXPECTED_S}), 16), 16, 10) AS UNSIGNED)", "0")
    with pytest.raises(ValueError, match="unknown row hash"):
        q.row_hash_exprs(c, flavour, "xor")


def test_merge_columns_gives_both_sides_one_structure():
    src = [Column("id", "int"), Column("name", "varchar", False, "latin1"), Column("note", "varchar", False, "utf8mb3"),
           Column("gone", "int")]
    tgt = [Column("note", "varchar", True, "utf8mb4"), Column("name", "varchar", False, "utf8mb4"), Column("id", "int")]
    s, t = q.merge_columns(src, tgt)
    assert [c.name for c in s] == [c.name for c in t] == ["id", "name", "note"]  # source order, common only
    assert [c.nullable for c in s] == [c.nullable for c in t] == [False, False, True]
    # latin1 on one side: that column's length counts characters on both sides; utf8mb3 vs utf8mb4 keeps bytes
    assert [c.count_chars for c in s] == [c.count_chars for c in t] == [False, True, False]
    ss, ts = q.row_string(s, MYSQL57), q.row_string(t, MYSQL80)
    assert "CONVERT(`name` USING utf8mb4)" in ss and "CONVERT" not in ts
    assert ss.replace("CONVERT(`name` USING utf8mb4)", "`name`") == ts
    assert "CHAR_LENGTH(`name`)" in ts and "LENGTH(`note`)" not in ts  # note: the last string, no length


def test_json_is_detected_per_flavour():
    assert Column("settings", "json").kind == "json"  # MySQL 5.7 / 8.0
    assert Column("settings", "longtext", True, "utf8mb4", is_json=True).kind == "json"  # MariaDB + CHECK
    assert Column("notes", "longtext", True, "utf8mb4").kind == "text"
    assert q.json_columns_sql(MYSQL57) is None and q.json_columns_sql(MYSQL80) is None
    assert "json\\_valid" in q.json_columns_sql(MARIADB)


def test_float_is_widened_timestamp_is_epoch_bit_is_numeric():
    assert q.piece(Column("w", "float"), MYSQL57) == FLOAT_W
    assert q.piece(Column("w", "float"), MARIADB) == q.piece(Column("w", "float"), MYSQL80) == FLOAT_W
    assert q.piece(Column("d", "double"), MYSQL80) == "`d`"
    assert q.piece(Column("ts", "timestamp"), MARIADB) == "UNIX_TIMESTAMP(`ts`)"
    assert q.piece(Column("b", "bit"), MYSQL57) == "(`b` + 0)"
    assert q.piece(Column("dt", "datetime"), MYSQL80) == "`dt`"
    assert q.value_expr(Column("w", "float")) == "(`w` + 0e0)"


@pytest.mark.parametrize("charset,converted", [("utf8mb4", False), ("utf8mb3", False), ("utf8", False),
                                               ("ascii", False), ("latin1", True), ("ucs2", True)])
def test_only_non_utf8_charsets_are_converted(charset, converted):
    p = q.piece(Column("s", "varchar", charset=charset), MYSQL57)
    assert (p == "CONVERT(`s` USING utf8mb4)") is converted
    assert p in ("`s`", "CONVERT(`s` USING utf8mb4)")


def test_lengths_bytes_for_utf8_and_binary_characters_otherwise_nulls_marked():
    s = q.row_string([Column("a", "varchar", charset="latin1"), Column("b", "blob", True),
                      Column("c", "text", True, "utf8mb4"), Column("d", "date", True), Column("e", "float")], MYSQL80)
    assert s == ("CONCAT_WS('#', CONVERT(`a` USING utf8mb4), `b`, `c`, IFNULL(`d`, 'N'), "
                 f"{FLOAT_W.replace('`w`', '`e`')}, "
                 "CHAR_LENGTH(`a`), IFNULL(LENGTH(`b`), 'N'))")


def test_last_string_needs_no_length_unless_it_is_the_only_piece():
    # one nullable string alone: NULL and '' would both be '' -> keep its length entry
    assert q.row_string([Column("t", "text", True, "utf8mb4")], MARIADB) == (
        "CONCAT_WS('#', `t`, IFNULL(LENGTH(`t`), 'N'))")
    # with any always-present piece the last string is what remains between its neighbours
    assert q.row_string([Column("t", "text", True, "utf8mb4"), Column("i", "int")], MARIADB) == (
        "CONCAT_WS('#', `t`, `i`)")
    assert q.row_string([Column("a", "blob", True), Column("b", "blob", True)], MARIADB) == (
        "CONCAT_WS('#', `a`, `b`, IFNULL(LENGTH(`a`), 'N'))")


def test_no_string_columns_no_length_list():
    assert q.row_string([Column("a", "int"), Column("b", "int", True)], MARIADB) == (
        "CONCAT_WS('#', `a`, IFNULL(`b`, 'N'))")


def test_other_types_are_hashed_by_their_text_never_left_out():
    """MariaDB UUID / INET6 (information_schema DATA_TYPE 'uuid', 'inet6', charset NULL) or any future type: the
    text the server prints, delimited by its length like a string."""
    c = [Column("id", "int"), Column("u", "uuid", True), Column("ip", "inet6", True), Column("v", "vector")]
    assert [x.kind for x in c[1:]] == ["other", "other", "other"]
    assert q.row_string(c, MARIADB) == ("CONCAT_WS('#', `id`, `u`, `ip`, `v`, IFNULL(LENGTH(`u`), 'N'), "
                                        "IFNULL(LENGTH(`ip`), 'N'))")
    assert "MD5(`u`)" in q.digest_row_string(c, MARIADB)


def test_system_versioned_tables_are_in_scope():
    assert "TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')" in q.tables_sql()


def test_chunk_checksum_sql_single_key():
    c = [Column("id", "bigint"), Column("name", "varchar", True, "utf8mb4")]
    sql, args = q.chunk_checksum_sql("db", "t", c, Key("PRIMARY", ("id",)), (10,), (20,), MYSQL57)
    h64 = q.row_hash64_expr(c, MYSQL57)
    assert sql == (f"SELECT COUNT(*), COALESCE(SUM({h64}), 0), 0 FROM `db`.`t` "
                   "FORCE INDEX (`PRIMARY`) WHERE ((`id` > %s)) AND ((`id` <= %s))")
    assert args == [10, 20]
    assert h64.startswith("IF((@aurora_parity_s := CONCAT_WS('#', `id`, `name`)) IS")
    sql2, _ = q.chunk_checksum_sql("db", "t", c, Key("PRIMARY", ("id",)), (10,), (20,), MYSQL57, "crc32x2")
    h1, h2 = q.row_hash_exprs(c, MYSQL57)
    assert sql2 == (f"SELECT COUNT(*), COALESCE(SUM(IFNULL({h1}, {q.NULL_MARK})), 0), COALESCE(SUM({h2}), 0) "
                    "FROM `db`.`t` "
                    "FORCE INDEX (`PRIMARY`) WHERE ((`id` > %s)) AND ((`id` <= %s))")
    assert h1 == "CRC32(CONCAT_WS('#', `id`, `name`))"


def test_composite_key_ranges_expand_for_the_range_optimizer():
    where, args = q.range_where(Key("PRIMARY", ("a", "b")), (1, 2), (3, 4))
    assert where == (" WHERE ((`a` > %s) OR (`a` = %s AND `b` > %s)) AND "
                     "((`a` < %s) OR (`a` = %s AND `b` <= %s))")
    assert args == [1, 1, 2, 3, 3, 4]


def test_unbounded_sides_and_whole_table():
    assert q.range_where(Key("PRIMARY", ("id",)), None, None) == ("", [])
    assert q.range_where(Key("PRIMARY", ("id",)), None, (5,)) == (" WHERE ((`id` <= %s))", [5])
    sql, args = q.chunk_checksum_sql("db", "log", [Column("x", "int")], Key("", ()), None, None, MARIADB)
    assert sql.endswith("FROM `db`.`log`") and args == []


def test_next_bound_uses_force_index_and_offset():
    sql, args = q.next_bound_sql("db", "t", Key("PRIMARY", ("a", "b")), (1, 2), 500)
    assert sql == ("SELECT `a`, `b` FROM `db`.`t` FORCE INDEX (`PRIMARY`) WHERE ((`a` > %s) OR (`a` = %s AND "
                   "`b` > %s)) ORDER BY `a`, `b` LIMIT 1 OFFSET 499")
    assert args == [1, 1, 2]
    first, _ = q.next_bound_sql("db", "t", Key("PRIMARY", ("id",)), None, 1)
    assert first.endswith("ORDER BY `id` LIMIT 1 OFFSET 0")


def test_index_missing_on_one_side_means_no_force_index():
    sql, _ = q.chunk_checksum_sql("db", "t", [Column("id", "int")], Key("", ("id",)), (1,), None, MYSQL80)
    assert "FORCE INDEX" not in sql and "WHERE ((`id` > %s))" in sql


def test_identifiers_are_quoted():
    sql, _ = q.chunk_checksum_sql("d`b", "t`x", [Column("we`ird", "int")], Key("PRIMARY", ("we`ird",)),
                                  None, None, MARIADB)
    assert "`d``b`.`t``x`" in sql and "`we``ird`" in sql


# STATISTICS rows as indexes_sql() returns them: index, non_unique, column, sub_part, column nullable
def test_choose_key_prefers_primary_then_unique_not_null_then_not_null_index():
    assert q.choose_key([("PRIMARY", 0, "id", None, 0), ("uq", 0, "email", None, 0)]) == Key("PRIMARY", ("id",))
    assert q.choose_key([("uq_wide", 0, "a", None, 0), ("uq_wide", 0, "b", None, 0),
                         ("uq_nullable", 0, "c", None, 1), ("uq", 0, "e", None, 0)]) == Key("uq", ("e",), True)
    assert q.choose_key([("idx_prefix", 1, "t", 10, 0), ("idx_occ", 1, "occurred_at", None, 0)]) == Key(
        "idx_occ", ("occurred_at",), False)
    assert q.choose_key([("idx_null", 1, "x", None, 1)]) == Key("", (), False)
    assert q.choose_key([]) == Key("", (), False)


def test_drill_down_sql():
    c = [Column("id", "int"), Column("w", "float", True)]
    sql, args = q.rows_by_key_sql("db", "t", c, ("id",), [(1,), (2,)])
    assert sql == "SELECT `id`, (`w` + 0e0) FROM `db`.`t` WHERE (`id` = %s) OR (`id` = %s)"
    assert args == [1, 2]
    sql, args = q.row_hashes_sql("db", "t", c, Key("PRIMARY", ("id",)), None, (9,), MYSQL57)
    assert sql.startswith("SELECT `id`, CRC32(") and sql.endswith("WHERE ((`id` <= %s)) ORDER BY `id`")
    sql, args = q.rows_by_hash_sql("db", "t", c, Key("", ()), None, None, [7, 8], MARIADB)
    assert "WHERE CRC32(" in sql and sql.endswith("IN (%s, %s)") and args == [7, 8]


def test_session_setup_bounds_lock_waits():
    stmts = q.session_setup_sql(MYSQL57, lock_wait_s=2)
    assert "SET SESSION innodb_lock_wait_timeout = 2" in stmts
    assert "SET SESSION lock_wait_timeout = 2" in stmts


# information_schema.COLUMNS.COLUMN_TYPE as MySQL 5.7/8.0 and MariaDB print it (quotes doubled)
@pytest.mark.parametrize("column_type,members", [
    ("enum('draft','submitted')", ("draft", "submitted")),
    ("set('late','resubmitted','extension')", ("late", "resubmitted", "extension")),
    ("enum('it''s','a,b','')", ("it's", "a,b", "")),
    ("ENUM('A')", ("A",)),
    ("varchar(20)", None), ("enum('unterminated)", None), ("enum('a'x)", None),
])
def test_enum_members_parsed_from_column_type(column_type, members):
    assert q.enum_members(column_type) == members


def test_separator_free_enum_set_need_no_length_others_keep_it():
    row = ("status", "enum", 0, "utf8mb4", "enum('draft','graded')")
    c = q.column_from_row(row)
    assert c.separator_free and q.row_string([Column("id", "int"), c], MYSQL57) == "CONCAT_WS('#', `id`, `status`)"
    hashy = q.column_from_row(("tag", "enum", 0, "utf8mb4", "enum('a','b#')"))
    assert not hashy.separator_free and "LENGTH(`tag`)" in q.row_string([hashy], MARIADB)
    # nullable: NULL is the piece 'N' unless 'N' is a member
    n = q.column_from_row(("f", "set", 1, "utf8mb4", "set('x','y')"))
    assert q.row_string([n], MYSQL80) == "CONCAT_WS('#', IFNULL(`f`, 'N'))"
    nn = q.column_from_row(("f", "enum", 1, "utf8mb4", "enum('N','Y')"))
    assert not nn.separator_free and "IFNULL(LENGTH(`f`), 'N')" in q.row_string([nn], MYSQL80)
    # unknown members (no COLUMN_TYPE) stay length-delimited
    assert not Column("e", "enum", charset="utf8mb4").separator_free


def test_merge_unions_enum_members_so_both_sides_encode_alike():
    src = [q.column_from_row(("e", "enum", 0, "utf8mb4", "enum('a','b')"))]
    tgt = [q.column_from_row(("e", "enum", 0, "utf8mb4", "enum('a','b','c#')"))]  # drifted: '#' on the target only
    s, t = q.merge_columns(src, tgt)
    assert s[0].members == t[0].members == ("a", "b", "c#")
    assert q.row_string(s, MYSQL57) == q.row_string(t, MYSQL80) == "CONCAT_WS('#', `e`, LENGTH(`e`))"
    s, t = q.merge_columns(src, [Column("e", "enum", charset="utf8mb4")])  # unknown on one side: keep lengths
    assert not s[0].separator_free and not t[0].separator_free


def test_long_rows_hash_their_digest_form_so_no_row_falls_out_of_the_sum():
    """Rows whose string could pass max_allowed_packet (CONCAT_WS would give NULL) hash length + MD5 per string."""
    c = [Column("id", "int"), Column("doc", "longblob", True),
         Column("note", "text", False, "latin1", count_chars=True), Column("n", "decimal", True)]
    bound = q.size_bound(c)
    assert bound == "400 + IFNULL(LENGTH(`doc`), 0) + CHAR_LENGTH(`note`) * 4"  # O(1) per row, no string built
    d = q.digest_row_string(c, MYSQL57)
    assert d == ("CONCAT_WS('#', 'D', `id`, IFNULL(CONCAT(LENGTH(`doc`), ':', MD5(`doc`)), 'N'), "
                 "IFNULL(CONCAT(LENGTH(CONVERT(`note` USING utf8mb4)), ':', MD5(CONVERT(`note` USING utf8mb4))), 'N'), "
                 "IFNULL(`n`, 'N'))")
    s = q.hashed_row_string(c, MYSQL57, 4_000_000)
    assert s == f"IF({bound} > 4000000, {d}, {q.row_string(c, MYSQL57)})"
    assert q.hashed_row_string(c, MYSQL57, None) == q.row_string(c, MYSQL57)
    nums = [Column("id", "int"), Column("x", "double")]
    assert q.hashed_row_string(nums, MYSQL57, 1024) == q.row_string(nums, MYSQL57)  # bounded by construction
    h64 = q.row_hash64_expr(c, MYSQL80, 4_000_000)
    assert h64.startswith(f"IF((@aurora_parity_s := {s}) IS NULL, {q.NULL_MARK}, ")
    h1, _h2 = q.row_hash_exprs(c, MARIADB, "crc32x2", 4_000_000)
    assert h1 == f"CRC32({q.hashed_row_string(c, MARIADB, 4_000_000)})"
    sql, _ = q.row_hashes_sql("db", "t", c, Key("PRIMARY", ("id",)), None, None, MARIADB, "crc32x2", 4_000_000)
    assert h1 in sql


def test_null_rows_are_counted_exactly_from_the_first_sum():
    biggest_real = q.MAX_SUM_ROWS * (2**64 - 1)
    assert q.null_rows(biggest_real) == 0
    assert q.null_rows(biggest_real + 3 * q.NULL_MARK) == 3
    assert q.null_rows(0) == 0


@pytest.mark.parametrize("flavour,stmt", [
    (MARIADB, "SET SESSION max_statement_time = 115"),
    (MYSQL57, "SET SESSION max_execution_time = 115000"),
    (MYSQL80, "SET SESSION max_execution_time = 115000"),
], ids=["mariadb-10.11", "mysql-5.7", "aurora-mysql-8.0"])
def test_session_statement_timeout_per_flavour(flavour, stmt):
    assert q.session_setup_sql(flavour, statement_timeout_s=115)[-1] == stmt
    assert not any("max_" in s for s in q.session_setup_sql(flavour))
    assert q.kill_query_sql(7, rds=False) == ("KILL QUERY %s", (7,))
    assert q.kill_query_sql(7, rds=True) == ("CALL mysql.rds_kill_query(%s)", (7,))


def test_bucketed_drill_down_sql_keeps_a_changed_row_in_one_bucket():
    c = [Column("id", "int"), Column("name", "varchar", True, "utf8mb4")]
    pk = Key("PRIMARY", ("id",))
    assert q.bucket_expr(c, pk, MYSQL80, 40) == "MOD(CRC32(CONCAT_WS('#', IFNULL(`id`, 'N'))), 40)"  # by key
    h1, _ = q.row_hash_exprs(c, MARIADB)
    heap = Key("", ())
    assert q.bucket_expr(c, heap, MARIADB, 40) == f"MOD(IFNULL({h1}, 0), 40)"  # multiset: by row hash
    sql, args = q.bucket_sums_sql("db", "t", c, pk, (10,), None, MYSQL57, 8)
    assert sql.startswith("SELECT MOD(CRC32(CONCAT_WS('#', IFNULL(`id`, 'N'))), 8) AS bucket, COUNT(*), ")
    assert sql.endswith("FORCE INDEX (`PRIMARY`) WHERE ((`id` > %s)) GROUP BY bucket") and args == [10]
    sql, args = q.row_hashes_sql("db", "t", c, heap, None, None, MARIADB, buckets=(40, [3, 7]))
    assert sql.endswith(f" WHERE MOD(IFNULL({h1}, 0), 40) IN (%s, %s)") and args == [3, 7]


def test_collation_changed_string_key_is_compared_under_the_sources_collation_on_the_target():
    """5.7 utf8mb4_general_ci -> 8.0 utf8mb4_0900_ai_ci (information_schema.COLUMNS.COLLATION_NAME of each side)."""
    src = [q.column_from_row(("code", "varchar", 0, "utf8mb4", "varchar(16)", "utf8mb4_general_ci")),
           q.column_from_row(("n", "int", 0, None, "int(11)", None))]
    tgt = [q.column_from_row(("code", "varchar", 0, "utf8mb4", "varchar(16)", "utf8mb4_0900_ai_ci")),
           q.column_from_row(("n", "int", 0, None, "int", None))]
    key = Key("PRIMARY", ("code", "n"))
    tkey = q.collate_to(src, tgt, key)
    assert tkey.collate == (("utf8mb4", "utf8mb4_general_ci"), None)
    assert q.collate_to(src, src, key) is key  # same collation: untouched (the index serves the ranges)
    where, args = q.range_where(tkey, ("B010", 1), None)
    conv = "CONVERT(`code` USING utf8mb4) COLLATE utf8mb4_general_ci"
    assert where == f" WHERE (({conv} > %s) OR ({conv} = %s AND `n` > %s))" and args == ["B010", "B010", 1]
    sql, _ = q.next_bound_sql("db", "t", tkey, None, 10)
    assert sql.startswith(f"SELECT `code`, `n` FROM `db`.`t` FORCE INDEX (`PRIMARY`) ORDER BY {conv}, `n` ")
    with pytest.raises(ValueError, match="not a charset/collation name"):
        Key("k", ("c",), collate=(("utf8mb4", "x; DROP TABLE t"),)).expr(0)


def test_a_generated_invisible_primary_key_is_never_compared_as_data():
    # MySQL 8.0.30+ prints a GIPK in information_schema.COLUMNS as COLUMN_NAME my_row_id, COLUMN_TYPE
    # 'bigint unsigned', COLUMN_KEY 'PRI', EXTRA 'auto_increment INVISIBLE' (shape from the 8.0 manual, not recorded
    # from a server: the lab is MariaDB). The column list leaves exactly that column out, on both sides alike.
    sql = q.columns_sql()
    assert "COLUMN_NAME = 'my_row_id'" in sql and "COLUMN_KEY = 'PRI'" in sql
    assert "LIKE '%%AUTO_INCREMENT%%INVISIBLE%%'" in sql  # %% : the statement runs with (schema, table) args
    assert sql % ("'db'", "'t'")  # the placeholders are exactly the two parameters


def test_names_with_percent_survive_the_drivers_formatting():
    # every statement here runs with parameters: PyMySQL does sql % escaped_args, so a % in a name must be doubled
    import pymysql.converters

    cols = [Column("a%b", "int"), Column("c_d", "varchar", charset="utf8mb4")]
    key = Key("PRIMARY", ("a%b",))
    sql, args = q.chunk_checksum_sql("edu%", "pct%_tbl", cols, key, (1,), (9,), MARIADB)
    final = sql % tuple(pymysql.converters.escape_item(a, "utf8") for a in args)
    assert "`edu%`.`pct%_tbl`" in final and "`a%b`" in final and "%%" not in final
    assert q.count_sql("edu%", "t%") % () == "SELECT COUNT(*) FROM `edu%`.`t%`"
    sql, args = q.rows_by_key_sql("edu%", "pct%_tbl", cols, ["a%b"], [(5,)])
    assert "`a%b` = 5" in sql % tuple(pymysql.converters.escape_item(a, "utf8") for a in args)


# --------------------------------------------------------------------------- capped re-check (hot append tables)

def _placeholders_match(sql: str, args: list) -> bool:
    return sql.count("%s") == len(args)


def test_chunk_top_sql_is_the_chunk_aggregate_plus_its_top_key_in_one_statement():
    cols = [Column("id", "bigint"), Column("v", "varchar", nullable=True, charset="utf8mb4")]
    key = Key("PRIMARY", ("id",))
    agg, agg_args = q.chunk_checksum_sql("db", "t", cols, key, (100,), None, MARIADB)
    top, top_args = q.chunk_top_sql("db", "t", cols, key, (100,), MARIADB)
    head, _from = agg.split(" FROM ", 1)
    assert top == f"{head}, MAX(`id`) FROM {_from}" and top_args == agg_args == [100]
    # no lower bound (a one-chunk table): the whole table
    top, args = q.chunk_top_sql("db", "t", cols, key, None, MARIADB)
    assert "WHERE" not in top and args == []


def test_composite_top_key_is_the_last_row_in_key_order_under_the_same_range():
    key = Key("PRIMARY", ("a", "b"))
    sql, args = q.chunk_top_sql("db", "t", [Column("a", "int"), Column("b", "int")], key, (1, 2), MARIADB,
                                "crc32x2")
    assert sql.count("ORDER BY `a` DESC, `b` DESC LIMIT 1") == 2 and "MAX(" not in sql
    assert "(SELECT `a` FROM" in sql and "(SELECT `b` FROM" in sql
    assert _placeholders_match(sql, args) and args == [1, 1, 2] * 3  # two subqueries, then the outer range
    sql, args = q.count_top_sql("db", "t", key)
    assert sql.startswith("SELECT COUNT(*), (SELECT `a` FROM `db`.`t` FORCE INDEX (`PRIMARY`) ORDER BY")
    assert args == []


def test_capped_count_compares_row_constructor_style_up_to_the_top_key():
    key = Key("PRIMARY", ("a", "b"))
    sql, args = q.chunk_count_sql("db", "t", key, None, (5, 7))
    assert sql.endswith("WHERE ((`a` < %s) OR (`a` = %s AND `b` <= %s))") and args == [5, 5, 7]


def test_top_key_follows_the_collation_the_side_compares_under():
    key = Key("", ("code",), collate=(("utf8mb4", "utf8mb4_general_ci"),))
    sql, args = q.count_top_sql("db", "t", key)
    assert sql == ("SELECT COUNT(*), MAX(CONVERT(`code` USING utf8mb4) COLLATE utf8mb4_general_ci) "
                   "FROM `db`.`t`") and args == []


def test_keyless_table_has_no_top_key_to_cap_at():
    with pytest.raises(ValueError, match="no index"):
        q.count_top_sql("db", "t", Key("", ()))


def test_count_top_of_the_last_chunk_counts_only_above_its_lower_bound():
    sql, args = q.count_top_sql("db", "t", Key("PRIMARY", ("id",)), (500,))
    assert sql == "SELECT COUNT(*), MAX(`id`) FROM `db`.`t` FORCE INDEX (`PRIMARY`) WHERE ((`id` > %s))"
    assert args == [500]
    sql, args = q.count_top_sql("db", "t", Key("PRIMARY", ("a", "b")), (1, 2))
    assert _placeholders_match(sql, args) and args == [1, 1, 2] * 3
