# The two commands of the README: `make lab-up` (later `make rehearsal`) and `make test`.
SHELL := /bin/bash
PY    ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: venv lab-up lab-down lab-status lab-reset test test-unit test-integration lint bench rehearsal readiness

venv:                ## create .venv with the project and its dev/lab dependencies
	@test -x .venv/bin/python || python3 -m venv .venv
	@.venv/bin/pip install -q -U pip
	@.venv/bin/pip install -q -e '.[dev]'

lab-up:              ## start (or confirm) the local lab: MariaDB pair + replication, moto, DNS
	$(PY) -m aurora_cutover.lab up

lab-down:
	$(PY) -m aurora_cutover.lab down

lab-status:
	$(PY) -m aurora_cutover.lab status

lab-reset:           ## stop and delete all lab data; the next lab-up starts from empty
	$(PY) -m aurora_cutover.lab reset

readiness:
	$(PY) -m pytest -m readiness

test: lint           ## the project's own tests: unit, then integration against the running lab
	$(PY) -m aurora_cutover.lab up
	$(PY) -m pytest tests -q

test-unit:
	$(PY) -m pytest tests/unit -q

test-integration:
	$(PY) -m pytest tests/integration -q

lint:
	$(PY) -m ruff check src tests checks actions conftest.py

bench:               ## checksum benchmark on 1 M rows; results under reports/
	$(PY) bench/checksum_bench.py

rehearsal:           ## full migration rehearsal under live load on the lab
	$(PY) -m aurora_cutover.rehearsal
