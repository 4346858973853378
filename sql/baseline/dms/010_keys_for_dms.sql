-- What a DMS migration of this schema needs first, applied by the lab only in DMS mode
-- (replication.method = "dms"), before the full load — as a user would after readiness said so:
--   "activity_log: LOB column(s) details but no primary key or NOT NULL unique key: DMS migrates LOBs only
--    for tables with one" (test_every_source_table_can_be_stored_on_aurora_and_moved_by_the_replication_path).
-- AWS DMS needs a primary or unique key to migrate LOB columns (JSON is a LOB to DMS) and to apply UPDATE and
-- DELETE to the right row. A surrogate AUTO_INCREMENT key changes nothing for writers that name their columns
-- (the application, the audit trigger, the generator). MySQL 5.7 has no invisible columns, so it is visible.
ALTER TABLE activity_log
  ADD COLUMN id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT FIRST,
  ADD PRIMARY KEY (id);
