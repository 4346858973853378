ALTER TABLE schools ALTER COLUMN timezone_name SET DEFAULT 'America/Chicago';
