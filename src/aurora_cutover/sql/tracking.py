"""The statements of the tracking file (parity/tracking.py): a local SQLite working file beside a readiness link,
written by the tracker outside the fence, read by the delta session. Not a statement sent to either server; kept
here with every other statement so the file's layout is one place.

One segment = one bounded binlog read of one side from where the previous one stopped; its marks and its end
position are committed in one transaction. Keys are one row each (deduplicated by the primary key), not a blob.

    >>> import sqlite3
    >>> con = sqlite3.connect(":memory:")
    >>> for stmt in CREATE:
    ...     _ = con.execute(stmt)
    >>> _ = con.execute(INSERT_SEGMENT, (1, "source", "{}", "{}", 10, 4, 0.5, "d1"))
    >>> con.executemany(INSERT_KEY, [("source", "t", '[["i", 7]]', 1), ("source", "t", '[["i", 7]]', 1)]).rowcount
    1
    >>> con.execute(SELECT_KEYS).fetchall()
    [(1, 'source', 't', '[["i", 7]]')]
    >>> con.execute(INSERT_WHOLE, ("source", "t", "TRUNCATE at binlog.000002:77", 1, "source", "t", 5)).rowcount
    1
    >>> con.execute(SELECT_WHOLE).fetchall()
    [(1, 'source', 't', 'TRUNCATE at binlog.000002:77')]
"""

# explicit transactions (the connection is in autocommit mode): a writer takes the write lock up front, a reader
# holds one snapshot over all its SELECTs
BEGIN_WRITE = "BEGIN IMMEDIATE"
BEGIN_READ = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"

CREATE = (
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
    "CREATE TABLE segments (seq INTEGER PRIMARY KEY, side TEXT NOT NULL, start TEXT NOT NULL, stop TEXT NOT NULL, "
    "events INTEGER NOT NULL, row_images INTEGER NOT NULL, seconds REAL NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE keys (side TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, seq INTEGER NOT NULL, "
    "PRIMARY KEY (side, tbl, k)) WITHOUT ROWID",
    "CREATE INDEX keys_by_segment ON keys (seq, side, tbl, k)",
    "CREATE TABLE whole (side TEXT NOT NULL, tbl TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER NOT NULL, "
    "PRIMARY KEY (side, tbl, reason)) WITHOUT ROWID",
    "CREATE TABLE counts (seq INTEGER NOT NULL, tbl TEXT NOT NULL, rows_seen INTEGER NOT NULL, "
    "inserts INTEGER NOT NULL, updates INTEGER NOT NULL, deletes INTEGER NOT NULL, PRIMARY KEY (seq, tbl))",
)
INSERT_META = "INSERT INTO meta VALUES (?, ?)"
UPSERT_META = "INSERT INTO meta VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
SELECT_META = "SELECT k, v FROM meta"

INSERT_SEGMENT = ("INSERT INTO segments (seq, side, start, stop, events, row_images, seconds, digest) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
SELECT_SEGMENTS = "SELECT seq, side, start, stop, events, row_images, seconds, digest FROM segments ORDER BY seq"
LAST_SEGMENT = "SELECT seq, digest FROM segments ORDER BY seq DESC LIMIT 1"
LAST_STOP = "SELECT stop FROM segments WHERE side = ? ORDER BY seq DESC LIMIT 1"

INSERT_KEY = "INSERT OR IGNORE INTO keys (side, tbl, k, seq) VALUES (?, ?, ?, ?)"
SEGMENT_KEYS = "SELECT tbl, k FROM keys WHERE seq = ? ORDER BY side, tbl, k"
SELECT_KEYS = "SELECT seq, side, tbl, k FROM keys ORDER BY seq, side, tbl, k"

# at most ``?`` (the last parameter) reasons per side and table: enough to say why, bounded over hours of segments
INSERT_WHOLE = ("INSERT OR IGNORE INTO whole (side, tbl, reason, seq) SELECT ?, ?, ?, ? "
                "WHERE (SELECT COUNT(*) FROM whole WHERE side = ? AND tbl = ?) < ?")
SEGMENT_WHOLE = "SELECT tbl, reason FROM whole WHERE seq = ? ORDER BY side, tbl, reason"
SELECT_WHOLE = "SELECT seq, side, tbl, reason FROM whole ORDER BY seq, side, tbl, reason"
WHOLE_TABLES = "SELECT DISTINCT tbl FROM whole WHERE side = ?"

INSERT_COUNTS = "INSERT INTO counts (seq, tbl, rows_seen, inserts, updates, deletes) VALUES (?, ?, ?, ?, ?, ?)"
SELECT_COUNTS = "SELECT seq, tbl, rows_seen, inserts, updates, deletes FROM counts ORDER BY seq, tbl"
