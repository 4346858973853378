"""Deterministic data generator for the eduphoria lab schema (sql/baseline/001_create_schema.sql).

    python -m aurora_cutover.lab.datagen --socket PATH --database eduphoria --rows N [--table T] [--seed S]

Loads N rows into each selected table (all tables by default), parents first so foreign keys stay
checked. Tables that a selected table depends on but that were not selected themselves get a small
number of parent rows (see :func:`parent_rows`); ``--table submissions`` therefore loads the benchmark
table plus just enough districts/schools/users/courses/assignments to point at.

Values are built in Python from a seeded :class:`random.Random` (one stream per table, so the same seed
gives the same rows) and sent as multi-row INSERTs of ``BATCH_ROWS`` rows, one commit per statement.
Generated ids start at ``ID_BASE`` (or after the largest existing id, if that is higher), so they never
collide with the seed data (ids < 1000) or sql/baseline/003 (500000-500999). Rows carry the same edge
values as the seed data: NULL vs '' vs 'NULL', JSON null, emoji and other 4-byte characters, separators
inside strings, nested JSON, negative DECIMALs, FLOATs, DATETIME(6) with microseconds, TIMESTAMPs,
small BLOBs, and exact duplicate rows in activity_log (which has no primary key).
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

ID_BASE = 1_000_000
BATCH_ROWS = 5_000
PARENT_ROWS = 1_000
DEFAULT_SEED = 42
BENCHMARK_TABLE = "submissions"
# TIMESTAMP literals are sent in UTC; the generator pins the session time zone.
SESSION_SETUP = ("SET NAMES utf8mb4", "SET SESSION time_zone = '+00:00'")


class DatagenError(ValueError):
    """Bad input (unknown table, negative row count, ...)."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]  # the columns the generator writes (never generated columns)
    parents: tuple[str, ...]  # tables it references through foreign keys
    has_id: bool = True  # single-column integer `id` primary key


# In foreign-key order: every table comes after its parents.
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "districts",
            ("id", "slug", "name", "state_code", "settings", "annual_budget", "created_at", "updated_at"),
            (),
        ),
        TableSpec(
            "schools",
            (
                "id",
                "district_id",
                "name",
                "school_type",
                "grade_levels",
                "latitude",
                "longitude",
                "enrollment_cap",
                "timezone_name",
                "created_at",
            ),
            ("districts",),
        ),
        TableSpec(
            "users",
            (
                "id",
                "school_id",
                "user_kind",
                "email",
                "first_name",
                "last_name",
                "display_name",
                "birth_date",
                "preferences",
                "avatar",
                "last_login_at",
                "created_at",
                "updated_at",
            ),
            ("schools",),
        ),
        TableSpec(
            "student_guardians",
            ("student_id", "guardian_id", "relationship", "is_primary", "can_pickup", "notes", "created_at"),
            ("users",),
            has_id=False,
        ),
        TableSpec(
            "courses",
            (
                "id",
                "school_id",
                "teacher_id",
                "code",
                "term",
                "title",
                "description",
                "subject",
                "credits",
                "starts_on",
                "ends_on",
                "created_at",
            ),
            ("schools", "users"),
        ),
        TableSpec(
            "enrollments",
            (
                "course_id",
                "student_id",
                "status",
                "enrolled_at",
                "status_changed_at",
                "final_grade",
                "grade_adjustment",
            ),
            ("courses", "users"),
            has_id=False,
        ),
        TableSpec(
            "assignments",
            (
                "id",
                "course_id",
                "title",
                "instructions",
                "kind",
                "max_points",
                "weight",
                "due_at",
                "rubric",
                "is_published",
                "created_at",
                "updated_at",
            ),
            ("courses",),
        ),
        TableSpec(
            "submissions",
            (
                "id",
                "assignment_id",
                "student_id",
                "attempt",
                "status",
                "flags",
                "submitted_at",
                "score",
                "similarity",
                "body",
                "feedback",
                "attachment",
                "created_at",
                "updated_at",
            ),
            ("assignments", "users"),
        ),
        TableSpec(
            "announcements",
            ("id", "course_id", "author_id", "title", "body", "audience", "is_pinned", "published_at", "created_at"),
            ("courses", "users"),
        ),
        TableSpec(
            "activity_log",
            ("occurred_at", "actor_id", "event_type", "entity_type", "entity_id", "details", "client_ip", "user_agent"),
            (),
            has_id=False,
        ),
    )
}


# --------------------------------------------------------------------------------------------------
# planning


def resolve_tables(tables: Iterable[str] | None) -> list[str]:
    """Validate table names (also accepts comma-separated items); None or empty means all tables."""
    if tables is None:
        return list(TABLES)
    names: list[str] = []
    for item in tables:
        for name in str(item).split(","):
            name = name.strip()
            if not name:
                continue
            if name not in TABLES:
                raise DatagenError(f"unknown table {name!r} (known: {', '.join(TABLES)})")
            if name not in names:
                names.append(name)
    return names or list(TABLES)


def parent_rows(rows: int) -> int:
    """Rows for a parent table that was not asked for: enough to spread N child rows over.

    Scales with sqrt(N) so composite keys (student x guardian, course x student) have room for N pairs.
    """
    if rows <= 0:
        return 0
    return min(rows, max(PARENT_ROWS, 4 * math.isqrt(rows)))


def plan(tables: Iterable[str] | None, rows: int) -> dict[str, int]:
    """Rows to generate per table, in foreign-key order (parents first)."""
    if isinstance(rows, bool) or not isinstance(rows, int):
        raise DatagenError(f"rows must be an integer, got {rows!r}")
    if rows < 0:
        raise DatagenError(f"rows must be >= 0, got {rows}")
    wanted = resolve_tables(tables)
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(TABLES[name].parents)
    return {name: (rows if name in wanted else parent_rows(rows)) for name in TABLES if name in needed}


def first_id(current_max: int | None) -> int:
    """First id for generated rows: ID_BASE, or after what is already there (re-runs append)."""
    return max(ID_BASE, (current_max or 0) + 1)


def user_kind(index: int) -> str:
    """Kind of the index-th generated user (~68% students, 20% guardians, 10% teachers, 2% admins)."""
    if index % 50 == 3:
        return "admin"
    r = index % 10
    if r == 1:
        return "teacher"
    if r in (2, 7):
        return "guardian"
    return "student"


# --------------------------------------------------------------------------------------------------
# SQL literals

_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", '"': '\\"', "\0": "\\0", "\n": "\\n", "\r": "\\r", "\x1a": "\\Z"})


def quote_backslash(s: str) -> str:
    """String literal for the default sql_mode (backslash escapes on)."""
    return "'" + s.translate(_ESCAPES) + "'"


def quote_ansi(s: str) -> str:
    """String literal for sql_mode NO_BACKSLASH_ESCAPES."""
    return "'" + s.replace("'", "''") + "'"


def hex_literal(b: bytes) -> str:
    return "X'" + b.hex().upper() + "'" if b else "''"


def json_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


T0 = datetime(2024, 8, 19, 7, 0, 0)  # first day of the generated school year (UTC)
YEAR_US = 300 * 86_400 * 1_000_000


def dt6(us: int) -> str:
    """DATETIME(6) literal body for T0 + us microseconds."""
    return (T0 + timedelta(microseconds=us)).isoformat(" ", "microseconds")


def ts0(us: int) -> str:
    """TIMESTAMP literal body (whole seconds) for T0 + us microseconds."""
    return (T0 + timedelta(microseconds=us)).isoformat(" ", "seconds")


# Raw text fragments with the edge cases the seed data has. None = SQL NULL.
TEXT_FRAGMENTS: tuple[str, ...] = (
    "Answer: 42",
    "1/2 + 1/4 = 3/4",
    "a, b, c; d",
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three",
    'He said "hi", then left',
    "It's O'Brien's turn",
    "C:\\path\\to\\file.txt",
    "emoji 🎉🚀📚",
    "ZWJ 👩‍🏫 👨‍👩‍👧‍👦 flag 🇺🇸",
    "𠜎𠮷 CJK ext B, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "Zoë, José, Müller, Nguyễn",
    "日本語のテキスト",
    "مرحبا بالعالم",
    "pipe|separated|text",
    "100% done & dusted",
    "Robert'); DROP TABLE submissions;--",
    "ctrl\x1aZ and NUL\0byte",
)
EDGE_STRINGS: tuple[str | None, ...] = (None, "", "NULL", "null", " ", "0")
FIRST_NAMES = (
    "Ava",
    "Liam",
    "Zoë",
    "José",
    "Mia",
    "Noah",
    "由紀",
    "نور",
    "Lê",
    "Chloé",
    "Ólafur",
    "Emma",
    "Oliver",
    "Sofia",
    "Mateo",
    "Harper",
    "Ethan",
    "Grace",
    "Leo",
    "Amelia",
)
LAST_NAMES = (
    "Park",
    "O'Brien",
    "García",
    "Müller",
    "Smith, Jr.",
    "Nguyễn",
    "田中",
    "حداد",
    "Chen",
    "Rossi",
    "Kowalski",
    "Brown",
    "Wilson",
    "Lee",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Clark",
)
ASCII_FIRST = (
    "ava",
    "liam",
    "zoe",
    "jose",
    "mia",
    "noah",
    "yuki",
    "noor",
    "le",
    "chloe",
    "olafur",
    "emma",
    "oliver",
    "sofia",
    "mateo",
    "harper",
    "ethan",
    "grace",
    "leo",
    "amelia",
)
ASCII_LAST = (
    "park",
    "obrien",
    "garcia",
    "muller",
    "smith",
    "nguyen",
    "tanaka",
    "haddad",
    "chen",
    "rossi",
    "kowalski",
    "brown",
    "wilson",
    "lee",
    "young",
    "king",
    "wright",
    "scott",
    "green",
    "clark",
)
EMOJI = ("🌟", "🚀", "🦁", "🍎", "🎨", "📚", "🇲🇽", "👩‍🏫", "😀", "🧮")
STATES = ("TX", "CA", "NY", "IL", "WA", "FL", "OH", "GA", "NC", "MI")
TIMEZONES = ("America/Chicago", "America/New_York", "America/Los_Angeles", "America/Denver", "UTC")
GRADE_SETS = (
    "PK,K,G01,G02,G03,G04,G05",
    "G06,G07,G08",
    "G09,G10,G11,G12",
    "",
    "PK,G12",
    "K,G01,G02,G03,G04,G05,G06,G07,G08,G09,G10,G11,G12",
)
BLOBS = (b"\x89PNG\r\n\x1a\n\x00", b"\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF", bytes(range(16)), b"\x00\xff" * 8)


def _json_pool(rng: random.Random, kind: str, size: int = 64) -> list[str]:
    """Pre-built JSON documents (raw text) for a column; nested objects, nulls, unicode, negatives."""
    out: list[str] = ["null", "{}", "[]"]
    while len(out) < size:
        i = len(out)
        if kind == "feedback":
            obj: Any = {
                "comment": rng.choice((*TEXT_FRAGMENTS[:16], "", None)),
                "rubric": {"accuracy": round(rng.uniform(0, 10), 2), "work shown": rng.randint(0, 2)},
                "penalty": -rng.randint(0, 5) if i % 3 == 0 else None,
                "tags": [rng.choice(EMOJI) for _ in range(i % 4)],
            }
        elif kind == "rubric":
            obj = {
                "criteria": [{"name": f"criterion {k}", "points": rng.randint(1, 20)} for k in range(1 + i % 4)],
                "late_policy": {"per_day": -round(rng.uniform(0, 10), 1), "max_days": i % 7},
            }
        elif kind == "settings":
            obj = {
                "grading": {"scale": rng.choice(("A-F", "1-4", "pass/fail")), "cutoffs": {"A": 90, "B": 80, "C": 70}},
                "features": rng.sample(["sso", "lti", "sms", "parent-portal"], k=i % 4),
                "motto": rng.choice(TEXT_FRAGMENTS),
            }
        elif kind == "details":
            obj = {
                "ip_country": rng.choice(("US", "MX", "JP", None)),
                "attempt": i % 5,
                "meta": {"source": rng.choice(("web", "ios", "android")), "note": rng.choice(TEXT_FRAGMENTS)},
            }
        else:  # preferences
            obj = {
                "theme": rng.choice(("dark", "light", "space 🚀")),
                "notifications": {
                    "email": i % 2 == 0,
                    "sms": i % 3 == 0,
                    "digest": {"daily": i % 5 == 0, "hour": i % 24},
                },
                "locale": rng.choice(("en-US", "es-MX", "ja-JP", "ar")),
            }
        out.append(json_text(obj))
    return out


# --------------------------------------------------------------------------------------------------
# row builders: each yields tuples of SQL literals, one per TableSpec.columns entry


@dataclass
class Context:
    """What the row builders need: quoting for the session's sql_mode and the ids generated so far."""

    quote: Callable[[str], str] = quote_backslash
    ids: dict[str, range] = field(default_factory=dict)

    def q(self, s: str | None) -> str:
        return "NULL" if s is None else self.quote(s)

    def users_of(self, kind: str) -> list[int]:
        users = self.ids.get("users", range(0))
        return [users[i] for i in range(len(users)) if user_kind(i) == kind]


Row = tuple[str, ...]
Builder = Callable[[random.Random, Context, int, int], Iterator[Row]]


def _pick(rng: random.Random, ids: range | Sequence[int]) -> int:
    return ids[int(rng.random() * len(ids))]


def _text_pool(rng: random.Random, ctx: Context, size: int = 512, max_parts: int = 3) -> list[str]:
    """Quoted literals: edge strings plus combinations of fragments (NULL appears as an edge string)."""
    pool = [ctx.q(s) for s in EDGE_STRINGS]
    while len(pool) < size:
        parts = [rng.choice(TEXT_FRAGMENTS) for _ in range(1 + int(rng.random() * max_parts))]
        pool.append(ctx.q(" ".join(parts)))
    return pool


def _rows_districts(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    settings = [ctx.q(s) for s in _json_pool(rng, "settings")]
    for i in range(n):
        id_ = start + i
        created = int(rng.random() * YEAR_US)
        name = rng.choice(("North Valley ISD", "Lakeside Unified 🎓", 'Riverbend, "Consolidated"', "NULL", ""))
        yield (
            str(id_),
            ctx.q(f"district-{id_}"),
            ctx.q(f"{name} #{id_}" if i % 7 else name),
            ctx.q(rng.choice(STATES)),
            "NULL" if i % 5 == 0 else rng.choice(settings),
            "NULL" if i % 11 == 0 else f"{rng.uniform(-1e6, 1e9):.2f}",
            ctx.q(ts0(created)),
            ctx.q(ts0(created + int(rng.random() * 86_400_000_000))),
        )


def _rows_schools(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    districts = ctx.ids["districts"]
    types = [ctx.q(t) for t in ("elementary", "middle", "high", "k12", "charter")]
    grades = [ctx.q(g) for g in GRADE_SETS]
    zones = [ctx.q(z) for z in TIMEZONES]
    for i in range(n):
        id_ = start + i
        no_geo = i % 13 == 0
        yield (
            str(id_),
            str(_pick(rng, districts)),
            ctx.q(f"{rng.choice(LAST_NAMES)} {rng.choice(('Elementary', 'Middle', 'High', 'Academy 🏫'))} {id_}"),
            rng.choice(types),
            rng.choice(grades),
            "NULL" if no_geo else repr(rng.uniform(-90.0, 90.0)),
            "NULL" if no_geo else repr(rng.uniform(-180.0, 180.0)),
            "NULL" if i % 9 == 0 else str(rng.randint(0, 65535)),
            rng.choice(zones),
            ctx.q(ts0(int(rng.random() * YEAR_US))),
        )


def _rows_users(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    schools = ctx.ids["schools"]
    prefs = [ctx.q(s) for s in _json_pool(rng, "preferences")]
    blobs = [hex_literal(b) for b in BLOBS]
    for i in range(n):
        id_ = start + i
        kind = user_kind(i)
        f = int(rng.random() * len(FIRST_NAMES))
        la = int(rng.random() * len(LAST_NAMES))
        local = f"{ASCII_FIRST[f]}.{ASCII_LAST[la]}.{id_}"
        if i % 17 == 0:
            local = local.capitalize()  # mixed case, for the lower-casing data fix migration
        domain = (
            "students.eduphoria.ex" if kind == "student" else ("example.com" if kind == "guardian" else "eduphoria.ex")
        )
        r = i % 8
        display = (
            None
            if r == 0
            else ""
            if r == 1
            else "NULL"
            if r == 2
            else f"{FIRST_NAMES[f]} {rng.choice(EMOJI)}"
            if r == 3
            else None
            if r > 5
            else f"{FIRST_NAMES[f]}, {LAST_NAMES[la]}"
        )
        created = int(rng.random() * YEAR_US)
        birth = date(2005, 1, 1) + timedelta(days=int(rng.random() * 5000)) if kind == "student" else None
        yield (
            str(id_),
            str(_pick(rng, schools)),
            ctx.quote(kind),
            ctx.quote(f"{local}@{domain}"),
            ctx.quote(FIRST_NAMES[f]),
            ctx.quote(LAST_NAMES[la]),
            ctx.q(display),
            "NULL" if birth is None else ctx.quote(birth.isoformat()),
            "NULL" if i % 3 == 0 else rng.choice(prefs),
            rng.choice(blobs) if i % 20 == 0 else "NULL",
            "NULL" if i % 4 == 0 else ctx.quote(dt6(created + int(rng.random() * 86_400_000_000))),
            ctx.quote(ts0(created)),
            ctx.quote(ts0(created + 3_600_000_000)),
        )


def _rows_student_guardians(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    students = ctx.users_of("student")
    guardians = ctx.users_of("guardian") or list(ctx.ids["users"])
    n = min(n, len(students) * len(guardians))
    rels = [ctx.q(r) for r in ("mother", "father", "guardian", "grandparent", "other")]
    notes = _text_pool(rng, ctx, 64)
    s_count = len(students)
    for i in range(n):
        yield (
            str(students[i % s_count]),
            str(guardians[(i // s_count) % len(guardians)]),
            rng.choice(rels),
            "1" if i < s_count else "0",
            "0" if i % 10 == 9 else "1",
            rng.choice(notes) if i % 4 == 0 else "NULL",
            ctx.quote(ts0(int(rng.random() * YEAR_US))),
        )


def _rows_courses(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    schools = ctx.ids["schools"]
    teachers = ctx.users_of("teacher")
    subjects = [ctx.q(s) for s in ("math", "science", "ela", "social_studies", "arts", "pe", "cs", "world_languages")]
    titles = (
        "Algebra I, Part 1",
        'Reading, Writing, and "Spelling"',
        "Science Explorers 🔬",
        "日本語 I",
        "U.S. History, 1776–1900",
        "Intro to CS 💻",
        "Digital Art 🎨🖌️",
        "العربية ١",
    )
    descriptions = _text_pool(rng, ctx, 128)
    terms = [ctx.q(t) for t in ("2024-FA", "2025-SP", "2025-SU")]
    for i in range(n):
        id_ = start + i
        starts = date(2024, 8, 19) + timedelta(days=int(rng.random() * 150))
        yield (
            str(id_),
            str(_pick(rng, schools)),
            str(_pick(rng, teachers)) if teachers and i % 10 else "NULL",
            ctx.quote(f"C-{id_}"),
            rng.choice(terms),
            ctx.quote(f"{rng.choice(titles)} ({id_})"),
            rng.choice(descriptions),
            rng.choice(subjects),
            f"{int(rng.random() * 9) * 0.25:.2f}",
            ctx.quote(starts.isoformat()),
            "NULL" if i % 6 == 0 else ctx.quote((starts + timedelta(days=120)).isoformat()),
            ctx.quote(ts0(int(rng.random() * YEAR_US))),
        )


def _rows_enrollments(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    courses = ctx.ids["courses"]
    students = ctx.users_of("student")
    n = min(n, len(courses) * len(students))
    statuses = [ctx.q(s) for s in ("active", "active", "active", "dropped", "completed", "withdrawn")]
    c_count = len(courses)
    for i in range(n):
        enrolled = int(rng.random() * YEAR_US)
        status = rng.choice(statuses)
        changed = status != statuses[0]
        yield (
            str(courses[i % c_count]),
            str(students[(i // c_count) % len(students)]),
            status,
            ctx.quote(dt6(enrolled)),
            ctx.quote(dt6(enrolled + int(rng.random() * 1e13))) if changed else "NULL",
            f"{rng.uniform(0, 100):.2f}" if status == "'completed'" else "NULL",
            f"{-rng.uniform(0, 20):.2f}" if i % 9 == 0 else "0.00",
        )


def _rows_assignments(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    courses = ctx.ids["courses"]
    kinds = [ctx.q(k) for k in ("homework", "quiz", "test", "project", "lab")]
    rubrics = [ctx.q(s) for s in _json_pool(rng, "rubric")]
    instructions = _text_pool(rng, ctx, 128)
    for i in range(n):
        id_ = start + i
        created = int(rng.random() * YEAR_US)
        yield (
            str(id_),
            str(_pick(rng, courses)),
            ctx.quote(f"Assignment {id_}: {rng.choice(TEXT_FRAGMENTS[:12])}"),
            rng.choice(instructions),
            rng.choice(kinds),
            f"{rng.choice((5, 10, 20, 25, 50, 100, 200))}.00",
            repr(round(rng.uniform(0.1, 5.0), 3)),
            "NULL" if i % 12 == 0 else ctx.quote(dt6(created + int(rng.random() * 2e12))),
            "NULL" if i % 2 else rng.choice(rubrics),
            "0" if i % 8 == 0 else "1",
            ctx.quote(ts0(created)),
            ctx.quote(ts0(created + 60_000_000)),
        )


def _rows_submissions(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    """The benchmark table: kept lean (pools of pre-quoted literals) so 1M rows stay fast."""
    assignments = ctx.ids["assignments"]
    a0, a_n = assignments.start, len(assignments)
    students = ctx.users_of("student") or list(ctx.ids["users"])
    s_n = len(students)
    statuses = [
        ctx.quote(s) for s in ("draft", "submitted", "late", "graded", "graded", "graded", "returned", "excused")
    ]
    flags = [
        ctx.quote(f)
        for f in (
            "",
            "",
            "",
            "",
            "late",
            "resubmitted",
            "late,extension",
            "plagiarism_checked",
            "accommodations",
            "late,resubmitted,plagiarism_checked",
        )
    ]
    bodies = _text_pool(rng, ctx, 1024)
    feedback = [ctx.q(s) for s in _json_pool(rng, "feedback", 128)]
    blobs = [hex_literal(b) for b in BLOBS]
    rnd = rng.random
    for i in range(n):
        k = int(rnd() * 8)
        status = statuses[k]
        created = int(rnd() * YEAR_US)
        created_s = dt6(created)
        scored = 3 <= k <= 6  # graded or returned
        yield (
            str(start + i),
            str(a0 + int(rnd() * a_n)),
            str(students[int(rnd() * s_n)]),
            "1" if i % 10 else str(2 + i % 3),
            status,
            flags[int(rnd() * 10)],
            "NULL" if k == 0 else "'" + created_s + "'",  # drafts were never submitted
            ("NULL" if not scored else f"{-1 - rnd() * 5:.2f}" if i % 50 == 0 else f"{rnd() * 100:.2f}"),
            "NULL" if i % 5 == 0 else f"{rnd():.4f}",
            bodies[int(rnd() * 1024)],
            feedback[int(rnd() * 128)] if scored else "NULL",
            blobs[i % 5] if i % 97 == 0 else "NULL",
            "'" + created_s[:19] + "'",
            "'" + ts0(created + 3_600_000_000) + "'",
        )


def _rows_announcements(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    courses = ctx.ids["courses"]
    authors = ctx.users_of("teacher")
    audiences = [
        ctx.q(a) for a in ("students", "students,guardians", "guardians", "teachers", "students,guardians,teachers")
    ]
    bodies = [b for b in _text_pool(rng, ctx, 256, max_parts=8) if b != "NULL"]  # body is NOT NULL
    for i in range(n):
        created = int(rng.random() * YEAR_US)
        yield (
            str(start + i),
            str(_pick(rng, courses)),
            str(_pick(rng, authors)) if authors and i % 7 else "NULL",
            ctx.quote(f"{rng.choice(TEXT_FRAGMENTS[:12])} {rng.choice(EMOJI)}" if i % 11 else ""),
            rng.choice(bodies) if i % 11 else "''",
            rng.choice(audiences),
            "1" if i % 6 == 0 else "0",
            "NULL" if i % 4 == 0 else ctx.quote(ts0(created + 600_000_000)),
            ctx.quote(ts0(created)),
        )


def _rows_activity_log(rng: random.Random, ctx: Context, start: int, n: int) -> Iterator[Row]:
    events = [
        (ctx.quote(e), ctx.quote(t))
        for e, t in (
            ("user.login", "user"),
            ("submission.created", "submission"),
            ("submission.graded", "submission"),
            ("announcement.published", "announcement"),
            ("enrollment.status_changed", "enrollment"),
            ("system.cron", "job"),
        )
    ]
    details = [ctx.q(s) for s in _json_pool(rng, "details")]
    agents = [
        ctx.q(a)
        for a in (
            None,
            "",
            "NULL",
            "Mozilla/5.0 (X11; Linux x86_64)",
            "curl/8.5.0",
            "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) 日本語",
        )
    ]
    ips = ["NULL", "X'C0A80001'", "X'0A000008'", "X'20010DB8000000000000000000000001'"]
    row: Row = ()
    for i in range(n):
        if i % 100 == 1:  # no primary key: exact duplicate of the previous row
            yield row
            continue
        event, entity = rng.choice(events)
        system = entity == "'job'"
        row = (
            ctx.quote(dt6(int(rng.random() * YEAR_US))),
            "NULL" if system else str(ID_BASE + int(rng.random() * 1_000_000)),
            event,
            entity,
            "NULL" if system else str(ID_BASE + int(rng.random() * 1_000_000)),
            rng.choice(details),
            rng.choice(ips),
            rng.choice(agents),
        )
        yield row


BUILDERS: dict[str, Builder] = {
    "districts": _rows_districts,
    "schools": _rows_schools,
    "users": _rows_users,
    "student_guardians": _rows_student_guardians,
    "courses": _rows_courses,
    "enrollments": _rows_enrollments,
    "assignments": _rows_assignments,
    "submissions": _rows_submissions,
    "announcements": _rows_announcements,
    "activity_log": _rows_activity_log,
}


def table_rng(seed: int, table: str) -> random.Random:
    """One independent, reproducible stream per table (string seeds hash with sha512, not hash())."""
    return random.Random(f"eduphoria:{seed}:{table}")


def insert_prefix(table: str) -> str:
    return f"INSERT INTO `{table}` (" + ", ".join(f"`{c}`" for c in TABLES[table].columns) + ") VALUES\n"


def batches(
    prefix: str, rows: Iterable[Row], batch_rows: int = BATCH_ROWS, max_chars: int = 4 << 20
) -> Iterator[tuple[str, int]]:
    """Group rows into multi-row INSERT statements: (sql, row count), at most batch_rows / ~max_chars."""
    if batch_rows < 1:
        raise DatagenError(f"batch_rows must be >= 1, got {batch_rows}")
    parts: list[str] = []
    size = len(prefix)
    for row in rows:
        text = "(" + ",".join(row) + ")"
        if parts and (len(parts) >= batch_rows or size + len(text) + 2 > max_chars):
            yield prefix + ",\n".join(parts), len(parts)
            parts, size = [], len(prefix)
        parts.append(text)
        size += len(text) + 2
    if parts:
        yield prefix + ",\n".join(parts), len(parts)


def prefetch(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate `items` in a background thread, `depth` ahead: statement building (CPU) overlaps with
    the server executing the previous statement (socket I/O releases the GIL). Exceptions from the
    producer are re-raised here; abandoning the iterator stops the producer."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as e:  # handed to the consumer
            put(("error", e))
            return
        put(("done", None))

    worker = threading.Thread(target=produce, name="datagen-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)


# --------------------------------------------------------------------------------------------------
# database side


def generate(
    conn: Any, rows: int, tables: list[str] | None = None, seed: int = DEFAULT_SEED, *, batch_rows: int = BATCH_ROWS
) -> dict[str, int]:
    """Insert `rows` rows into each table of `tables` (None: all), parents first; returns rows per table.

    `conn` is an open PyMySQL connection to the target database. Foreign key checks stay on; each
    multi-row INSERT is committed on its own.
    """
    counts = plan(tables, rows)
    result: dict[str, int] = {}
    with conn.cursor() as cur:
        for stmt in SESSION_SETUP:
            cur.execute(stmt)
        cur.execute("SELECT @@SESSION.sql_mode, @@SESSION.max_allowed_packet")
        sql_mode, max_packet = cur.fetchone()
        ctx = Context(quote_ansi if "NO_BACKSLASH_ESCAPES" in str(sql_mode).upper() else quote_backslash)
        # a character is at most 4 bytes in utf8mb4; keep statements well under max_allowed_packet
        max_chars = max(64 << 10, min(8 << 20, (int(max_packet) - 4096) // 4))
        for table, n in counts.items():
            start = 0
            if TABLES[table].has_id:
                cur.execute(f"SELECT MAX(`id`) FROM `{table}`")
                start = first_id(cur.fetchone()[0])
            done = 0
            builder = BUILDERS[table](table_rng(seed, table), ctx, start, n)
            for sql, k in prefetch(batches(insert_prefix(table), builder, batch_rows, max_chars)):
                cur.execute(sql)
                conn.commit()
                done += k
            if TABLES[table].has_id:
                ctx.ids[table] = range(start, start + done)
            result[table] = done
    return result


def connect(socket: str, database: str) -> Any:
    import pymysql

    return pymysql.connect(
        unix_socket=socket, user=getpass.getuser(), database=database, charset="utf8mb4", autocommit=False
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="aurora_cutover.lab.datagen", description="Load deterministic eduphoria test data over a unix socket."
    )
    p.add_argument("--socket", required=True, help="server unix socket (socket auth as the OS user)")
    p.add_argument("--database", default="eduphoria")
    p.add_argument("--rows", type=int, required=True, help="rows per selected table")
    p.add_argument(
        "--table",
        action="append",
        metavar="T",
        help=f"only this table (+ the parent rows it needs); repeatable or comma-separated; "
        f"e.g. --table {BENCHMARK_TABLE}",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--batch-rows", type=int, default=BATCH_ROWS, help="rows per INSERT statement")
    return p


def summary(result: dict[str, int], seconds: float, seed: int) -> str:
    total = sum(result.values())
    rate = total / seconds if seconds > 0 else 0.0
    per_table = ", ".join(f"{t}={n}" for t, n in result.items()) or "nothing"
    return f"datagen: inserted {total} rows in {seconds:.2f}s ({rate:,.0f} rows/s), seed={seed}: {per_table}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        plan(args.table, args.rows)  # validate before connecting
        if args.batch_rows < 1:
            raise DatagenError(f"--batch-rows must be >= 1, got {args.batch_rows}")
    except DatagenError as e:
        parser.error(str(e))
    try:
        conn = connect(args.socket, args.database)
    except Exception as e:
        print(f"{parser.prog}: error: cannot connect via {args.socket}: {e}", file=sys.stderr)
        return 1
    try:
        t = time.perf_counter()
        result = generate(conn, args.rows, args.table, args.seed, batch_rows=args.batch_rows)
        print(summary(result, time.perf_counter() - t, args.seed))
    except Exception as e:
        print(f"{parser.prog}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
