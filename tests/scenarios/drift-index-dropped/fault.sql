ALTER TABLE users DROP INDEX idx_users_name;
