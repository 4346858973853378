# The two commands of the README: `make lab-up` (later `make rehearsal`) and `make test`.
SHELL := /bin/bash
PY    := .venv/bin/python
VENV  := .venv/.installed

.PHONY: venv tools lab-up lab-down lab-status lab-reset test test-slow test-crash test-dms test-unit test-integration lint bench bench-binlog bench-scale bench-gaps test-scale rehearsal readiness track bench-tracker

venv: $(VENV)        ## .venv with the project and its dev/lab dependencies (re-made when pyproject changes)

$(VENV): pyproject.toml
	@test -x .venv/bin/python || python3 -m venv .venv
	@.venv/bin/pip install -q -U pip
	@.venv/bin/pip install -q -e '.[dev]'
	@touch $(VENV)

tools: .tools/checkov/bin/checkov   ## checkov in its own venv (its pins clash with boto3/moto)

.tools/checkov/bin/checkov: scripts/install-checkov.sh
	scripts/install-checkov.sh

ROWS ?=
ROWS_ARG = $(if $(ROWS),--rows $(ROWS))
lab-up: $(VENV)              ## start (or confirm) the local lab: MariaDB pair + replication, moto, DNS (ROWS=N: ~N generated rows)
	$(PY) -m aurora_cutover.lab up $(ROWS_ARG)

lab-down: $(VENV)
	$(PY) -m aurora_cutover.lab down

lab-status: $(VENV)
	$(PY) -m aurora_cutover.lab status

lab-reset: $(VENV)           ## stop and delete all lab data; the next lab-up starts from empty
	$(PY) -m aurora_cutover.lab reset

readiness: $(VENV)
	$(PY) -m pytest -m readiness

track: $(VENV)               ## during the CDC window: track both binlogs beside the newest green readiness link (SIGTERM/Ctrl-C stops it)
	$(PY) -m aurora_cutover.parity.tracker $(if $(REPORTS),--reports $(REPORTS))

test: $(VENV) tools lint           ## the project's own tests: unit, then integration against the running lab
	$(PY) -m aurora_cutover.lab up
	$(PY) -m pytest tests -q -m "not dms_lab and not slow and not scale_lab"

test-slow: $(VENV)   ## the long matrices CI also runs: Route 53 faults on the lab, then the DMS lab's tests
	$(PY) -m aurora_cutover.lab up
	$(PY) -m pytest tests/integration -q -m "slow and not dms_lab"
	$(MAKE) --no-print-directory test-dms

DMS_LAB := .dms-lab/migration.toml
test-dms: $(VENV)    ## DMS integration tests on a fresh DMS lab of their own (127.0.30.x), stopped afterwards
	$(PY) scripts/dms-lab-config.py $(DMS_LAB)
	$(PY) -m aurora_cutover.lab up --fresh --config $(DMS_LAB)
	MIGRATION_CONFIG=$(DMS_LAB) $(PY) -m pytest tests/integration -q -m dms_lab; rc=$$?; \
	  $(PY) -m aurora_cutover.lab down --config $(DMS_LAB) >/dev/null; exit $$rc

test-scale: $(VENV)  ## the scale lab's own checks on a lab of ROWS generated rows (default 200000; loads it if needed)
	$(PY) -m aurora_cutover.lab up --rows $(or $(ROWS),200000)
	$(PY) -m pytest tests/integration/test_scale_lab.py -q -m scale_lab

test-crash: $(VENV)  ## the whole crash matrix (every step killed after and inside; ~20 min): docs/fault-matrix.md
	$(PY) -m aurora_cutover.lab up
	AURORA_CRASH_MATRIX=full $(PY) -m pytest tests/integration/test_crash_recovery.py -q

test-unit: $(VENV)
	$(PY) -m pytest tests/unit -q

test-integration: $(VENV)
	$(PY) -m pytest tests/integration -q

lint: $(VENV)
	$(PY) -m ruff check src tests checks actions conftest.py

bench: $(VENV)               ## checksum benchmark on 1 M rows vs pt-table-checksum; results under reports/
	@command -v pt-table-checksum >/dev/null || { test "$$(id -u)" = 0 && apt-get install -y -qq percona-toolkit >/dev/null; } \
	  || { echo "bench: pt-table-checksum missing; as root: apt-get install percona-toolkit"; exit 1; }
	$(PY) -m aurora_cutover.lab up
	$(PY) bench/checksum_bench.py

bench-binlog: $(VENV)        ## change-tracker throughput: row events/s into dirty chunks on the lab; results under reports/
	$(PY) -m aurora_cutover.lab up
	$(PY) bench/binlog_tracker_bench.py

bench-tracker: $(VENV)       ## the fenced proof with and without the tracker after MINUTES (default 3) of writes; results under bench/results/
	$(PY) -m aurora_cutover.lab up
	$(PY) bench/tracker_bench.py --minutes $(or $(MINUTES),3)

bench-scale: $(VENV)         ## readiness at size: a fresh lab of ROWS rows (default 6000000); results under reports/
	$(PY) bench/scale_bench.py --rows $(or $(ROWS),6000000)

bench-gaps: $(VENV)          ## write gaps at size: full/delta readiness, cutover + rollback fenced by the delta vs counts/full pass, under the workload, on the running lab (never resets; ROWS=N loads an empty lab, CONFIG=path); results under bench/results/
	$(PY) bench/gap_bench.py $(ROWS_ARG) $(if $(CONFIG),--config $(CONFIG))

REPLICATION ?= native
LOAD ?= light
CLIENT_PKGS := sysbench default-jre-headless libmariadb-java
rehearsal: $(VENV)           ## full migration rehearsal under live load on the lab (REPLICATION=dms: via the lab's DMS; LOAD=high: sysbench flat out)
	@if ! command -v sysbench >/dev/null || ! command -v java >/dev/null || ! test -f /usr/share/java/mariadb-java-client.jar; then \
	  if test "$$(id -u)" = 0; then echo "rehearsal: apt-get install $(CLIENT_PKGS) (the off-the-shelf clients)"; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $(CLIENT_PKGS) >/dev/null; \
	  else echo "rehearsal: the clients need: sudo apt-get install $(CLIENT_PKGS)"; exit 1; fi; fi
	$(PY) -m aurora_cutover.rehearsal --replication=$(REPLICATION) --load=$(LOAD) $(ROWS_ARG)
