"""The test images two runs' models disagree on, for one model and seed: what the Experiments tab's
McNemar table hands the Errors tab (through the app: a tab never imports another tab)."""

from __future__ import annotations

from dataclasses import dataclass

from tui.ground.runs import Run


@dataclass(frozen=True)
class Disagreement:
    """The images of one McNemar count: those only `first` gets right (`only` "first"), or only
    `second`; `indices` are rows of the predictions file (test-set order)."""

    first: Run
    second: Run
    model: str
    seed: int
    only: str  # "first" or "second"
    indices: tuple[int, ...]

    @property
    def right(self) -> Run:
        """The run whose model gets these images right."""
        return self.first if self.only == "first" else self.second

    @property
    def title(self) -> str:
        return (f"{self.model} seed {self.seed}: the {len(self.indices)} test images only {self.right.name} "
                f"gets right ({self.first.name} vs {self.second.name})")
