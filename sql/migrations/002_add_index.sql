-- 002_add_index.sql -- new secondary (composite) index on the benchmark table (apply once).
-- Online on 5.7, 8.0 and MariaDB (ALGORITHM=INPLACE, LOCK=NONE); on 1,000,000 submissions it takes a few
-- seconds and is a realistic "DDL during CDC" event.
CREATE INDEX idx_submissions_status_submitted ON submissions (status, submitted_at);
