"""MySQL 8.0.30+ generated invisible primary keys and lower_case_table_names: each one explained finding, never one
"exists only on one side" per column/table (pure; information_schema rows and SHOW CREATE TABLE in the shapes
MySQL 5.7 and 8.0.30+ print them — the lab's MariaDB has neither feature, so these are verified only here)."""

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.schema.compare import compare, drop_generated_invisible_pk, fold_name_case
from aurora_cutover.schema.normalise import normalise_create_table
from aurora_cutover.schema.snapshot import build

MY57 = parse_flavour("5.7.44-log", "Source distribution")
MY80 = parse_flavour("8.0.32", "MySQL Community Server - GPL", "3.05.2")  # Aurora MySQL 3.05 = 8.0.32
MY8029 = parse_flavour("8.0.29", "MySQL Community Server - GPL")


def col(t, name, pos, dtype="int", ctype="int", extra="", nullable="NO"):
    return {"TABLE_NAME": t, "COLUMN_NAME": name, "ORDINAL_POSITION": pos, "DATA_TYPE": dtype, "COLUMN_TYPE": ctype,
            "IS_NULLABLE": nullable, "COLUMN_DEFAULT": None, "EXTRA": extra, "GENERATION_EXPRESSION": "",
            "CHARACTER_SET_NAME": None, "COLLATION_NAME": None, "COLUMN_COMMENT": ""}


def table(t, ai=None):
    return {"TABLE_NAME": t, "TABLE_TYPE": "BASE TABLE", "ENGINE": "InnoDB", "ROW_FORMAT": "Dynamic",
            "TABLE_COLLATION": "utf8mb4_general_ci", "CREATE_OPTIONS": "", "TABLE_COMMENT": "", "AUTO_INCREMENT": ai}


def index(t, name, column, seq=1, unique=True):
    return {"TABLE_NAME": t, "INDEX_NAME": name, "NON_UNIQUE": 0 if unique else 1, "SEQ_IN_INDEX": seq,
            "COLUMN_NAME": column, "SUB_PART": None, "INDEX_TYPE": "BTREE", "COLLATION": "A"}


# A keyless log on the 5.7 source; on the 8.0.30+ target created with sql_generate_invisible_primary_key = ON.
SRC_LOG = {"tables": [table("activity_log")],
           "columns": [col("activity_log", "occurred_at", 1, "datetime", "datetime(6)"),
                       col("activity_log", "kind", 2, "varchar", "varchar(16)")]}
TGT_LOG = {"tables": [table("activity_log", 3)],
           "columns": [col("activity_log", "my_row_id", 1, "bigint", "bigint unsigned", "auto_increment INVISIBLE"),
                       col("activity_log", "occurred_at", 2, "datetime", "datetime(6)"),
                       col("activity_log", "kind", 3, "varchar", "varchar(16)")],
           "indexes": [index("activity_log", "PRIMARY", "my_row_id")]}
SHOW_CREATE_80 = """CREATE TABLE `activity_log` (
  `my_row_id` bigint unsigned NOT NULL AUTO_INCREMENT /*!80023 INVISIBLE */,
  `occurred_at` datetime(6) NOT NULL,
  `kind` varchar(16) NOT NULL,
  PRIMARY KEY (`my_row_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"""
SHOW_CREATE_57 = """CREATE TABLE `activity_log` (
  `occurred_at` datetime(6) NOT NULL,
  `kind` varchar(16) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def test_generated_invisible_primary_key_is_one_explained_cosmetic_line_per_table():
    src, tgt = build(MY57, "eduphoria", SRC_LOG), build(MY80, "eduphoria", TGT_LOG)
    raw = [d for d in compare(src, tgt) if d.classification == "real"]
    assert len(raw) >= 3  # without the rule: my_row_id and PRIMARY "only on the target", every position moved
    folded, found = drop_generated_invisible_pk(src, tgt)
    assert [(d.ref, d.classification, d.rules) for d in found] == [
        ("activity_log.my_row_id", "cosmetic", ("generated_invisible_primary_key",))]
    assert [d.sentence() for d in compare(src, folded) if d.classification == "real"] == []
    assert normalise_create_table(SHOW_CREATE_80, MY80)[1:4] == normalise_create_table(SHOW_CREATE_57, MY57)[1:4]


def test_real_my_row_id_and_older_servers_are_not_explained_away():
    src, tgt = build(MY57, "eduphoria", SRC_LOG), build(MY8029, "eduphoria", TGT_LOG)
    assert drop_generated_invisible_pk(src, tgt)[1] == []  # 8.0.29 has no GIPK: a real difference
    visible = {**TGT_LOG, "columns": [dict(TGT_LOG["columns"][0], EXTRA="auto_increment"), *TGT_LOG["columns"][1:]]}
    assert drop_generated_invisible_pk(src, build(MY80, "eduphoria", visible))[1] == []  # a visible column is real


def test_lower_case_table_names_difference_is_one_finding_not_one_per_table():
    names = ["Users", "CourseSections"]
    src = build(MY57, "eduphoria", {"tables": [table(t) for t in names],
                                    "columns": [col(t, "id", 1) for t in names]})
    tgt = build(MY80, "eduphoria", {"tables": [table(t.lower()) for t in names],
                                    "columns": [col(t.lower(), "id", 1) for t in names]})
    assert len(compare(src, tgt)) == 8  # without folding: each table and column "exists only on" each side
    folded, found = fold_name_case(src, tgt)
    assert [d.sentence() for d in found] == [
        "2 table(s) differ only in letter case between source and target (CourseSections -> coursesections, "
        "Users -> users): lower_case_table_names differs (see the server settings check); compared as the same tables"]
    assert compare(src, folded) == []


def test_case_folding_never_pairs_ambiguous_names():
    src = build(MY57, "eduphoria", {"tables": [table("Users"), table("USERS")]})
    tgt = build(MY80, "eduphoria", {"tables": [table("users")]})
    assert fold_name_case(src, tgt)[1] == []


def test_case_pairs_stay_aligned_whatever_the_sort_order_of_either_spelling():
    src = build(MY57, "eduphoria", {"tables": [table("Zeta"), table("alpha")]})
    tgt = build(MY80, "eduphoria", {"tables": [table("zeta"), table("ALPHA")]})
    (d,) = fold_name_case(src, tgt)[1]
    assert "(Zeta -> zeta, alpha -> ALPHA)" in d.sentence() and d.ref == "server.lower_case_table_names"


def test_definitions_of_a_table_spelt_in_another_case_compare_by_body():
    from aurora_cutover.schema.compare import compare_definitions
    create = SHOW_CREATE_57.replace("activity_log", "Activity_Log")
    assert compare_definitions({"Activity_Log": create}, {"Activity_Log": SHOW_CREATE_57}, MY57, MY57) == []
    changed = SHOW_CREATE_57.replace("varchar(16)", "varchar(32)")
    (d,) = compare_definitions({"Activity_Log": create}, {"Activity_Log": changed}, MY57, MY57)
    assert "varchar(32)" in d.target

