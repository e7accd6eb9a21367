"""The contract files the dashboard reads, checked as they are read: progress.json, reports/eval/*,
reports/comparison.json and reports/backprop.json (docs/contracts.md).

The one place in tui/ that knows their shapes. These hand validators stand in for the typed
records of mnist_dvc.core (one model per contract file, shared with the stages that write the
files); when those land, this module is replaced by them and nothing else in tui/ changes shape.
A file that parses but breaks its contract raises `Invalid`, whose message names the key.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mnist_dvc.core.contracts import PROGRESS_STATES
from mnist_dvc.core.jsonfile import finite_number, read_json

T = TypeVar("T")


class Invalid(ValueError):
    """A file that parses but does not follow its contract; the message names the key."""


@dataclass(frozen=True)
class Progress:
    """A validated `progress.json` (the contract's keys; optional ones may be None)."""

    model: str
    seed: int | None
    state: str
    epoch: int
    epochs: int
    elapsed_s: float
    eta_s: float | None
    epoch_s: float | None
    updated_at: str | None
    pid: int | None
    backend: str | None
    error: str | None
    last: dict[str, float]
    best: dict[str, float]


def _number(obj: dict, key: str, where: str = "", optional: bool = False) -> float | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    number = finite_number(value)
    if number is None:
        raise Invalid(f"`{where}{key}` is {value!r}, expected a number")
    return number


def _integer(obj: dict, key: str, minimum: int) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise Invalid(f"`{key}` is {value!r}, expected an integer >= {minimum}")
    return value


def _mapping(obj: Any, where: str) -> dict:
    if not isinstance(obj, dict):
        raise Invalid(f"{where} is {type(obj).__name__}, expected a JSON object")
    return obj


def _list(obj: Any, where: str) -> list:
    if not isinstance(obj, list):
        raise Invalid(f"{where} is {type(obj).__name__}, expected a JSON list")
    return obj


def _numbers(obj: Any, key: str) -> dict[str, float]:
    mapping = _mapping({} if obj is None else obj, f"`{key}`")
    return {name: _number(mapping, name, f"{key}.") for name in mapping}


def parse_progress(raw: Any) -> Progress:
    doc = _mapping(raw, "the file")
    state = doc.get("state")
    if state not in PROGRESS_STATES:
        raise Invalid(f"`state` is {state!r}, expected one of {', '.join(PROGRESS_STATES)}")
    pid = doc.get("pid")
    seed = doc.get("seed")
    return Progress(
        model=str(doc.get("model", "")),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        state=state,
        epoch=_integer(doc, "epoch", 0),
        epochs=_integer(doc, "epochs", 1),
        elapsed_s=_number(doc, "elapsed_s", optional=True) or 0.0,
        eta_s=_number(doc, "eta_s", optional=True),
        epoch_s=_number(doc, "epoch_s", optional=True),
        updated_at=doc.get("updated_at") if isinstance(doc.get("updated_at"), str) else None,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        backend=doc.get("backend") if isinstance(doc.get("backend"), str) else None,
        error=str(doc["error"]) if doc.get("error") else None,
        last=_numbers(doc.get("last"), "last"),
        best=_numbers(doc.get("best"), "best"),
    )


def parse_evaluation(raw: Any) -> dict:
    """reports/eval/<model>.json: each seed's numbers checked."""
    doc = _mapping(raw, "the file")
    for seed, record in _mapping(doc.get("seeds"), "`seeds`").items():
        record = _mapping(record, f"`seeds.{seed}`")
        for key in ("test_accuracy", "test_loss"):
            _number(record, key, f"seeds.{seed}.")
    return doc


def parse_comparison(raw: Any) -> dict:
    """reports/comparison.json: the shapes the Compare tab relies on."""
    doc = _mapping(raw, "the file")
    models = _mapping(doc.get("models"), "`models`")
    for name, entry in models.items():
        entry = _mapping(entry, f"`models.{name}`")
        for key, spread in _mapping(entry.get("stats"), f"`models.{name}.stats`").items():
            _number(_mapping(spread, f"`models.{name}.stats.{key}`"), "mean", f"models.{name}.stats.{key}.")
    _mapping(doc.get("verdicts", {}), "`verdicts`")
    for i, test in enumerate(_list(doc.get("mcnemar", []), "`mcnemar`")):
        _number(_mapping(test, f"`mcnemar[{i}]`"), "p_value", f"mcnemar[{i}].")
    for i, pair in enumerate(_list(doc.get("differences", []), "`differences`")):
        _mapping(_mapping(pair, f"`differences[{i}]`").get("criteria"), f"`differences[{i}].criteria`")
    return doc


def parse_backprop(raw: Any) -> dict:
    doc = _mapping(raw, "the file")
    _number(doc, "f")
    _numbers(doc.get("grads"), "grads")
    _mapping(doc.get("check", {}), "`check`")
    return doc


def read_record(path: Path, parse: Callable[[Any], T]) -> T:
    """A contract file read by mnist_dvc.core.jsonfile, then checked against its contract."""
    return parse(read_json(path))
