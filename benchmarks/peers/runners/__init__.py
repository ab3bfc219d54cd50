"""The scripts each peer runs in its own virtualenv (they import no flowexec code).

Every runner reads the same workload file (``peer_common.load``), builds each workload's graph
with its own API, runs it with no-op tasks and writes the seconds each took.
"""
