"""The one loader and validator of `params.yaml`.

Every stage and the dashboard go through `load_params()`, so a typo or an
impossible value is reported once, in one line naming the key, the value and
what is allowed, before any slow import (TensorFlow) or long work starts.
`backprop.expression` is parsed here by the backprop engine's own parser, so the
loader refuses exactly what the backprop stage would (`$(touch x)` is one line, not
a run that fails later). This module must stay light: it imports only the standard
library, PyYAML and that parser (standard library only).
`python -m stages.params` runs the check on its own.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mnist_dvc.backprop.expression import ExpressionError, parse
from mnist_dvc.core.errors import ProjectError

PARAMS_FILE = Path("params.yaml")

NORMALIZATIONS = ("scale", "standardize")
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
LOSSES = ("categorical_crossentropy",)
BACKENDS = ("tensorflow", "jax")
ACTIVATIONS = ("relu", "elu", "gelu", "selu", "sigmoid", "tanh", "linear")
OUTPUTS = ("softmax",)
MODEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# The `train` keys that change what training computes. `checkpoint_every` is not one of
# them: it only sets how often a resumable state is saved, so changing it re-runs nothing.
TRAIN_RESULT_KEYS = ("epochs", "batch_size", "optimizer", "learning_rate", "loss", "seed", "seeds", "backend")
SEEDS_ALLOWED = ("expected a count >= 1 (the seeds train.seed, train.seed+1, ...) "
                 "or a non-empty list of distinct integers >= 0")


class ParamsError(ProjectError, ValueError):
    """A params.yaml problem, phrased as one line a user can act on."""


@dataclass(frozen=True)
class DataParams:
    normalize: str
    train_limit: int
    test_limit: int


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    loss: str
    seed: int
    # A count N (the seeds seed, seed+1, ..., seed+N-1) or the list of seeds itself.
    seeds: int | tuple[int, ...]
    backend: str
    checkpoint_every: int

    @property
    def seed_list(self) -> tuple[int, ...]:
        """The seeds every model trains, in order. Seed s trains exactly as a run with
        `seed: s, seeds: 1` would, so the list only says which runs to make."""
        if isinstance(self.seeds, tuple):
            return self.seeds
        return tuple(range(self.seed, self.seed + self.seeds))


@dataclass(frozen=True)
class ModelParams:
    name: str
    hidden: tuple[int, ...]
    activation: str
    output: str
    # Train this model's seeds stacked in one compiled epoch (training/stacked_epoch.py) rather
    # than one after another: faster where per-step overhead, not arithmetic, bounds an epoch.
    stack_seeds: bool = False


@dataclass(frozen=True)
class BackpropParams:
    expression: str
    inputs: dict[str, float]


@dataclass(frozen=True)
class Params:
    data: DataParams
    train: TrainParams
    models: dict[str, ModelParams]
    backprop: BackpropParams

    def model(self, name: str) -> ModelParams:
        """The named model, or a one-line error listing the models that exist."""
        if name not in self.models:
            known = ", ".join(self.models) or "none"
            raise ParamsError(f"models.{name}: no such model in params.yaml (defined: {known})")
        return self.models[name]


def yaml_text(value: Any) -> str:
    """A value as params.yaml (and `dvc exp run -S`) spells it: `null`, `true`, `[64, 128]`, not
    Python's `None`, `True`; a string in YAML's single quotes, so `'ten'` reads as the text typed."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30).strip()
    return text.removesuffix("...").strip()


def _fail(key: str, value: Any, allowed: str) -> ParamsError:
    return ParamsError(f"params.yaml: {key} = {yaml_text(value)} is invalid; {allowed}")


def _section(raw: dict, key: str, fields: tuple[str, ...]) -> dict:
    if key not in raw:
        raise ParamsError(f"params.yaml: missing section `{key}` (expected keys: {', '.join(fields)})")
    section = raw[key]
    if not isinstance(section, dict):
        raise _fail(key, section, "expected a mapping")
    _only_known(section, key, fields)
    for field in fields:
        if field not in section:
            raise ParamsError(f"params.yaml: missing key `{key}.{field}`")
    return section


def _only_known(mapping: dict, prefix: str, fields: tuple[str, ...]) -> None:
    for name in mapping:
        if name not in fields:
            near = difflib.get_close_matches(str(name), fields, n=1)
            hint = f"did you mean `{near[0]}`?" if near else f"allowed keys: {', '.join(fields)}"
            raise ParamsError(f"params.yaml: unknown key `{prefix}.{name}`; {hint}")


def _int(section: dict, prefix: str, key: str, minimum: int) -> int:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(f"{prefix}.{key}", value, f"expected an integer >= {minimum}")
    return value


def _choice(section: dict, prefix: str, key: str, allowed: tuple[str, ...]) -> str:
    value = section[key]
    if value not in allowed:
        raise _fail(f"{prefix}.{key}", value, f"allowed: {', '.join(allowed)}")
    return value


def _bool(section: dict, prefix: str, key: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"{prefix}.{key}", value, "expected true or false")
    return value


def _positive_float(section: dict, prefix: str, key: str) -> float:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _fail(f"{prefix}.{key}", value, "expected a number > 0")
    return float(value)


def _seeds(section: dict) -> int | tuple[int, ...]:
    value = section["seeds"]
    if isinstance(value, list) and value:
        for i, seed in enumerate(value):
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise _fail(f"train.seeds[{i}]", seed, "seeds are integers >= 0")
        repeated = sorted({seed for seed in value if value.count(seed) > 1})
        if repeated:
            raise _fail("train.seeds", value,
                        f"seeds must be distinct ({', '.join(map(str, repeated))} repeated)")
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail("train.seeds", value, SEEDS_ALLOWED)
    return value


def _data(raw: dict) -> DataParams:
    s = _section(raw, "data", ("normalize", "train_limit", "test_limit"))
    return DataParams(
        normalize=_choice(s, "data", "normalize", NORMALIZATIONS),
        train_limit=_int(s, "data", "train_limit", 0),
        test_limit=_int(s, "data", "test_limit", 0),
    )


def _train(raw: dict) -> TrainParams:
    fields = (
        "epochs", "batch_size", "optimizer", "learning_rate",
        "loss", "seed", "seeds", "backend", "checkpoint_every",
    )
    s = _section(raw, "train", fields)
    return TrainParams(
        epochs=_int(s, "train", "epochs", 1),
        batch_size=_int(s, "train", "batch_size", 1),
        optimizer=_choice(s, "train", "optimizer", OPTIMIZERS),
        learning_rate=_positive_float(s, "train", "learning_rate"),
        loss=_choice(s, "train", "loss", LOSSES),
        seed=_int(s, "train", "seed", 0),
        seeds=_seeds(s),
        backend=_choice(s, "train", "backend", BACKENDS),
        checkpoint_every=_int(s, "train", "checkpoint_every", 1),
    )


def _models(raw: dict) -> dict[str, ModelParams]:
    models = raw.get("models")
    if not isinstance(models, dict) or not models:
        raise _fail("models", models, "expected a mapping of model name to {hidden, activation, output}")
    result = {}
    for name, spec in models.items():
        if not isinstance(name, str) or not MODEL_NAME.match(name):
            raise _fail(f"models.{name}", name, "model names are letters, digits and _ (e.g. model_c)")
        prefix = f"models.{name}"
        if not isinstance(spec, dict):
            raise _fail(prefix, spec, "expected a mapping with hidden, activation, output")
        _only_known(spec, prefix, ("hidden", "activation", "output", "stack_seeds"))
        for field in ("hidden", "activation", "output"):
            if field not in spec:
                raise ParamsError(f"params.yaml: missing key `{prefix}.{field}`")
        hidden = spec["hidden"]
        if not isinstance(hidden, list) or not hidden:
            raise _fail(f"{prefix}.hidden", hidden, "expected a non-empty list of layer widths")
        for i, width in enumerate(hidden):
            if isinstance(width, bool) or not isinstance(width, int) or width < 1:
                raise _fail(f"{prefix}.hidden[{i}]", width, "layer widths are integers >= 1")
        result[name] = ModelParams(
            name=name,
            hidden=tuple(hidden),
            activation=_choice(spec, prefix, "activation", ACTIVATIONS),
            output=_choice(spec, prefix, "output", OUTPUTS),
            stack_seeds=_bool(spec, prefix, "stack_seeds", default=False),
        )
    return result


def _backprop(raw: dict) -> BackpropParams:
    s = _section(raw, "backprop", ("expression", "inputs"))
    expression = s["expression"]
    if not isinstance(expression, str) or not expression.strip():
        raise _fail("backprop.expression", expression, "expected an arithmetic expression string")
    inputs = s["inputs"]
    if not isinstance(inputs, dict) or not inputs:
        raise _fail("backprop.inputs", inputs, "expected a mapping of input name to number")
    values = {}
    for name, value in inputs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise _fail(f"backprop.inputs.{name}", name, "input names are identifiers such as x1")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(f"backprop.inputs.{name}", value, "expected a number")
        values[name] = float(value)
    try:
        parse(expression, values)
    except ExpressionError as exc:
        raise _fail("backprop.expression", expression, str(exc)) from None
    return BackpropParams(expression=expression, inputs=values)


def parse_params(raw: Any) -> Params:
    """Validate an already-parsed params mapping."""
    if not isinstance(raw, dict):
        raise _fail("<top level>", raw, "expected a mapping with data, train, models, backprop")
    _only_known(raw, "<top level>", ("data", "train", "models", "backprop"))
    return Params(data=_data(raw), train=_train(raw), models=_models(raw), backprop=_backprop(raw))


def load_params(path: Path | str = PARAMS_FILE) -> Params:
    """Read and validate params.yaml; raises ParamsError with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ParamsError(f"{path}: not found; run from the project root (where params.yaml is)") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ParamsError(f"{path}: not valid YAML{where}; fix the syntax") from None
    return parse_params(raw)
