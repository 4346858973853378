SET GLOBAL binlog_format = 'MIXED';
