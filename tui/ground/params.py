"""params.yaml as the dashboard reads it: the one path from the file to the tabs.

`read_raw` gives every key as YAML has it, in file order (the Experiments tab's form shows each
one); `load` checks that with the project's one validator (mnist_dvc.core.params) for the
snapshot every tab gets. A problem is a ParamsError of one line starting with the file's name
(an unreadable file is the OSError or UnicodeDecodeError itself).
No Textual here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from mnist_dvc.core.params import PARAMS_FILE, Params, ParamsError, parse_params, yaml_text


def read_raw(root: Path) -> dict:
    """`root`'s params.yaml as a mapping, every key in file order."""
    try:
        text = (Path(root) / PARAMS_FILE).read_text()
    except FileNotFoundError:
        raise ParamsError(f"{PARAMS_FILE}: not found; run from the project root (where params.yaml is)",
                          ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ParamsError(f"{PARAMS_FILE}: not valid YAML{where}; fix the syntax") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{PARAMS_FILE}: <top level> = {yaml_text(raw)} is invalid; "
                          "expected a mapping with data, train, models, backprop")
    return raw


def load(root: Path) -> Params:
    """`root`'s params.yaml, validated."""
    return parse_params(read_raw(root))
