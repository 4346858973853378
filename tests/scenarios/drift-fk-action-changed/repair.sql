ALTER TABLE courses DROP FOREIGN KEY fk_courses_teacher;
ALTER TABLE courses ADD CONSTRAINT fk_courses_teacher FOREIGN KEY (teacher_id) REFERENCES users (id) ON DELETE SET NULL;
