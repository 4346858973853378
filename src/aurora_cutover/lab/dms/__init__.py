"""The lab's AWS DMS: an AWS JSON 1.1 API (service.py) whose running tasks move rows (applier.py).

moto implements DMS as bookkeeping only (no row moves), so the lab serves the DMS API itself; see docs/lab.md.
"""
