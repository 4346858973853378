"""The statements of the verified-state store (parity/state.py): a local SQLite file under reports/, not a
statement sent to either server. Kept here with every other statement so the store's layout is one place.

    >>> import sqlite3
    >>> con = sqlite3.connect(":memory:")
    >>> for stmt in CREATE:
    ...     _ = con.execute(stmt)
    >>> con.executemany(INSERT_META, [("format", "1")]).rowcount
    1
    >>> con.execute(SELECT_META).fetchall()
    [('format', '1')]
"""

CREATE = ("CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
          "CREATE TABLE chunks (seq INTEGER PRIMARY KEY, tbl TEXT, idx TEXT, cols TEXT, lower TEXT, "
          "upper TEXT, source TEXT, target TEXT, at TEXT, checked_utc TEXT)")
INSERT_META = "INSERT INTO meta VALUES (?, ?)"
INSERT_CHUNK = ("INSERT INTO chunks (tbl, idx, cols, lower, upper, source, target, at, checked_utc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
SELECT_META = "SELECT k, v FROM meta"
SELECT_CHUNKS = "SELECT tbl, idx, cols, lower, upper, source, target, at, checked_utc FROM chunks ORDER BY seq"
