"""The trained models are DVC artifacts: `dvc artifacts get` fetches a registered version."""

from __future__ import annotations

import pytest
import yaml

from mnist_dvc.core.contracts import model_dir
from tests.helpers import TINY, run

pytestmark = pytest.mark.slow


def test_every_model_is_declared_as_a_model_artifact_at_its_folder(make_repo) -> None:
    repo = make_repo()
    artifacts = yaml.safe_load((repo / "dvc.yaml").read_text())["artifacts"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert set(artifacts) == set(params["models"])
    for name, spec in artifacts.items():
        assert (spec["type"], spec["path"]) == ("model", str(model_dir(name)))


def test_artifacts_get_fetches_a_registered_model(make_repo, mnist_mirror, dvc, tmp_path) -> None:
    """Train model_a, register a version with a Git tag (GTO's `<name>@v<semver>`), fetch it elsewhere."""
    repo = make_repo(TINY)
    dvc(repo, "repro", "train@model_a")
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "model_a trained"], repo)
    missing = dvc(tmp_path, "artifacts", "get", str(repo), "model_a", check=False)
    assert missing.returncode != 0 and "Unable to find artifact 'model_a'" in missing.stdout, missing.stdout
    run(["git", "tag", "-a", "model_a@v1.0.0", "-m", "model_a version 1.0.0"], repo)

    dvc(tmp_path, "artifacts", "get", str(repo), "model_a", "-o", "fetched")
    trained = {p.name: p.read_bytes() for p in model_dir("model_a", repo).iterdir()}
    fetched = {p.name: p.read_bytes() for p in (tmp_path / "fetched").iterdir()}
    assert trained and fetched == trained
