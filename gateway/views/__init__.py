"""The views, one module per Linkis service, each with its URL rules (``ROUTES``)."""

from __future__ import annotations

from gateway.context import Route
from gateway.views import bml
from gateway.views import control
from gateway.views import entrance
from gateway.views import filesystem
from gateway.views import history
from gateway.views import user

#: Rules under ``PREFIX``, in registration order.
ROUTES: tuple[Route, ...] = user.ROUTES + entrance.ROUTES + history.ROUTES + filesystem.ROUTES + bml.ROUTES

#: Rules under ``CONTROL``, registered only when faults are enabled.
CONTROL_ROUTES: tuple[Route, ...] = control.ROUTES
