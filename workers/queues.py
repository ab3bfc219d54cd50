"""Queue names and task routes: a leaf that every other worker module reads."""

from __future__ import annotations

CONTROL = "flowexec.control"
NODES = "flowexec.nodes"
POLL = "flowexec.poll"
QUEUES = (CONTROL, NODES, POLL)

#: Control work (kills, adoptions, the reconciler) on the control queue; submits and polls
#: each on their own, so a burst of polls never delays a submit.
ROUTES = {
    "flowexec.run_node": {"queue": NODES},
    "flowexec.poll_node": {"queue": POLL},
    "flowexec.kill_job": {"queue": CONTROL},
    "flowexec.adopt_node": {"queue": CONTROL},
    "flowexec.reconcile": {"queue": CONTROL},
}
