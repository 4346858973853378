-- 003_data_fix.sql -- data fix: UPDATE ... WHERE (re-runnable: the second run matches no rows).
-- Emails were stored with mixed case by an old sign-up form; normalise them to lower case.
-- The comparison is done on the bytes, because utf8mb4_general_ci would call 'A@X' = 'a@x'.
-- updated_at is set explicitly so the result does not depend on the wall clock.
SET NAMES utf8mb4;
SET time_zone = '+00:00';

UPDATE users
   SET email = LOWER(email),
       updated_at = '2024-11-01 00:00:00'
 WHERE CAST(email AS BINARY) <> CAST(LOWER(email) AS BINARY);
