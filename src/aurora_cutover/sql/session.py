"""Pure SQL about the session itself — no I/O.

    >>> NO_BINLOG
    'SET SESSION sql_log_bin = 0'
"""

NO_BINLOG = "SET SESSION sql_log_bin = 0"  # tooling writes kept out of replication where the login may (not RDS)
SERVER_ID = "SELECT @@server_id"  # which server a session landed on (the canary through the switch name)
