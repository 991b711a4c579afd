"""Runs: the run store (SQLite), checkpoints, the runner that starts trainers, devices.

Import the submodule you need (``mmviz.runs.store``, ``mmviz.runs.runner``, ...):
this package imports nothing itself, so reading the store never pulls in torch.
"""
