"""The dashboard's tabs, one pane per module: training, compare, backprop, pipeline.

A pane shows what it is given (the app binds `data` down to it) and handles the messages
its widgets post up; the widgets live in tui/widgets/, the words it shows in tui/report.py.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Pane(Protocol):
    """What the app asks of the pane in a tab: the app says when, the pane says where."""

    def focus_default(self) -> None:
        """Focus the widget the tab's own keys act on, so they work and show in the footer."""
