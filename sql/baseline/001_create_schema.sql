-- 001_create_schema.sql -- eduphoria.ex school platform, baseline schema.
--
-- Loaded into a database chosen by the loader, e.g.
--   mariadb --socket=... eduphoria < sql/baseline/001_create_schema.sql
-- so there is deliberately no CREATE DATABASE / USE here.
--
-- Portable across MySQL 5.7, MySQL 8.0 / Aurora MySQL 3 and MariaDB 10.11:
--   * no MySQL 8.0 reserved words as identifiers, no CHECK constraints, no functional indexes,
--     no DEFAULT expressions other than CURRENT_TIMESTAMP, no integer display widths except TINYINT(1);
--   * every TIMESTAMP column spells out NULL/NOT NULL and its DEFAULT, so the result does not depend on
--     explicit_defaults_for_timestamp (OFF on 5.7, ON on 8.0 and MariaDB >= 10.10);
--   * utf8mb4_general_ci on every table (exists everywhere; note it weighs all 4-byte characters equal,
--     so emoji only appear in columns that are not part of a unique key);
--   * indexed VARCHARs are <= 191 characters (767-byte index prefix limit of old 5.7 row formats);
--   * the trigger uses DELIMITER, so load this file with the mariadb / mysql command line client.
-- The table `_migration_heartbeat` belongs to the cutover tool and is not created here.

SET NAMES utf8mb4;

-- Parent of everything. INT UNSIGNED auto-increment key, JSON settings, large DECIMAL.
CREATE TABLE districts (
  id            INT UNSIGNED NOT NULL AUTO_INCREMENT,
  slug          VARCHAR(64)  NOT NULL,
  name          VARCHAR(200) NOT NULL,
  state_code    CHAR(2)      NOT NULL,
  settings      JSON         NULL,
  annual_budget DECIMAL(15,2) NULL,
  created_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_districts_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ENUM, SET, DOUBLE coordinates, composite secondary index, FK with ON DELETE CASCADE.
CREATE TABLE schools (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT,
  district_id    INT UNSIGNED NOT NULL,
  name           VARCHAR(191) NOT NULL,
  school_type    ENUM('elementary','middle','high','k12','charter') NOT NULL DEFAULT 'elementary',
  grade_levels   SET('PK','K','G01','G02','G03','G04','G05','G06','G07','G08','G09','G10','G11','G12') NOT NULL DEFAULT '',
  latitude       DOUBLE       NULL,
  longitude      DOUBLE       NULL,
  enrollment_cap SMALLINT UNSIGNED NULL,
  timezone_name  VARCHAR(64)  NOT NULL DEFAULT 'America/Chicago',
  created_at     TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_schools_district_name (district_id, name),
  CONSTRAINT fk_schools_district FOREIGN KEY (district_id) REFERENCES districts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Students, teachers, admins and guardians. BIGINT UNSIGNED key, STORED generated column with an index,
-- VIRTUAL generated column, nullable text/date/JSON/BLOB, DATETIME(6).
CREATE TABLE users (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  school_id     INT UNSIGNED NOT NULL,
  user_kind     ENUM('student','teacher','admin','guardian') NOT NULL,
  email         VARCHAR(191) NOT NULL,
  email_domain  VARCHAR(191) GENERATED ALWAYS AS (SUBSTRING_INDEX(email, '@', -1)) STORED,
  first_name    VARCHAR(100) NOT NULL,
  last_name     VARCHAR(100) NOT NULL,
  full_name     VARCHAR(201) GENERATED ALWAYS AS (CONCAT_WS(' ', first_name, last_name)) VIRTUAL,
  display_name  VARCHAR(100) NULL,
  birth_date    DATE         NULL,
  preferences   JSON         NULL,
  avatar        BLOB         NULL,
  last_login_at DATETIME(6)  NULL,
  created_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at    TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (email),
  KEY idx_users_school_kind (school_id, user_kind),
  KEY idx_users_name (last_name, first_name),
  KEY idx_users_email_domain (email_domain),
  CONSTRAINT fk_users_school FOREIGN KEY (school_id) REFERENCES schools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Composite primary key, two FKs to the same parent table, both ON DELETE CASCADE.
CREATE TABLE student_guardians (
  student_id   BIGINT UNSIGNED NOT NULL,
  guardian_id  BIGINT UNSIGNED NOT NULL,
  relationship ENUM('mother','father','guardian','grandparent','other') NOT NULL,
  is_primary   TINYINT(1)   NOT NULL DEFAULT 0,
  can_pickup   TINYINT(1)   NOT NULL DEFAULT 1,
  notes        VARCHAR(255) NULL,
  created_at   TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (student_id, guardian_id),
  KEY idx_student_guardians_guardian (guardian_id),
  CONSTRAINT fk_student_guardians_student FOREIGN KEY (student_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_student_guardians_guardian FOREIGN KEY (guardian_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Composite UNIQUE key, TEXT, DECIMAL, DATE, FK with ON DELETE SET NULL next to one with CASCADE.
CREATE TABLE courses (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  school_id   INT UNSIGNED NOT NULL,
  teacher_id  BIGINT UNSIGNED NULL,
  code        VARCHAR(32)  NOT NULL,
  term        VARCHAR(16)  NOT NULL,
  title       VARCHAR(200) NOT NULL,
  description TEXT         NULL,
  subject     ENUM('math','science','ela','social_studies','arts','pe','cs','world_languages') NOT NULL,
  credits     DECIMAL(4,2) NOT NULL DEFAULT 1.00,
  starts_on   DATE         NOT NULL,
  ends_on     DATE         NULL,
  created_at  TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY uq_courses_school_code_term (school_id, code, term),
  KEY idx_courses_teacher (teacher_id),
  CONSTRAINT fk_courses_school FOREIGN KEY (school_id) REFERENCES schools (id) ON DELETE CASCADE,
  CONSTRAINT fk_courses_teacher FOREIGN KEY (teacher_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Composite primary key; negative DECIMALs (grade_adjustment); has the audit trigger below.
CREATE TABLE enrollments (
  course_id         INT UNSIGNED    NOT NULL,
  student_id        BIGINT UNSIGNED NOT NULL,
  status            ENUM('active','dropped','completed','withdrawn') NOT NULL DEFAULT 'active',
  enrolled_at       DATETIME(6)     NOT NULL,
  status_changed_at DATETIME(6)     NULL,
  final_grade       DECIMAL(5,2)    NULL,
  grade_adjustment  DECIMAL(5,2)    NOT NULL DEFAULT 0.00,
  PRIMARY KEY (course_id, student_id),
  KEY idx_enrollments_student_status (student_id, status),
  CONSTRAINT fk_enrollments_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE,
  CONSTRAINT fk_enrollments_student FOREIGN KEY (student_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- MEDIUMTEXT, FLOAT, nullable DATETIME(6), JSON rubric, composite secondary index.
CREATE TABLE assignments (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT,
  course_id    INT UNSIGNED NOT NULL,
  title        VARCHAR(200) NOT NULL,
  instructions MEDIUMTEXT   NULL,
  kind         ENUM('homework','quiz','test','project','lab') NOT NULL DEFAULT 'homework',
  max_points   DECIMAL(6,2) NOT NULL DEFAULT 100.00,
  weight       FLOAT        NOT NULL DEFAULT 1,
  due_at       DATETIME(6)  NULL,
  rubric       JSON         NULL,
  is_published TINYINT(1)   NOT NULL DEFAULT 0,
  created_at   TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at   TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_assignments_course_due (course_id, due_at),
  CONSTRAINT fk_assignments_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- The benchmark table (largest): single-column BIGINT UNSIGNED AUTO_INCREMENT key and mixed types.
CREATE TABLE submissions (
  id            BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  assignment_id INT UNSIGNED     NOT NULL,
  student_id    BIGINT UNSIGNED  NOT NULL,
  attempt       TINYINT UNSIGNED NOT NULL DEFAULT 1,
  status        ENUM('draft','submitted','late','graded','returned','excused') NOT NULL DEFAULT 'draft',
  flags         SET('late','resubmitted','extension','plagiarism_checked','accommodations') NOT NULL DEFAULT '',
  submitted_at  DATETIME(6)      NULL,
  score         DECIMAL(6,2)     NULL,
  similarity    FLOAT            NULL,
  body          TEXT             NULL,
  feedback      JSON             NULL,
  attachment    BLOB             NULL,
  created_at    TIMESTAMP        NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at    TIMESTAMP        NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_submissions_assignment_student (assignment_id, student_id),
  KEY idx_submissions_student_submitted (student_id, submitted_at),
  CONSTRAINT fk_submissions_assignment FOREIGN KEY (assignment_id) REFERENCES assignments (id) ON DELETE CASCADE,
  CONSTRAINT fk_submissions_student FOREIGN KEY (student_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Emoji-heavy text, SET, nullable TIMESTAMP.
CREATE TABLE announcements (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  course_id    INT UNSIGNED    NOT NULL,
  author_id    BIGINT UNSIGNED NULL,
  title        VARCHAR(200)    NOT NULL,
  body         MEDIUMTEXT      NOT NULL,
  audience     SET('students','guardians','teachers') NOT NULL DEFAULT 'students',
  is_pinned    TINYINT(1)      NOT NULL DEFAULT 0,
  published_at TIMESTAMP       NULL DEFAULT NULL,
  created_at   TIMESTAMP       NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY idx_announcements_course_published (course_id, published_at),
  CONSTRAINT fk_announcements_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE,
  CONSTRAINT fk_announcements_author FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Append-only event log WITHOUT a primary key (and without any unique key): identical rows may exist.
-- Secondary indexes only. DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), VARBINARY for packed IP addresses.
CREATE TABLE activity_log (
  occurred_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor_id    BIGINT UNSIGNED NULL,
  event_type  VARCHAR(64)     NOT NULL,
  entity_type VARCHAR(64)     NOT NULL,
  entity_id   BIGINT UNSIGNED NULL,
  details     JSON            NULL,
  client_ip   VARBINARY(16)   NULL,
  user_agent  VARCHAR(255)    NULL,
  KEY idx_activity_log_entity (entity_type, entity_id),
  KEY idx_activity_log_occurred (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Audit trigger: an enrollment status change appends to activity_log. With row-based replication the
-- trigger's rows travel as row events (the trigger does not fire again on a MySQL replica); a replication
-- method that re-executes changes as SQL (e.g. DMS) fires it again on the target if it exists there.
DELIMITER $$
CREATE TRIGGER trg_enrollments_status_audit
AFTER UPDATE ON enrollments
FOR EACH ROW
BEGIN
  IF NOT (OLD.status <=> NEW.status) THEN
    INSERT INTO activity_log (occurred_at, actor_id, event_type, entity_type, entity_id, details)
    VALUES (COALESCE(NEW.status_changed_at, NOW(6)), NULL, 'enrollment.status_changed', 'enrollment',
            NEW.student_id,
            JSON_OBJECT('course_id', NEW.course_id, 'from', OLD.status, 'to', NEW.status));
  END IF;
END$$
DELIMITER ;

-- Plain join view (uses the VIRTUAL generated column).
CREATE VIEW v_course_roster AS
SELECT c.id          AS course_id,
       c.code        AS course_code,
       c.term        AS term,
       u.id          AS student_id,
       u.full_name   AS student_name,
       e.status      AS enrollment_status,
       e.enrolled_at AS enrolled_at
FROM enrollments e
JOIN courses c ON c.id = e.course_id
JOIN users u ON u.id = e.student_id;

-- Aggregate view (ONLY_FULL_GROUP_BY-clean: every selected non-aggregate is grouped).
CREATE VIEW v_assignment_stats AS
SELECT a.id                AS assignment_id,
       a.course_id         AS course_id,
       COUNT(s.id)         AS submission_count,
       AVG(s.score)        AS avg_score,
       MAX(s.submitted_at) AS last_submitted_at
FROM assignments a
LEFT JOIN submissions s ON s.assignment_id = a.id
GROUP BY a.id, a.course_id;
