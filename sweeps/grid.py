"""A sweep's grid: DVC's own `-S` sweep syntax expanded by DVC, every point checked before anything runs.

`-S 'train.learning_rate=0.001,0.0005' -S 'models.model_a.hidden=[64,128,64],[128,128,64]'`
is what `dvc exp run --queue` accepts; DVC's `get_hydra_sweeps` turns it into points (here
four), so a sweep means exactly what it means to DVC. Each point's overrides are then
applied the way DVC applies them (its `apply_overrides`, on a copy of the baseline's
params.yaml) and the result goes through the project's params validator: a point DVC or
the validator would refuse is one line, and no point starts.

A point is named by a digest of the params it runs with (`p-` + 10 hex digits): the same
params at the same baseline commit make the same experiment name, which is how a point
already pushed by an earlier sweep is recognised and not run again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mnist_dvc.core.errors import ProjectError
from mnist_dvc.core.params import PARAMS_FILE, ParamsError, parse_params

NAME_PREFIX = "p-"
DIGEST_CHARS = 10


class GridError(ProjectError):
    """The grid cannot run: one line per problem (a bad point, a syntax DVC refuses)."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass(frozen=True)
class Point:
    """One experiment of the grid: its `-S` overrides and a digest of the params it runs with."""

    index: int
    overrides: tuple[str, ...]
    digest: str

    @property
    def name(self) -> str:
        """The experiment's name: the same params at the same baseline give the same name."""
        return NAME_PREFIX + self.digest[:DIGEST_CHARS]

    @property
    def label(self) -> str:
        return " ".join(self.overrides) or "(baseline params)"


def expand(specs: Sequence[str]) -> list[tuple[str, ...]]:
    """The points of `-S` specs as DVC's queue would make them: a list of override tuples."""
    from dvc.exceptions import DvcException
    from dvc.utils.cli_parse import to_path_overrides
    from dvc.utils.hydra import get_hydra_sweeps

    if not specs:
        return [()]
    try:
        by_file = to_path_overrides(list(specs))
    except Exception as exc:
        raise GridError([f"-S {' '.join(specs)}: {_why(exc)}"]) from None
    others = sorted(str(path) for path in by_file if Path(path) != PARAMS_FILE)
    if others:
        raise GridError([f"-S {others[0]}:...: a sweep sets only {PARAMS_FILE}"])
    try:
        sweeps = get_hydra_sweeps(by_file)
    except (DvcException, Exception) as exc:
        raise GridError([f"-S {' '.join(specs)}: {_why(exc)}"]) from None
    return [tuple(point.get(str(PARAMS_FILE), ())) for point in sweeps]


def points(params_text: str, specs: Sequence[str]) -> list[Point]:
    """Every point of the grid over the baseline params (`params_text`), checked.

    Raises GridError with one line for each point DVC or the params validator refuses.
    Points that come out with the same params are run once.
    """
    try:
        baseline = yaml.safe_load(params_text)
    except yaml.YAMLError:
        raise GridError([f"{PARAMS_FILE} of the baseline is not valid YAML; fix it and commit"]) from None
    if not isinstance(baseline, dict):
        raise GridError([f"{PARAMS_FILE} of the baseline is not a mapping; fix it and commit"])
    made: list[Point] = []
    problems: list[str] = []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="sweep-params-") as folder:
        copy = Path(folder) / PARAMS_FILE
        for overrides in expand(specs):
            label = " ".join(overrides)
            try:
                params = resolve(params_text, overrides, copy)
                parse_params(params)
            except (GridError, ParamsError) as exc:
                problems.append(f"point {len(made) + len(problems) + 1} ({label}): {exc}")
                continue
            digest = params_digest(params)
            if digest in seen:
                continue
            seen.add(digest)
            made.append(Point(len(made) + len(problems), overrides, digest))
    if problems:
        raise GridError(problems)
    return made


def resolve(params_text: str, overrides: Sequence[str], scratch: Path) -> dict:
    """The params a point runs with: DVC's `apply_overrides` on a copy of the baseline's file."""
    from dvc.utils.hydra import apply_overrides

    scratch.write_text(params_text)
    if overrides:
        try:
            apply_overrides(scratch, list(overrides))
        except Exception as exc:  # DVC's, Hydra's and OmegaConf's errors alike: one line each
            raise GridError([_why(exc)]) from None
    return yaml.safe_load(scratch.read_text())


def params_digest(params: Any) -> str:
    """A digest of the whole params mapping, independent of key order."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _why(exc: BaseException) -> str:
    """The first line of what DVC (or Hydra under it) said."""
    cause = exc.__cause__ or exc
    if type(cause).__name__ == "OverrideParseException":
        return "DVC cannot parse this value (write text in quotes, lists as [1, 2], choices as a,b)"
    lines = str(cause).strip().splitlines()
    line = lines[0] if lines else type(cause).__name__
    if line.startswith("Could not override"):
        line += f" ({PARAMS_FILE} has no such key: check its spelling)"
    return line
