"""What a server is and what it is doing: identity, version, read-only state, TLS, sessions, transactions.

Pure statement text, no I/O; the probes that run them live in ``db/``, ``guardrails/`` and ``replication/``.

    >>> VERSION
    'SELECT @@version, @@version_comment'
    >>> READ_ONLY_STATE
    'SELECT @@global.read_only'
    >>> SESSION_SETUP.startswith("SET time_zone = '+00:00'")
    True
"""

from __future__ import annotations

# Every session of ours: UTC so TIMESTAMP values never depend on the server's or the OS's zone; strict so a
# value that does not fit is an error, not a silent truncation.
SESSION_SETUP = "SET time_zone = '+00:00', sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')"
SESSION_UTC = "SET time_zone = '+00:00'"  # the rehearsal's application sessions (their own sql_mode)

VERSION = "SELECT @@version, @@version_comment"
AURORA_VERSION = "SELECT AURORA_VERSION()"  # plain MySQL and MariaDB have no such function
IDENTITY = "SELECT CURRENT_USER(), @@server_id, @@hostname, @@global.read_only"
SERVER_ID = "SELECT @@server_id"
UTC_NOW = "SELECT UTC_TIMESTAMP(6)"
TLS_STATUS = "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')"

READ_ONLY_STATE = "SELECT @@global.read_only"
# innodb_read_only = ON is an Aurora reader instance (or a server started read-only): never the writer.
READ_ONLY_AND_INNODB = "SELECT @@global.read_only, @@global.innodb_read_only"

# The one RDS detector: RDS, Aurora and the lab have the mysql.rds_* procedures (the admin may EXECUTE
# them, so it sees them); where they exist, KILL / replication control go through them (no SUPER).
HAS_RDS_PROCEDURES = ("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' "
                      "AND ROUTINE_NAME = 'rds_kill'")
# Where the binlog retention is kept: RDS and Aurora install the server under /rdsdbbin and keep it in
# mysql.rds_configuration (see guardrails.rules.is_rds_basedir); the lab keeps the server's own setting.
BASEDIR = "SELECT @@basedir"

TRANSACTIONS = (
    "SELECT t.trx_id, t.trx_mysql_thread_id, p.USER, p.HOST, "
    "TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) / 1000000 AS age_s, t.trx_state, "
    "t.trx_rows_modified, COALESCE(t.trx_query, p.INFO) AS query, p.COMMAND "
    "FROM information_schema.INNODB_TRX t "
    "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
    "ORDER BY t.trx_started"
)

PROCESSLIST = ("SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO FROM information_schema.PROCESSLIST "
               "WHERE ID <> CONNECTION_ID()")
