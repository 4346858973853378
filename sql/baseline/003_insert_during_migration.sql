-- 003_insert_during_migration.sql -- writes a live application makes while CDC runs (after 002).
--
-- Deterministic: explicit ids in the 500000-500999 range (seed data is < 1000, the generator starts at
-- 1000000), fixed timestamps, every UPDATE of a table with `ON UPDATE CURRENT_TIMESTAMP` sets updated_at
-- explicitly. Re-runnable: INSERT ... ON DUPLICATE KEY UPDATE (no-op on the second run), UPDATEs assign
-- constants, DELETEs are by key, activity_log (no primary key) rows are inserted only if absent.
-- Covers: inserts into parent and child tables, a composite-PK insert, JSON_SET / JSON_REMOVE updates,
-- a primary-key-preserving update of a unique column, an update that fires the enrollments audit trigger,
-- ON DELETE CASCADE (a course and a user) and ON DELETE SET NULL (authored announcements), and a
-- multi-row delete from the benchmark table.

SET NAMES utf8mb4;
SET time_zone = '+00:00';

-- New users: a transfer student and a substitute teacher (emoji in display_name, JSON preferences).
INSERT INTO users (id, school_id, user_kind, email, first_name, last_name, display_name, birth_date, preferences, avatar, last_login_at, created_at, updated_at) VALUES
(500001, 1, 'student', 'new.student@students.eduphoria.ex', 'Nova', 'Transfer', 'Nova ✨🆕', '2016-07-04', '{"theme": "ocean", "onboarding": {"step": 1, "done": false}}', NULL, '2024-10-01 08:00:00.000001', '2024-10-01 07:59:00', '2024-10-01 08:00:00'),
(500002, 1, 'teacher', 'sub.teacher@eduphoria.ex', 'Sub', 'Stitute', NULL, NULL, NULL, X'0001020304FF', NULL, '2024-10-01 07:00:00', '2024-10-01 07:00:00'),
(500003, 1, 'guardian', 'transfer.parent@example.net', 'Pat', 'Transfer', '', NULL, 'null', NULL, NULL, '2024-10-01 07:58:00', '2024-10-01 07:58:00')
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO student_guardians (student_id, guardian_id, relationship, is_primary, can_pickup, notes, created_at) VALUES
(500001, 500003, 'guardian', 1, 1, 'Transferred from out of state, records pending', '2024-10-01 08:01:00')
ON DUPLICATE KEY UPDATE student_id = student_id;

INSERT INTO courses (id, school_id, teacher_id, code, term, title, description, subject, credits, starts_on, ends_on, created_at) VALUES
(500001, 1, 500002, 'READ-INT', '2024-FA', 'Reading Intervention, Small Group', 'Mon/Wed/Fri; 30 min 📖', 'ela', 0.25, '2024-10-07', NULL, '2024-10-01 09:00:00')
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO enrollments (course_id, student_id, status, enrolled_at, status_changed_at, final_grade, grade_adjustment) VALUES
(1, 500001, 'active', '2024-10-01 08:05:00.000005', NULL, NULL, 0.00),
(2, 500001, 'active', '2024-10-01 08:05:00.000006', NULL, NULL, 0.00),
(500001, 500001, 'active', '2024-10-07 08:00:00.000000', NULL, NULL, -0.01),
(500001, 9, 'active', '2024-10-07 08:00:00.000000', NULL, NULL, 0.00)
ON DUPLICATE KEY UPDATE course_id = course_id;

INSERT INTO assignments (id, course_id, title, instructions, kind, max_points, weight, due_at, rubric, is_published, created_at, updated_at) VALUES
(500001, 500001, 'Reading log, week 1', 'Read 20 min/day; log title, pages, and a 😀/😐/🙁.', 'homework', 5.00, 0.2, '2024-10-11 23:59:59.999999', '{"columns": ["date", "title", "pages", "mood"], "moods": {"happy": "😀", "ok": "😐", "sad": "🙁"}}', 1, '2024-10-07 07:00:00', '2024-10-07 07:00:00')
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO submissions (id, assignment_id, student_id, attempt, status, flags, submitted_at, score, similarity, body, feedback, attachment, created_at, updated_at) VALUES
(500001, 1, 500001, 1, 'late', 'late,extension', '2024-10-01 09:00:00.000001', NULL, NULL, 'Catch-up work: 1/2 + 1/3 = 5/6', NULL, NULL, '2024-10-01 09:00:00', '2024-10-01 09:00:00'),
(500002, 500001, 500001, 1, 'submitted', '', '2024-10-11 20:00:00.654321', NULL, 0.0, 'Mon: Frog and Toad, 12 pages, 😀\nTue: same, 10 pages, 😐', '{"log": [{"day": "Mon", "pages": 12}, {"day": "Tue", "pages": 10}]}', NULL, '2024-10-11 20:00:00', '2024-10-11 20:00:00'),
(500003, 500001, 9, 1, 'draft', '', NULL, NULL, NULL, '', NULL, NULL, '2024-10-10 18:00:00', '2024-10-10 18:00:00'),
(500004, 2, 10, 1, 'submitted', 'resubmitted', '2024-10-02 10:00:00.000000', NULL, 0.5, 'NULL', 'null', X'00', '2024-10-02 10:00:00', '2024-10-02 10:00:00'),
(500005, 13, 16, 1, 'submitted', '', '2024-10-02 11:11:11.111111', NULL, 0.25, 'Game proposal: "Space Cats 🐱🚀", team: Sofia, Lucas', '{"team": [16, 17], "repo": null}', NULL, '2024-10-02 11:11:11', '2024-10-02 11:11:11')
ON DUPLICATE KEY UPDATE id = id;

-- Grading: drafts/submitted become graded with JSON feedback; a negative score (penalty) and a score of 0.
UPDATE submissions SET status = 'graded', score = 4.50, feedback = '{"comment": "Good start 👍", "rubric": {"accuracy": 4.5}}', updated_at = '2024-10-12 08:00:00' WHERE id = 500002;
UPDATE submissions SET status = 'graded', score = -1.00, feedback = '{"comment": "Late penalty", "penalty": -1}', updated_at = '2024-10-12 08:00:01' WHERE id = 500001;
UPDATE submissions SET status = 'graded', score = 0.00, feedback = JSON_OBJECT('comment', 'Blank, see me', 'rubric', JSON_OBJECT('accuracy', 0)), updated_at = '2024-10-12 08:00:02' WHERE id = 3;
UPDATE submissions SET status = 'submitted', submitted_at = '2024-10-12 09:30:00.000009', body = 'Finally done; 3/4 + 1/8 = 7/8', updated_at = '2024-10-12 09:30:00' WHERE id = 4;
-- Multi-row update on the benchmark table (similarity re-scored for one assignment).
UPDATE submissions SET similarity = 0.5, flags = 'plagiarism_checked', updated_at = '2024-10-12 10:00:00' WHERE assignment_id = 11;

-- JSON edits and NULL <-> '' <-> 'NULL' flips.
-- JSON_EXTRACT('true', '$') is a JSON boolean on MySQL and MariaDB alike (a bare TRUE is the integer 1 on MySQL).
UPDATE users SET preferences = JSON_SET(preferences, '$.onboarding.step', 3, '$.onboarding.done', JSON_EXTRACT('true', '$')), updated_at = '2024-10-02 08:00:00' WHERE id = 500001;
UPDATE users SET preferences = JSON_SET(COALESCE(preferences, '{}'), '$.theme', 'high-contrast 🌓'), updated_at = '2024-10-02 08:00:01' WHERE id = 9;
UPDATE users SET display_name = NULL, updated_at = '2024-10-02 08:00:02' WHERE id = 4;
UPDATE users SET display_name = '', updated_at = '2024-10-02 08:00:03' WHERE id = 3;
UPDATE users SET display_name = 'NULL', last_login_at = '2024-10-02 08:00:04.000004', updated_at = '2024-10-02 08:00:04' WHERE id = 10;
-- Unique column changed (email); the STORED generated email_domain follows.
UPDATE users SET email = 'liam.park@students.eduphoria.ex', updated_at = '2024-10-02 08:00:05' WHERE id = 9;
UPDATE districts SET settings = JSON_REMOVE(settings, '$.features'), annual_budget = annual_budget - 0.50, updated_at = '2024-10-02 09:00:00' WHERE id = 1 AND annual_budget = 125000000.50;
UPDATE assignments SET due_at = '2024-10-18 23:59:59.999999', weight = 0.75, updated_at = '2024-10-02 09:30:00' WHERE id = 500001;
UPDATE announcements SET is_pinned = 1, published_at = '2024-10-02 12:00:00' WHERE id = 4;

-- Fires trg_enrollments_status_audit (only when the status really changes, so a re-run adds nothing).
UPDATE enrollments SET status = 'dropped', status_changed_at = '2024-10-03 10:00:00.000000' WHERE course_id = 1 AND student_id = 10;
UPDATE enrollments SET status = 'withdrawn', status_changed_at = '2024-10-03 10:00:01.000000', grade_adjustment = -10.00 WHERE course_id = 3 AND student_id = 11;

-- Append-only log entries (no primary key: inserted only if an identical event is absent).
INSERT INTO activity_log (occurred_at, actor_id, event_type, entity_type, entity_id, details, client_ip, user_agent)
SELECT '2024-10-01 08:00:00.000001', 500001, 'user.login', 'user', 500001, '{"method": "password", "first": true}', X'0A0001F5', 'Mozilla/5.0 (iPad)'
FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM activity_log WHERE event_type = 'user.login' AND entity_id = 500001 AND occurred_at = '2024-10-01 08:00:00.000001');
INSERT INTO activity_log (occurred_at, actor_id, event_type, entity_type, entity_id, details, client_ip, user_agent)
SELECT '2024-10-12 08:00:00.000000', 500002, 'submission.graded', 'submission', 500002, '{"score": 4.5, "emoji": "👍"}', NULL, NULL
FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM activity_log WHERE event_type = 'submission.graded' AND entity_id = 500002 AND occurred_at = '2024-10-12 08:00:00.000000');

-- Deletes: a single row, a range on the benchmark table, a composite-PK row, and two cascading deletes.
DELETE FROM submissions WHERE id = 40;
DELETE FROM submissions WHERE id IN (38, 39) AND assignment_id = 20;
DELETE FROM student_guardians WHERE student_id = 8 AND guardian_id = 33;
-- Course 12 cascades to its enrollments, assignments (19, 20) -> their submissions, and announcements.
DELETE FROM courses WHERE id = 12;
-- User 31 cascades to enrollments, submissions, student_guardians.
DELETE FROM users WHERE id = 31;
-- Teacher 7 leaving: courses.teacher_id and announcements.author_id become NULL (ON DELETE SET NULL).
DELETE FROM users WHERE id = 7;
