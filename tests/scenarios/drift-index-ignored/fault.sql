ALTER TABLE users ALTER INDEX idx_users_name IGNORED;
