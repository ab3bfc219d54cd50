"""The flowexec error tree: every failure the domain reports is one of these."""

from __future__ import annotations


class FlowexecError(Exception):
    """Base of every error flowexec raises on purpose."""

    code = 10000

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(FlowexecError):
    """A flow, version, execution or node that does not exist (or is not yours)."""

    code = 10404


class InvalidFlow(FlowexecError):
    """A flow definition that cannot run: bad JSON, cycle, unknown node, missing script."""

    code = 90100


class InvalidRequest(FlowexecError):
    """A request whose arguments contradict each other or the flow."""

    code = 10400


class IllegalTransition(FlowexecError):
    """A state change that the transition table forbids."""

    code = 10409


class LinkisError(FlowexecError):
    """Linkis refused or failed a call; permanent unless a subclass says otherwise."""

    code = 20000

    def __init__(self, message: str, err_code: int | None = None) -> None:
        super().__init__(message)
        self.err_code = err_code


class LinkisUnavailable(LinkisError):
    """Transient: connection error, timeout, HTTP 5xx, gateway-framework status, queue full."""

    code = 20503


class LinkisOutcomeUnknown(LinkisUnavailable):
    """Transient, and the request may have been carried out (a submit whose reply was lost)."""


class LinkisAuthError(LinkisError):
    """Linkis does not accept our credentials (status -1 / HTTP 401 after one retry)."""

    code = 20401


class LinkisJobNotFound(LinkisError):
    """Linkis knows no such job (neither in entrance memory nor in job history)."""

    code = 20404


class NotAllowed(FlowexecError):
    """The caller may not do this to someone else's flow (HTTP 403)."""

    code = 10403
