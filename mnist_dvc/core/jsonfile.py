"""Reading the JSON files stages write, and the numbers in them.

One reader for stages, the dashboard and scripts: a file that is missing, empty
(being written), torn or not a JSON object becomes a MissingInput or BadInput
naming the file, what is wrong and which stage makes it again. `parse_json` says
the same of text read elsewhere (a file at another git revision, through DVC).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mnist_dvc.core.contracts import rerun_hint
from mnist_dvc.core.errors import BadInput, MissingInput


def read_text(path: Path | str) -> str:
    """A contract file's text; missing or not UTF-8 is a one-line error naming it."""
    path = Path(path)
    try:
        return path.read_text()
    except FileNotFoundError:
        raise MissingInput(path, rerun_hint(path)) from None
    except UnicodeDecodeError:
        raise BadInput(path, "not UTF-8 text (corrupt)", rerun_hint(path, force=True)) from None


def parse_json(text: str | bytes, path: Path | str) -> Any:
    """The parsed content of `path`'s text; empty, torn or not JSON is a one-line BadInput."""
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            raise BadInput(path, "not UTF-8 text (corrupt)", rerun_hint(path, force=True)) from None
    if not text.strip():
        raise BadInput(path, "empty file (being written?)", rerun_hint(path, force=True))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON (line {exc.lineno}, column {exc.colno}; half-written or corrupt)"
        raise BadInput(path, problem, rerun_hint(path, force=True)) from None


def read_json(path: Path | str) -> Any:
    """The parsed content of a JSON file."""
    return parse_json(read_text(path), path)


def read_json_object(path: Path | str) -> dict:
    """A JSON file that must hold an object (every contract file does)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise BadInput(path, f"holds a JSON {type(data).__name__}, expected an object",
                       rerun_hint(path, force=True))
    return data


def finite_number(value: Any) -> float | None:
    """`value` as a float if it is a real, finite JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
