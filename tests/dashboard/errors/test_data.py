"""The Errors tab's data layer (tui/errors/data.py), without Textual: sources, reads, problems."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.experiment_repo import TEST_IMAGES as EXPERIMENT_IMAGES
from bench.experiment_repo import git
from tests.fixtures.errors import TEST_IMAGES, write_errors_project, write_seed
from tests.fixtures.runs import write_run
from tui.errors.data import ErrorsData, PredictionsSource, load_once, sources


@pytest.fixture
def project(finished: Path) -> Path:
    write_errors_project(finished)
    return finished


def test_before_any_predictions_the_source_is_the_planned_seed(tmp_path: Path) -> None:
    assert sources(tmp_path, "model_a") == [PredictionsSource(tmp_path, "model_a", 42)], "no params.yaml"
    assert [s.seed for s in sources(tmp_path, "model_a", planned=(7, 8))] == [7, 8], "params.yaml's seeds"
    write_run(tmp_path, "model_a", 3, seed=5)
    assert [s.seed for s in sources(tmp_path, "model_a", planned=(7, 8))] == [5], "the seed it trained"
    write_seed(tmp_path, "model_a", 43)
    write_seed(tmp_path, "model_a", 42)
    assert [s.seed for s in sources(tmp_path, "model_a", planned=(7, 8))] == [42, 43], "those evaluated"
    assert sources(tmp_path, "model_a")[1].path == Path("reports/predictions/model_a/seed_43.csv")


def test_reads_predictions_and_maps_the_test_images(project: Path) -> None:
    files = ErrorsData(project)
    wanted = sources(project, "model_b")
    assert files.poll(wanted)
    errors = files.errors(wanted[0])
    assert errors is not None and len(errors) == TEST_IMAGES
    assert errors.confusions[0].actual == 4 and errors.confusions[0].predicted == 9
    images = files.drawable(errors)
    assert images is not None and isinstance(images.x, np.memmap)
    assert not images.x.flags.writeable, "read-only"
    assert files.problems(wanted, {"model_a", "model_b"}) == ()
    assert not files.poll(wanted), "nothing changed"


def test_corrupt_predictions_keep_the_last_good_ones_and_say_so(project: Path) -> None:
    files = ErrorsData(project)
    wanted = sources(project, "model_a")
    files.poll(wanted)
    good = files.errors(wanted[0])
    path = project / "reports/predictions/model_a/seed_42.csv"
    path.write_text(path.read_text()[:500] + "7,x\n")
    assert files.poll(wanted)
    assert files.errors(wanted[0]) is good
    (problem,) = files.problems(wanted, {"model_a"})
    assert problem.startswith("reports/predictions/model_a/seed_42.csv: not a readable CSV (")
    assert problem.endswith("; showing the last good data")


def test_missing_predictions_warn_only_once_the_model_was_evaluated(project: Path) -> None:
    (project / "reports/predictions/model_a/seed_42.csv").unlink()
    files = ErrorsData(project)
    wanted = sources(project, "model_a")
    files.poll(wanted)
    assert files.errors(wanted[0]) is None
    assert files.problems(wanted, set()) == ()
    assert files.problems(wanted, {"model_a"}) == (
        "reports/predictions/model_a/seed_42.csv: not found, though model_a was evaluated; "
        "run `dvc repro evaluate`",
    )


def test_predictions_of_another_test_set_are_stale_and_not_drawn(project: Path) -> None:
    path = project / "reports/predictions/model_a/seed_42.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:51]))
    files = ErrorsData(project)
    wanted = sources(project, "model_a")
    files.poll(wanted)
    errors = files.errors(wanted[0])
    assert errors is not None and files.drawable(errors) is None
    assert files.problems(wanted, {"model_a"}) == (
        "reports/predictions/model_a/seed_42.csv: 50 rows for the 200 prepared test images (stale); "
        "run `dvc repro evaluate`",
    )


def test_missing_test_images_are_a_problem_once_there_are_predictions(project: Path) -> None:
    (project / "data/prepared/x_test.npy").unlink()
    files = ErrorsData(project)
    wanted = sources(project, "model_a")
    files.poll(wanted)
    assert files.images is None
    assert files.problems(wanted, {"model_a"}) == (
        "data/prepared/x_test.npy: not found, so the digits cannot be drawn; "
        "run `dvc repro prepare` (or `dvc pull`)",
    )


def test_load_once_names_the_relative_path_in_its_errors(finished: Path) -> None:
    (finished / "reports/predictions/model_b/seed_42.csv").unlink()
    with pytest.raises(FileNotFoundError) as error:
        load_once(finished, "model_b", None)
    assert str(error.value) == ("reports/predictions/model_b/seed_42.csv not found; "
                                "run `dvc repro evaluate` first")
    write_errors_project(finished)
    (finished / "data/prepared/y_test.npy").unlink()
    source, errors, images, problem = load_once(finished, "model_b", None)
    assert source.seed == 42 and len(errors) == TEST_IMAGES and images is None
    assert problem == "data/prepared/y_test.npy not found; run `dvc repro prepare` first"


def test_another_runs_predictions_are_read_at_its_revision_once(experiments_repo: Path) -> None:
    rev = git(experiments_repo, "rev-parse", "HEAD").strip()
    (found,) = sources(experiments_repo, "model_a", rev)
    assert (found.seed, found.rev) == (42, rev)
    assert found.label == f"{rev[:7]}:reports/predictions/model_a/seed_42.csv"
    files = ErrorsData(experiments_repo)
    assert files.poll([found])
    errors = files.errors(found)
    assert errors is not None and len(errors) == EXPERIMENT_IMAGES
    assert not files.poll([found]) and files.errors(found) is errors, "a revision is read once"
    (missing,) = sources(experiments_repo, "model_z", rev)
    files.poll([missing])
    assert files.errors(missing) is None
    assert files.problems([missing], set())[0] == (
        f"{rev[:7]}:reports/predictions/model_z/seed_42.csv not found; "
        "that run did not evaluate this model and seed")


def test_load_once_of_a_seed_the_run_does_not_have_names_the_seeds_it_has(errors_project: Path) -> None:
    """`--once --errors model_b --seed 44` on a run evaluated with seeds 42 and 43: no rerun advice."""
    write_seed(errors_project, "model_b", 43)
    with pytest.raises(FileNotFoundError) as error:
        load_once(errors_project, "model_b", 44)
    assert str(error.value) == ("reports/predictions/model_b/seed_44.csv not found; "
                                "model_b has predictions of seeds 42, 43: pass one of them to --seed")
