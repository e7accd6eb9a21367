"""dvc.yaml is exact: each stage's code deps are the modules it imports, and the train stages
depend on the params that change their result and on no other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mnist_dvc.core.params import TRAIN_RESULT_KEYS
from tests.helpers import ROOT, import_closure

STAGES = {
    "download": "stages.download",
    "prepare": "stages.prepare",
    "train": "stages.train",
    "evaluate": "stages.evaluate",
    "plots": "stages.plots",
    "backprop": "stages.backprop",
}
CODE_ROOTS = ("mnist_dvc", "stages")


def stage_spec(name: str) -> dict:
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][name]
    return spec.get("do", spec)  # foreach stages keep their body under `do`


def declared_code(deps: list[str]) -> set[str]:
    """The Python files a stage's deps cover; a folder dep covers every module under it."""
    files = set()
    for dep in deps:
        path = ROOT / dep
        if dep.split("/")[0] not in CODE_ROOTS:
            continue
        if path.is_dir():
            files.update(str(p.relative_to(ROOT)) for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        else:
            files.add(dep)
    return files


def imported_code(module: str) -> set[str]:
    return {str(path.relative_to(ROOT)) for path in import_closure(module).values()}


def test_every_stage_is_checked() -> None:
    assert set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]) == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_code_deps_are_exactly_the_import_closure(stage: str) -> None:
    deps = stage_spec(stage)["deps"]
    assert declared_code(deps) == imported_code(STAGES[stage])
    assert all((ROOT / dep).exists() for dep in deps if dep.split("/")[0] in CODE_ROOTS)


def test_the_closure_sees_imports_inside_functions(tmp_path: Path) -> None:
    """A module imported lazily (inside a function) is still a dependency of the stage."""
    package = tmp_path / "stages"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lazy.py").write_text("def f():\n    from stages import inner\n")
    (package / "inner.py").write_text("")
    assert set(import_closure("stages.lazy", tmp_path)) == {"stages", "stages.lazy", "stages.inner"}


def test_train_params_are_the_result_keys_key_by_key() -> None:
    params = stage_spec("train")["params"]
    assert params == [f"train.{key}" for key in TRAIN_RESULT_KEYS] + ["models.${key}"]
    assert "train.checkpoint_every" not in params


def test_the_checkpoint_key_hashes_the_same_code_dvc_tracks() -> None:
    """The code a resumable checkpoint is tied to is exactly the train stage's code deps."""
    probe = ("import stages.train\n"
             "from mnist_dvc.training.checkpoint import loaded_sources\n"
             "print(*loaded_sources(), sep='\\n')")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    hashed = {str(Path(line).relative_to(ROOT)) for line in out.stdout.split()}
    assert hashed == declared_code(stage_spec("train")["deps"])
