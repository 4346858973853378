SET GLOBAL binlog_format = 'ROW';
