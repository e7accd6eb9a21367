"""params.yaml validation: each bad value stops with one line naming key, value and what is allowed."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mnist_dvc.core.params import ParamsError, load_params, yaml_text
from tests.helpers import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def write(tmp_path: Path, raw: Any) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def with_value(dotted: str, value: Any) -> dict:
    raw = copy.deepcopy(PARAMS)
    *parents, leaf = dotted.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[leaf] = value
    return raw


def test_the_project_params_are_valid() -> None:
    params = load_params(ROOT / "params.yaml")
    assert set(params.models) >= {"model_a", "model_b"}
    assert params.train.epochs >= 1


@pytest.mark.parametrize(
    ("dotted", "value", "key", "allowed"),
    [
        ("train.epochs", 0, "train.epochs", "integer >= 1"),
        ("train.batch_size", -1, "train.batch_size", "integer >= 1"),
        ("train.epochs", "ten", "train.epochs", "integer >= 1"),
        ("train.epochs", 2.5, "train.epochs", "integer >= 1"),
        ("train.epochs", True, "train.epochs", "integer >= 1"),
        ("train.learning_rate", "fast", "train.learning_rate", "number > 0"),
        ("train.learning_rate", 0, "train.learning_rate", "number > 0"),
        ("train.optimizer", "adamm", "train.optimizer", "allowed: adam"),
        ("models.model_a.activation", "relux", "models.model_a.activation", "allowed: relu"),
        ("models.model_b.hidden", [256, 0, 128], "models.model_b.hidden[1]", "integers >= 1"),
        ("models.model_a.hidden", [], "models.model_a.hidden", "non-empty list"),
        ("models.model_a.hidden", "64,128", "models.model_a.hidden", "non-empty list"),
        ("models.model_a.stack_seeds", "yes", "models.model_a.stack_seeds", "true or false"),
        ("models.model_b.stack_seeds", 1, "models.model_b.stack_seeds", "true or false"),
        ("data.normalize", "minmax", "data.normalize", "allowed: scale, standardize"),
        ("data.train_limit", -5, "data.train_limit", "integer >= 0"),
        ("train.seeds", 0, "train.seeds", "a count >= 1"),
        ("train.seeds", -3, "train.seeds", "a count >= 1"),
        ("train.seeds", True, "train.seeds", "a count >= 1"),
        ("train.seeds", 2.0, "train.seeds", "a count >= 1"),
        ("train.seeds", "3", "train.seeds", "a count >= 1"),
        ("train.seeds", [], "train.seeds", "non-empty list of distinct integers >= 0"),
        ("train.seeds", [4, 7, 4], "train.seeds", "seeds must be distinct (4 repeated)"),
        ("train.seeds", [4, -1], "train.seeds[1]", "seeds are integers >= 0"),
        ("train.seeds", [4, 1.5], "train.seeds[1]", "seeds are integers >= 0"),
        ("train.seeds", [4, False], "train.seeds[1]", "seeds are integers >= 0"),
        # Parsed by the backprop engine's own parser: what the backprop stage would refuse.
        ("backprop.expression", "x1*w1 + y", "backprop.expression", "unknown name `y`; the inputs are x1"),
        ("backprop.expression", "__import__('os')", "backprop.expression", "unknown function `__import__`"),
        ("backprop.expression", "x1 ** x2", "backprop.expression", "must be a number"),
    ],
)
def test_a_bad_value_is_one_line_naming_key_value_and_what_is_allowed(
    tmp_path: Path, dotted: str, value: Any, key: str, allowed: str
) -> None:
    bad = value[1] if key.endswith("[1]") else value
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, with_value(dotted, value)))
    message = str(info.value)
    assert "\n" not in message
    assert f"{key} = {yaml_text(bad)} is invalid" in message
    assert allowed in message


def test_stack_seeds_is_optional_and_false_when_left_out(tmp_path: Path) -> None:
    raw = with_value("models.model_a.stack_seeds", True)
    del raw["models"]["model_b"]["stack_seeds"]
    models = load_params(write(tmp_path, raw)).models
    assert (models["model_a"].stack_seeds, models["model_b"].stack_seeds) == (True, False)


@pytest.mark.parametrize(
    ("seed", "seeds", "expected"),
    [
        (42, 1, (42,)),
        (42, 3, (42, 43, 44)),
        (0, 2, (0, 1)),
        (42, [7, 0, 42], (7, 0, 42)),  # a list is used as it is, in its order; `seed` is then unused
        (42, [5], (5,)),
    ],
)
def test_train_seeds_is_a_count_from_seed_or_the_list_itself(
    tmp_path: Path, seed: int, seeds: int | list[int], expected: tuple[int, ...]
) -> None:
    raw = with_value("train.seed", seed)
    raw["train"]["seeds"] = seeds
    assert load_params(write(tmp_path, raw)).train.seed_list == expected


@pytest.mark.parametrize(
    ("dotted", "key"),
    [
        ("train.epoch", "train.epoch"),
        ("data.shuffle", "data.shuffle"),
        ("models.model_a.dropout", "models.model_a.dropout"),
        ("evaluate", "<top level>.evaluate"),
    ],
)
def test_an_unknown_key_is_named_with_the_allowed_keys(tmp_path: Path, dotted: str, key: str) -> None:
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, with_value(dotted, 1)))
    message = str(info.value)
    assert "\n" not in message
    near = {"train.epoch": "did you mean `epochs`?"}  # a near miss is named, short enough for the form
    assert f"unknown key `{key}`; {near.get(key, 'allowed keys: ')}" in message


def test_values_in_messages_are_spelled_as_yaml_spells_them(tmp_path: Path) -> None:
    """`dvc exp run -S train.epochs=null` and the dashboard's form show the value as typed (issue 22.4)."""
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, with_value("train.epochs", None)))
    assert str(info.value) == "params.yaml: train.epochs = null is invalid; expected an integer >= 1"
    with pytest.raises(ParamsError, match=r"train\.learning_rate = true is invalid"):
        load_params(write(tmp_path, with_value("train.learning_rate", True)))


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    raw = copy.deepcopy(PARAMS)
    del raw["train"]["batch_size"]
    with pytest.raises(ParamsError, match=r"missing key `train\.batch_size`"):
        load_params(write(tmp_path, raw))


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  normalize: scale\n train: [\n")
    with pytest.raises(ParamsError, match=r"not valid YAML at line \d+"):
        load_params(path)


def test_a_shell_command_as_expression_is_refused_in_one_line_and_never_run(tmp_path: Path) -> None:
    with pytest.raises(ParamsError) as info:
        load_params(write(tmp_path, with_value("backprop.expression", "$(touch x)")))
    assert str(info.value) == ("params.yaml: backprop.expression = '$(touch x)' is invalid; "
                               "cannot parse `$(touch x)`: invalid syntax at column 1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_a_missing_file_says_where_to_run_from(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="not found; run from the project root"):
        load_params(tmp_path / "params.yaml")


def test_loading_params_imports_no_tensorflow(tmp_path: Path) -> None:
    """The check must answer before TensorFlow's multi-second import, whether params are good or bad."""
    bad = write(tmp_path, with_value("train.epochs", 0))
    code = (
        "import sys\n"
        "from mnist_dvc.core.params import ParamsError, load_params\n"
        f"load_params({str(ROOT / 'params.yaml')!r})\n"
        f"try:\n    load_params({str(bad)!r})\nexcept ParamsError:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_the_cli_reports_one_line_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path, with_value("train.batch_size", -1))
    proc = subprocess.run(
        [sys.executable, "-m", "stages.params"], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: params.yaml: train.batch_size = -1 is invalid; expected an integer >= 1"
    ]
