-- 001_add_column.sql -- schema change: ADD COLUMN with a default (apply once).
-- Added last in the table so MySQL 8.0 / Aurora 3 and MariaDB can do it INSTANT; MySQL 5.7 rebuilds
-- the table in place (online, LOCK=NONE). Existing rows read the default.
SET NAMES utf8mb4;

ALTER TABLE users
  ADD COLUMN preferred_locale VARCHAR(16) NOT NULL DEFAULT 'en-US';
