"""Use cases, one module each; every function that changes state commits before it returns
the actions to dispatch (a message sent before the commit could reach a worker before the
rows it names). The service writes no SQL: ``flowexec.store`` owns every statement.

- ``flows``: register and load flow versions
- ``submit``: start an execution
- ``steps``: a node's claim, submission and end
- ``jobs``: a node's Linkis job, built from its rows
- ``polls``: a running node's polls
- ``completion``: what follows a node's end (retries, failure policy, children, the run's end)
- ``cancel``: kills of an execution or a node
- ``reconcile``: the reconciler's pass and the adoption of orphaned submissions
- ``reads``: what the API and the CLI show
- ``unreachable``: a node whose Linkis does not answer, within ``FLOWEXEC_LINKIS_DEADLINE``

The names below are the service's public surface.
"""

from flowexec.policy import NAMES as FAILURE_POLICIES
from flowexec.service.cancel import cancel_execution
from flowexec.service.cancel import cancel_node
from flowexec.service.flowlogs import lines as flow_log_lines
from flowexec.service.flows import FlowRef
from flowexec.service.flows import content_hash
from flowexec.service.flows import load_flow
from flowexec.service.flows import register_flow
from flowexec.service.jobs import job_spec
from flowexec.service.jobs import linkis_user
from flowexec.service.polls import PollResult
from flowexec.service.polls import poll_node
from flowexec.service.polls import time_out_node
from flowexec.service.reads import execution_nodes
from flowexec.service.reads import node_linkis_user
from flowexec.service.reconcile import adopt_node
from flowexec.service.reconcile import reconcile
from flowexec.service.steps import Claimed
from flowexec.service.steps import LinkisFor
from flowexec.service.steps import fail_node
from flowexec.service.steps import finish_node
from flowexec.service.steps import record_submission
from flowexec.service.steps import release_node
from flowexec.service.steps import start_node
from flowexec.service.steps import submit_node
from flowexec.service.steps import succeed_node
from flowexec.service.submit import ExecutionRequest
from flowexec.service.submit import Submitted
from flowexec.service.submit import submit_execution
from flowexec.service.unreachable import Unreachable
from flowexec.service.unreachable import linkis_unreachable

__all__ = [
    "FAILURE_POLICIES",
    "Claimed",
    "ExecutionRequest",
    "FlowRef",
    "LinkisFor",
    "PollResult",
    "Submitted",
    "Unreachable",
    "adopt_node",
    "cancel_execution",
    "cancel_node",
    "content_hash",
    "execution_nodes",
    "fail_node",
    "finish_node",
    "flow_log_lines",
    "job_spec",
    "linkis_unreachable",
    "linkis_user",
    "load_flow",
    "node_linkis_user",
    "poll_node",
    "reconcile",
    "record_submission",
    "register_flow",
    "release_node",
    "start_node",
    "submit_execution",
    "submit_node",
    "succeed_node",
    "time_out_node",
]
