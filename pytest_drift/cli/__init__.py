"""The `pytest-drift` command, one module per concern: scenarios (list, falsify, stated-goal),
report (report, compare), show, export and record."""

from .main import main
from .record import record_command

__all__ = ["main", "record_command"]
