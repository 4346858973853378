"""What makes a lab MariaDB server behave like RDS MySQL 5.7 (source) or Aurora MySQL 3 (target).

Lab setup SQL (run as root over the socket, never by the product):

    >>> admin_grants("source", "eduphoria")[0]
    'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, ...'

- The **master user** gets what the RDS/Aurora master user gets, in MariaDB spelling, and nothing that
  RDS withholds: no SUPER, no FILE, no SHUTDOWN, no REPLICATION SLAVE ADMIN (so no CHANGE MASTER / START
  SLAVE / SET GLOBAL gtid_slave_pos — RDS makes you call mysql.rds_* for those), no BINLOG ADMIN (no
  ``SET sql_log_bin``), no CONNECTION ADMIN (KILL of another user's session is refused: mysql.rds_kill).
  The source (RDS MySQL 5.7) has no READ ONLY ADMIN either, so once ``read_only`` is on even the master
  user cannot write. The target (Aurora MySQL 3) has READ ONLY ADMIN — the MariaDB equivalent of the
  CONNECTION_ADMIN Aurora's master user holds, which writes through ``read_only``. MariaDB also lets READ
  ONLY ADMIN ``SET GLOBAL read_only``, which Aurora refuses: the lab's parameter-group control plane
  (lab/params.py) holds the parameter group as the truth, reverts such a change and records it as a
  violation, and the rehearsal fails on any violation.
- The **RDS procedures** exist with RDS's names and argument lists, ``SQL SECURITY DEFINER`` as root, so
  the same statements run in the lab and on AWS. MariaDB needs GTID positions, so replication is set up
  with ``mysql.rds_set_external_master_gtid`` — the procedure RDS for MariaDB has.
"""

from __future__ import annotations

# RDS MySQL 5.7 master user ("Master user account privileges", AWS docs), MariaDB 10.11 spelling:
# REPLICATION CLIENT is BINLOG MONITOR + SLAVE MONITOR there.
_MASTER = ("SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, "
           "SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, "
           "SLAVE MONITOR, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER")
ADMIN_USER = "admin"

PROCEDURES = ("rds_kill", "rds_kill_query", "rds_show_configuration", "rds_set_configuration",
              "rds_set_external_master_gtid", "rds_start_replication", "rds_stop_replication",
              "rds_reset_external_master", "rds_skip_repl_error")


def admin_grants(role: str, user: str = ADMIN_USER) -> list[str]:
    """GRANTs for the master-style admin of ``role`` ("source" plays RDS MySQL 5.7, "target" Aurora 3)."""
    privs = _MASTER + (", READ ONLY ADMIN" if role == "target" else "")
    out = [f"GRANT {privs} ON *.* TO '{user}'@'%' WITH GRANT OPTION"]
    out += [f"GRANT EXECUTE ON PROCEDURE mysql.{p} TO '{user}'@'%'" for p in PROCEDURES]
    return out


def _exec(sql_expr: str) -> str:
    return f"SET @rds_stmt = {sql_expr}; PREPARE rds_st FROM @rds_stmt; EXECUTE rds_st; DEALLOCATE PREPARE rds_st;"


def procedures(lab_user: str) -> list[str]:
    """CREATE statements (one per procedure, no DELIMITER needed through the client API). ``lab_user`` is the
    OS user whose socket root login plays rdsadmin: like rdsadmin on RDS, its sessions cannot be killed."""
    protected = f"('system user', {_quote(lab_user)})"
    d = "CREATE DEFINER = 'root'@'localhost' PROCEDURE"
    sec = "SQL SECURITY DEFINER"
    return [
        "CREATE TABLE IF NOT EXISTS mysql.rds_configuration (name VARCHAR(100) NOT NULL PRIMARY KEY, "
        "value VARCHAR(100), description VARCHAR(300) NOT NULL) ENGINE=InnoDB",
        "INSERT IGNORE INTO mysql.rds_configuration VALUES ('binlog retention hours', NULL, "
        "'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.')",
        # Like RDS: the master user may kill any session except the server's own threads.
        f"{d} mysql.rds_kill(IN thread BIGINT) {sec} BEGIN "
        "IF thread IN (SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN " + protected + ") THEN "
        "SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'ERROR: cannot kill a system or rdsadmin session'; END IF; "
        "KILL thread; END",
        f"{d} mysql.rds_kill_query(IN thread BIGINT) {sec} BEGIN "
        "IF thread IN (SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN " + protected + ") THEN "
        "SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'ERROR: cannot kill a system or rdsadmin session'; END IF; "
        "KILL QUERY thread; END",
        f"{d} mysql.rds_show_configuration() {sec} "
        "SELECT name, value, description FROM mysql.rds_configuration ORDER BY name",
        # Retention hours also bound the server's own purge, as on RDS (NULL = purge as soon as possible).
        f"{d} mysql.rds_set_configuration(IN name VARCHAR(100), IN value INT) {sec} BEGIN "
        "IF name NOT IN (SELECT c.name FROM mysql.rds_configuration c) THEN "
        "SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'ERROR: unknown configuration name'; END IF; "
        "UPDATE mysql.rds_configuration c SET c.value = value WHERE c.name = name; "
        "IF name = 'binlog retention hours' THEN "
        + _exec("CONCAT('SET GLOBAL binlog_expire_logs_seconds = ', IFNULL(value, 0) * 3600)") + " END IF; END",
        f"{d} mysql.rds_set_external_master_gtid(IN host VARCHAR(255), IN port INT, IN user VARCHAR(80), "
        f"IN passwd VARCHAR(128), IN gtid VARCHAR(1024), IN ssl_encryption TINYINT) {sec} BEGIN "
        + _exec("CONCAT('SET GLOBAL gtid_slave_pos = ', QUOTE(gtid))")
        + _exec("CONCAT('CHANGE MASTER TO MASTER_HOST = ', QUOTE(host), ', MASTER_PORT = ', port, "
                "', MASTER_USER = ', QUOTE(user), ', MASTER_PASSWORD = ', QUOTE(passwd), "
                "', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1, "
                "MASTER_SSL = ', IF(ssl_encryption, 1, 0))")
        + " END",
        f"{d} mysql.rds_start_replication() {sec} BEGIN " + _exec("'START SLAVE'") + " END",
        f"{d} mysql.rds_stop_replication() {sec} BEGIN " + _exec("'STOP SLAVE'") + " END",
        f"{d} mysql.rds_reset_external_master() {sec} BEGIN " + _exec("'STOP SLAVE'")
        + _exec("'RESET SLAVE ALL'") + " END",
        f"{d} mysql.rds_skip_repl_error() {sec} BEGIN " + _exec("'STOP SLAVE'")
        + _exec("'SET GLOBAL sql_slave_skip_counter = 1'") + _exec("'START SLAVE'") + " END",
    ]


def _quote(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'"


def drop_procedures() -> list[str]:
    return [f"DROP PROCEDURE IF EXISTS mysql.{p}" for p in PROCEDURES]
