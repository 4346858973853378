SET GLOBAL binlog_expire_logs_seconds = 3600;
