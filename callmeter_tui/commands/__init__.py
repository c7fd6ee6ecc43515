"""Composition root and commands: runtime wiring, serve, the one-shot commands, the demo targets, the dashboard launcher.

The top of the import graph: nothing in callmeter_tui imports this package except cli.py.
"""
