"""Thin wiring: the product is the plugin in src/aurora_cutover/plugin.py (options, markers, hooks, evidence)
with its fixtures in src/aurora_cutover/fixtures.py. Readiness checks live in checks/, actions in actions/."""

pytest_plugins = ["aurora_cutover.plugin"]
