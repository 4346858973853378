"""Off-the-shelf clients the rehearsal runs beside its own workload, each resolving through the OS (clients.py)."""
