ALTER TABLE users ADD INDEX idx_users_name (last_name, first_name);
