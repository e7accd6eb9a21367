"""tui.experiments.control: param overrides checked as DVC parses them, then by the project's
validator; the dvc commands as argument lists. Real DVC in the made-up experiments repository (its
dvc.yaml has no stages, so an experiment there runs in seconds)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from bench.experiment_repo import git
from tui.experiments import collect as experiments
from tui.experiments import control as expctl
from tui.ground import jobs
from tui.ground.dvc import DvcError
from tui.ground.runs import DONE, QUEUED

# Every way a shell would run something: if any of these ran, a file named PWNED* would appear.
NASTY = """x1*w1; touch PWNED1 && $(touch PWNED2) `touch PWNED3` "q" 'r' | touch PWNED4 \\ ${HOME}"""


def pwned(*folders: Path) -> list[Path]:
    return [path for folder in folders for path in folder.glob("PWNED*")]


@pytest.mark.parametrize("text", [NASTY, "a\\b", "end\\", "''", "${oc.env:HOME}", "\\${x}", "a,b", "",
                                  " sp "])
def test_text_params_reach_params_yaml_exactly_as_typed(experiments_repo: Path, text: str) -> None:
    """Quoted for DVC's override grammar (Hydra), so no interpolation, escape or list survives."""
    item = expctl.override("backprop.expression", text, current="(x1*w1)")
    assert expctl.apply_overrides(experiments_repo, [item])["backprop"]["expression"] == text


def test_other_params_are_parsed_like_dash_s_on_the_command_line(experiments_repo: Path) -> None:
    assert expctl.override("train.epochs", " 30 ", current=12) == "train.epochs=30"
    params = expctl.apply_overrides(experiments_repo, ["train.epochs=30", "models.model_a.hidden=[32, 16]",
                                                      "train.learning_rate=1e-4"])
    assert params["train"]["epochs"] == 30
    assert params["models"]["model_a"]["hidden"] == [32, 16]
    assert params["train"]["learning_rate"] == 0.0001
    assert yaml.safe_load((experiments_repo / "params.yaml").read_text())["train"]["epochs"] == 12, \
        "the workspace's params.yaml is not touched"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.epochs=0"], "params.yaml: train.epochs = 0 is invalid; expected an integer >= 1"),
        (["train.epochs=3; touch PWNED"], "-S train.epochs=3; touch PWNED: DVC cannot parse this value "
                                          "(write text in quotes, lists as [1, 2])"),
        (["train.epochs='3; touch PWNED'"], "params.yaml: train.epochs = '3; touch PWNED' is invalid; "
                                            "expected an integer >= 1"),
        (["models.model_a.hidden=[32,0]"], "params.yaml: models.model_a.hidden[1] = 0 is invalid; "
                                           "layer widths are integers >= 1"),
        (["train.optimizer='adamm'"], "params.yaml: train.optimizer = 'adamm' is invalid; "
                                      "allowed: adam, adamw, nadam, rmsprop, sgd"),
        (["train.nope=1"], "-S train.nope=1: Could not override 'train.nope'."),
        # `+` adds a key DVC would queue and `dvc repro` would ignore: the project's loader refuses it
        (["+train.nonexistent=1"], "params.yaml: unknown key `train.nonexistent`; allowed keys: epochs, "
                                   "batch_size, optimizer, learning_rate, loss, seed, seeds, backend, "
                                   "checkpoint_every"),
        (["+train.epoch=3"], "params.yaml: unknown key `train.epoch`; did you mean `epochs`?"),
        (["backprop.expression='$(touch x)'"], "params.yaml: backprop.expression = '$(touch x)' is invalid; "
                                               "cannot parse `$(touch x)`: invalid syntax at column 1"),
        (["train.epochs=null"], "params.yaml: train.epochs = null is invalid; expected an integer >= 1"),
        (["train.epochs=1,2"], "-S train.epochs=1,2: Error merging override train.epochs=1,2"),
        (["train.epochs=${x}"], "-S train.epochs=${x}: Interpolation key 'x' not found"),
        (["other.yaml:x=1"], "-S other.yaml:…: only params.yaml is set from the dashboard"),
    ],
)
def test_a_bad_value_is_one_line_before_anything_starts(experiments_repo: Path, overrides: list[str],
                                                        message: str) -> None:
    with pytest.raises(expctl.OverrideError) as raised:
        expctl.validate(experiments_repo, overrides)
    assert str(raised.value) == message


def test_the_form_turns_changed_fields_into_overrides(experiments_repo: Path) -> None:
    fields = expctl.param_fields(expctl.read_params(experiments_repo))
    keys = [key for key, _ in fields]
    assert keys[:4] == ["data.normalize", "data.train_limit", "data.test_limit", "train.epochs"]
    assert "models.model_a.hidden" in keys and "backprop.inputs.x1" in keys
    texts = {key: expctl.field_text(value) for key, value in fields}
    assert texts["models.model_a.hidden"] == "[64, 128, 64]" and texts["train.learning_rate"] == "0.001"
    assert expctl.changed_overrides(fields, texts) == [], "nothing edited, nothing overridden"
    expctl.validate(experiments_repo, [])  # the workspace's params as they are
    texts.update({"train.epochs": "3", "train.optimizer": "sgd", "models.model_a.hidden": "[8]"})
    assert expctl.changed_overrides(fields, texts) == ["train.epochs=3", "train.optimizer='sgd'",
                                                       "models.model_a.hidden=[8]"]


def test_each_override_is_one_argument() -> None:
    assert expctl.run_args([f"backprop.expression={NASTY}", "train.epochs=3"], "n1", queue=True) == [
        "exp", "run", "--queue", "-S", f"backprop.expression={NASTY}", "-S", "train.epochs=3", "-n", "n1"]
    assert expctl.run_args([]) == ["exp", "run"]


@pytest.mark.parametrize(("name", "problem"), [
    ("", None), ("lr-0.01_b", None),
    ("two words", "not a valid git ref name"), ("a/b", "not a valid git ref name"),
    ("x..y", "not a valid git ref"),
    ("wide", "an experiment with this name exists"),
])
def test_experiment_names_follow_git_and_are_not_taken(experiments_repo: Path, name: str,
                                                       problem: str | None) -> None:
    table = experiments.collect(experiments_repo)
    found = expctl.name_problem(name, table)
    assert found is None if problem is None else problem in found


def test_queued_and_run_now_values_cannot_run_anything(experiments_copy: Path, tmp_path: Path) -> None:
    """The injection test: a param value with `;`, `$(…)`, backticks and quotes, queued and run now.
    Nothing runs; the value reaches the experiment's params.yaml literally."""
    item = expctl.override("backprop.expression", NASTY, current="x")
    with pytest.raises(expctl.OverrideError, match=r"backprop\.expression = .* is invalid; cannot parse"):
        expctl.validate(experiments_copy, [item])  # the form refuses it: the engine cannot parse it
    # Past the form's check (DVC itself takes any string), the value still never reaches a shell.
    said = expctl.queue(experiments_copy, [item], "nasty-queued")
    assert "Queued experiment 'nasty-queued'" in said
    queued = next(r for r in experiments.collect(experiments_copy).runs if r.name == "nasty-queued")
    assert queued.state == QUEUED and queued.params["backprop.expression"] == NASTY

    process = expctl.run_now(experiments_copy, [item], "nasty-now")
    assert process.wait(timeout=120) == 0, (experiments_copy / jobs.EXP_RUN.log).read_text()
    assert jobs.current(experiments_copy, jobs.EXP_RUN).returncode == 0
    now = next(r for r in experiments.collect(experiments_copy).runs if r.name == "nasty-now")
    assert now.state == DONE and now.params["backprop.expression"] == NASTY
    stored = yaml.safe_load(git(experiments_copy, "show", f"{now.rev}:params.yaml"))
    assert stored["backprop"]["expression"] == NASTY
    assert pwned(experiments_copy, tmp_path, Path.cwd(), Path.home()) == []


def test_run_now_is_refused_while_a_dashboard_job_runs_in_the_workspace(experiments_copy: Path) -> None:
    from mnist_dvc.core.atomic import write_json

    write_json(experiments_copy / jobs.STATE, {"pid": os.getpid(), "command": ["/v/dvc", "repro"],
                                                "started_at": "2025-01-01T12:00:00+00:00"})
    with pytest.raises(jobs.ReproError, match=r"`dvc repro` is already running .*x on the Pipeline tab"):
        expctl.run_now(experiments_copy, ["train.epochs=3"])
    (experiments_copy / jobs.STATE).unlink()
    write_json(experiments_copy / jobs.EXP_RUN.state, {
        "pid": os.getpid(), "command": ["/v/dvc", "exp", "run"], "started_at": "2025-01-01T12:00:00+00:00"})
    with pytest.raises(jobs.ReproError, match=r"`dvc exp run` is already running .*on the Experiments tab"):
        jobs.start(experiments_copy)


def test_apply_branch_and_remove(experiments_copy: Path) -> None:
    table = experiments.collect(experiments_copy)
    wide = next(r for r in table.runs if r.name == "wide")
    expctl.apply(experiments_copy, wide)
    assert yaml.safe_load((experiments_copy / "params.yaml").read_text())["models"]["model_a"]["hidden"] == \
        [128, 128, 64]
    expctl.branch(experiments_copy, wide, "from-wide")
    assert git(experiments_copy, "rev-parse", "from-wide").strip() == wide.rev
    with pytest.raises(DvcError, match="not a valid git branch name"):
        expctl.branch(experiments_copy, wide, "bad name")
    assert expctl.branch_problem(experiments_copy, "from-wide") == (
        "branch 'from-wide': a branch with this name exists; choose another")
    assert expctl.branch_problem(experiments_copy, "") == "type a name for the branch (Esc cancels)"
    assert expctl.branch_problem(experiments_copy, "from-wide-2") is None
    expctl.remove(experiments_copy, wide)
    assert "wide" not in {r.name for r in experiments.collect(experiments_copy).runs}
    main = table.runs[1]
    with pytest.raises(DvcError, match="is a commit, not an experiment"):
        expctl.remove(experiments_copy, main)
