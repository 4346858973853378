"""Thin wiring: the product is the plugin in src/aurora_cutover/plugin.py (options, markers,
config, fixtures, evidence). Readiness checks live in checks/, actions in actions/."""

pytest_plugins = ["aurora_cutover.plugin"]
