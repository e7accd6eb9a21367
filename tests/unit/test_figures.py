"""Each figure function on synthetic histories of 500, 2 and 1 epochs, of one seed and of several:
titles, axis labels with units, legends, number of lines, bands and error bars, scales, fixed pixel
size, and a picture that is not blank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from mnist_dvc.analysis import figures
from mnist_dvc.analysis.comparison import compare
from mnist_dvc.analysis.figure_set import seed_curves
from mnist_dvc.analysis.history import History
from mnist_dvc.core.contracts import MEASURED
from mnist_dvc.core.records.comparison import Comparison, RunSummary


def history_frame(epochs: int, seed: int = 0, train_error_reaches_zero: bool = False) -> pd.DataFrame:
    """A History as the training log gives it: losses falling over decades, accuracies rising."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    train_accuracy = 1 - 0.08 / e
    if train_error_reaches_zero:
        train_accuracy[epochs // 2:] = 1.0
    epoch_s = 1.0 + rng.random(epochs)
    return History(
        epoch=e.tolist(),
        train_loss=(0.3 / e**1.5).tolist(),
        train_accuracy=train_accuracy.tolist(),
        test_loss=(0.08 + 0.2 / e).tolist(),
        test_accuracy=(0.98 - 0.05 / e + 0.001 * rng.random(epochs)).tolist(),
        epoch_s=epoch_s.tolist(),
        train_time_s=np.cumsum(epoch_s).tolist(),
    ).to_frame()


def rendered(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(float)


def assert_not_blank(fig: Figure, size: tuple[int, int]) -> None:
    pixels = rendered(fig)
    assert pixels.shape[:2] == (size[1], size[0])
    assert pixels.std() > 10, "the figure is (nearly) one colour"
    for ax in fig.axes:  # every panel with data shows it, not only a frame
        if not (ax.get_lines() or ax.get_images() or ax.patches):
            continue
        box = ax.get_window_extent()
        inside = pixels[int(pixels.shape[0] - box.y1) + 3:int(pixels.shape[0] - box.y0) - 3,
                        int(box.x0) + 3:int(box.x1) - 3]
        assert inside.size and inside.std() > 3, f"panel {ax.get_title()!r} is empty"


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    return [text.get_text() for text in legend.get_texts()]


LINE = (800, 500)


@pytest.mark.parametrize("epochs", [500, 2, 1])
def test_train_error_vs_time(epochs: int):
    frame = history_frame(epochs)
    fig = figures.train_error_vs_time("model_a", frame)
    (ax,) = fig.axes
    assert ax.get_title() == f"model_a: training error vs training time ({epochs} epoch{'s' * (epochs > 1)})"
    assert ax.get_xlabel() == "cumulative training time (s)"
    assert ax.get_ylabel() == "error = 100 − accuracy (%)"
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), frame["train_time_s"])
    np.testing.assert_allclose(line.get_ydata(), 100 * (1 - frame["train_accuracy"]))
    assert legend_texts(ax) == ["training error"]
    assert ax.get_yscale() == ("log" if epochs == 500 else "linear")
    assert_not_blank(fig, LINE)


@pytest.mark.parametrize("epochs", [500, 2, 1])
def test_error_vs_time(epochs: int):
    frame = history_frame(epochs)
    fig = figures.error_vs_time("model_b", frame)
    (ax,) = fig.axes
    assert ax.get_title().startswith("model_b: training and testing error vs training time")
    assert ax.get_xlabel() == "cumulative training time (s)"
    assert "(%)" in ax.get_ylabel()
    train, test = ax.get_lines()
    np.testing.assert_allclose(test.get_ydata(), 100 * (1 - frame["test_accuracy"]))
    np.testing.assert_allclose(train.get_xdata(), frame["train_time_s"])
    assert legend_texts(ax) == ["training error", "testing error"]
    assert_not_blank(fig, LINE)


def test_an_error_of_exactly_zero_stays_on_the_chart():
    fig = figures.error_vs_time("model_b", history_frame(500, train_error_reaches_zero=True))
    assert fig.axes[0].get_yscale() == "symlog"
    assert_not_blank(fig, LINE)


@pytest.mark.parametrize("epochs", [500, 2, 1])
def test_loss_vs_epoch(epochs: int):
    frame = history_frame(epochs)
    fig = figures.loss_vs_epoch("model_a", frame)
    (ax,) = fig.axes
    assert ax.get_title().startswith("model_a: training and testing loss vs epochs")
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss: categorical cross-entropy (nats)"
    train, test = ax.get_lines()
    np.testing.assert_allclose(train.get_ydata(), frame["train_loss"])
    np.testing.assert_allclose(test.get_xdata(), frame["epoch"])
    assert legend_texts(ax) == ["training loss", "testing loss"]
    # 500 epochs of loss span decades; 2 epochs do not, and a log axis would only hide the numbers.
    assert ax.get_yscale() == ("log" if epochs == 500 else "linear")
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), "epochs are whole numbers"
    assert_not_blank(fig, LINE)


@pytest.mark.parametrize("epochs", [500, 2])
def test_loss_vs_epoch_of_all_models_on_one_figure(epochs: int):
    frames = {"model_a": history_frame(epochs, 0), "model_b": history_frame(epochs, 1)}
    fig = figures.loss_vs_epoch_models(frames)
    (ax,) = fig.axes
    assert ax.get_title() == "Training and testing loss vs epochs (model_a vs model_b)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss: categorical cross-entropy (nats)")
    lines = ax.get_lines()
    assert len(lines) == 4
    assert legend_texts(ax) == ["model_a training loss", "model_a testing loss",
                                "model_b training loss", "model_b testing loss"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert (lines[0].get_linestyle(), lines[1].get_linestyle()) == ("-", "--")
    assert ax.get_yscale() == ("log" if epochs == 500 else "linear")
    assert_not_blank(fig, LINE)


@pytest.mark.parametrize("epochs", [500, 2, 1])
def test_accuracy_vs_epoch_marks_each_models_best_epoch(epochs: int):
    frames = {"model_a": history_frame(epochs, 0), "model_b": history_frame(epochs, 1)}
    fig = figures.accuracy_vs_epoch_models(frames)
    (ax,) = fig.axes
    assert ax.get_title() == "Test accuracy vs epochs, best epoch marked"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "test accuracy (%)")
    curve_a, best_a, curve_b, best_b = ax.get_lines()
    for curve, best, frame in ((curve_a, best_a, frames["model_a"]), (curve_b, best_b, frames["model_b"])):
        np.testing.assert_allclose(curve.get_ydata(), 100 * frame["test_accuracy"])
        i = int(np.argmax(frame["test_accuracy"]))
        assert list(best.get_xdata()) == [frame["epoch"][i]]
        assert best.get_marker() == "*"
    texts = legend_texts(ax)
    i = int(np.argmax(frames["model_b"]["test_accuracy"]))
    assert texts[3] == (f"model_b best {100 * frames['model_b']['test_accuracy'][i]:.2f}% "
                        f"at epoch {i + 1} (selected on test set)")
    assert_not_blank(fig, LINE)


SUMMARIES = {
    "model_a": {"best_train_accuracy": 0.99995, "best_test_accuracy": 0.9821, "final_test_accuracy": 0.9805,
                "min_train_loss": 1.2e-4, "min_test_loss": 0.083, "generalization_gap": 0.01785,
                "train_time_s": 2311.5, "params": 67_466, "epochs": 500, "best_test_epoch": 412},
    "model_b": {"best_train_accuracy": 1.0, "best_test_accuracy": 0.9849, "final_test_accuracy": 0.9840,
                "min_train_loss": 0.0, "min_test_loss": 0.064, "generalization_gap": 0.0151,
                "train_time_s": 6533.1, "params": 399_498, "epochs": 500, "best_test_epoch": 377},
}


# What the figures do not draw, but a run summary holds.
UNDRAWN = {"best_test_accuracy_selected_on": "test set", "final_train_accuracy": 1.0, "final_test_loss": 0.1,
           "mean_epoch_s": 4.6}


def comparison(seeds: tuple[int, ...] = (42,)) -> Comparison:
    """comparison.json as `compare` writes it: seed 42 is SUMMARIES; seed 42 + k adds k/10,000 to the
    test accuracies and k·10 s to the time, so the means and intervals are known by hand."""
    runs = {model: {seed: RunSummary(**UNDRAWN, **{
                        **summary,
                        "best_test_accuracy": summary["best_test_accuracy"] + (seed - 42) / 10_000,
                        "final_test_accuracy": summary["final_test_accuracy"] + (seed - 42) / 10_000,
                        "train_time_s": summary["train_time_s"] + 10.0 * (seed - 42)})
                    for seed in seeds}
            for model, summary in SUMMARIES.items()}
    y = np.zeros(4, dtype=np.uint8)
    return compare(runs, y, {model: dict.fromkeys(seeds, y) for model in runs}, dict.fromkeys(runs, MEASURED))


def test_comparison_bars_put_both_models_side_by_side_per_criterion():
    fig = figures.comparison_bars(comparison())
    accuracy, loss, gap, time = fig.axes
    assert fig.get_suptitle() == "Comparison of model_a and model_b on the assignment's criteria"
    assert accuracy.get_ylabel() == "error (%)"
    assert gap.get_ylabel() == "gap (percentage points)"
    assert time.get_ylabel() == "time (s)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "model_a (67,466 parameters, 500 epochs)", "model_b (399,498 parameters, 500 epochs)"]
    heights = [bar.get_height() for bar in accuracy.patches]
    # model_a's three bars, then model_b's: best train, best test, final test error in %.
    np.testing.assert_allclose(heights, [0.005, 1.79, 1.95, 0.0, 1.51, 1.60], atol=1e-9)
    np.testing.assert_allclose([bar.get_height() for bar in time.patches], [2311.5, 6533.1])
    assert [t.get_text() for t in time.texts] == ["2,312 s", "6,533 s"]
    np.testing.assert_allclose([bar.get_height() for bar in gap.patches], [1.785, 1.51])
    assert bars_of(accuracy)[0].errorbar is None, "one seed: no error bar"
    # minimum losses span decades and one is exactly 0: symlog keeps the 0 visible
    assert loss.get_yscale() == "symlog"
    assert_not_blank(fig, (1100, 800))


def bars_of(ax) -> list[BarContainer]:
    """Each model's bars in a panel (error bars are containers of their own)."""
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def errorbar_ends(container) -> np.ndarray:
    """(bars, 2): the low and high end of each bar's error bar, as drawn."""
    (segments,) = container.errorbar.lines[2]
    return np.array([[seg[0][1], seg[1][1]] for seg in segments.get_segments()])


def test_comparison_bars_of_several_seeds_show_the_mean_and_its_95_percent_interval():
    """Seeds 42-44: times 2311.5, 2321.5, 2331.5 s: mean 2321.5, sd 10, CI ± 4.303 · 10 / sqrt 3
    (t(2) from the table); best test error 1.79, 1.78, 1.77 %: mean 1.78, CI ± 4.303 · 0.01 / sqrt 3."""
    fig = figures.comparison_bars(comparison((42, 43, 44)))
    accuracy, _, _, time = fig.axes
    assert fig.get_suptitle().endswith("\nmeans over seeds; error bars: 95% confidence interval (t)")
    assert fig.legends[0].get_texts()[0].get_text() == "model_a (67,466 parameters, 500 epochs, 3 seeds)"
    model_a_time = bars_of(time)[0]
    assert model_a_time.patches[0].get_height() == pytest.approx(2321.5)
    half = 4.303 * 10 / np.sqrt(3)
    np.testing.assert_allclose(errorbar_ends(model_a_time), [[2321.5 - half, 2321.5 + half]], rtol=1e-4)
    best_test = errorbar_ends(bars_of(accuracy)[0])[1]
    half = 4.303 * 0.01 / np.sqrt(3)
    np.testing.assert_allclose(best_test, [1.78 - half, 1.78 + half], rtol=1e-3)
    assert_not_blank(fig, (1100, 800))


@pytest.mark.parametrize("seeds", [(42,), (42, 43, 44, 45, 46)])
def test_best_accuracy_per_seed_shows_every_seed_of_both_models(seeds):
    fig = figures.best_accuracy_per_seed(comparison(seeds))
    (ax,) = fig.axes
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [len(line.get_ydata()) for line in dots] == [len(seeds), len(seeds)]
    np.testing.assert_allclose(dots[0].get_ydata(), [98.21 + (s - 42) / 100 for s in seeds])
    assert sorted(t.get_text() for t in ax.texts) == sorted([str(s) for s in seeds] * 2)
    joins = [line for line in ax.get_lines() if line.get_color() == "grey"]
    assert len(joins) == len(seeds), "one grey line per seed, joining both models"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["model_a", "model_b"]
    assert ax.get_ylabel() == "best test accuracy (%)"
    if len(seeds) == 1:
        assert ax.get_title().endswith("\n1 seed per model: no spread to show")
        assert legend_texts(ax) == ["model_a: 1 seed", "model_b: 1 seed"]
    else:
        assert legend_texts(ax) == ["model_a: 5 seeds", "model_b: 5 seeds", "mean and 95% CI"]
        means = [line for line in ax.get_lines() if line.get_marker() == "D"]
        np.testing.assert_allclose([m.get_ydata()[0] for m in means], [98.23, 98.51])
    assert_not_blank(fig, LINE)


def test_seed_curves_are_the_mean_min_and_max_over_seeds_per_epoch():
    frames = [history_frame(4, seed) for seed in range(3)]
    frames[2] = frames[2].iloc[:3]  # a seed with fewer epochs: only the epochs every seed logged
    curves = seed_curves(frames)
    assert curves["epoch"].tolist() == [1, 2, 3]
    assert (curves["seeds"] == 3).all()
    stacked = np.stack([f["test_accuracy"].to_numpy()[:3] for f in frames])
    np.testing.assert_allclose(curves["test_accuracy"], stacked.mean(axis=0))
    np.testing.assert_allclose(curves["test_accuracy_min"], stacked.min(axis=0))
    np.testing.assert_allclose(curves["test_accuracy_max"], stacked.max(axis=0))


def test_one_seed_curves_are_the_run_itself():
    frame = history_frame(5)
    curves = seed_curves([frame])
    for column in ("train_loss", "test_accuracy", "train_time_s"):
        assert curves[column].tolist() == frame[column].tolist()
        assert curves[f"{column}_min"].tolist() == frame[column].tolist()


@pytest.mark.parametrize("make", [
    lambda c: figures.train_error_vs_time("model_a", c["model_a"]),
    lambda c: figures.error_vs_time("model_a", c["model_a"]),
    lambda c: figures.loss_vs_epoch("model_a", c["model_a"]),
    lambda c: figures.loss_vs_epoch_models(c),
    lambda c: figures.accuracy_vs_epoch_models(c),
], ids=["train-error", "error", "loss", "loss-all", "accuracy"])
def test_curves_of_several_seeds_draw_the_mean_with_a_min_max_band(make):
    curves = {model: seed_curves([history_frame(20, seed + 10 * i) for seed in range(5)])
              for i, model in enumerate(("model_a", "model_b"))}
    one_seed = {model: seed_curves([history_frame(20, 10 * i)])
                for i, model in enumerate(("model_a", "model_b"))}
    fig, plain = make(curves), make(one_seed)
    (ax,), (plain_ax,) = fig.axes, plain.axes
    assert len(ax.get_lines()) == len(plain_ax.get_lines()), "the same lines: the means"
    assert not plain_ax.collections, "one seed: no band"
    bands = ax.collections
    assert len(bands) == len(ax.get_lines()) - ("accuracy" in ax.get_title().lower()) * 2
    assert ax.get_title().endswith("\nmean of 5 seeds, band = min–max over the seeds")
    assert "seeds" not in plain_ax.get_title()
    assert_not_blank(fig, LINE)


def test_a_band_spans_the_seeds_extremes():
    frames = [history_frame(20, seed) for seed in range(4)]
    fig = figures.error_vs_time("model_b", seed_curves(frames))
    ax = fig.axes[0]
    test_band = ax.collections[1].get_paths()[0].vertices[:, 1]
    errors = 100 * (1 - np.stack([f["test_accuracy"].to_numpy() for f in frames]))
    assert test_band.min() == pytest.approx(errors.min()) and test_band.max() == pytest.approx(errors.max())
    assert ax.get_xlabel() == "cumulative training time (s), mean over seeds"


def test_confusion_matrix_counts_and_labels():
    actual = np.array([0, 1, 2, 2, 3, 9, 9, 9])
    predicted = np.array([0, 1, 2, 7, 3, 9, 4, 9])
    fig = figures.confusion_matrix("model_a", actual, predicted, test_loss=0.0833)
    ax = fig.axes[0]
    assert ax.get_title() == "model_a: confusion matrix, 8 test images\n(accuracy 75.00%, loss 0.0833)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted digit", "actual digit")
    shown = ax.get_images()[0].get_array()
    assert shown[2, 7] == 1 and shown[9, 9] == 2 and shown[9, 4] == 1
    assert shown.mask[5, 5], "empty cells are left blank"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "1", "1", "1", "1", "2"]
    assert "test images" in fig.axes[1].get_ylabel()  # the colour bar is the legend
    assert_not_blank(fig, (700, 600))


def test_misclassified_digits_shows_the_wrong_ones_with_true_and_predicted_labels():
    rng = np.random.default_rng(0)
    images = rng.random((100, 784), dtype=np.float32)
    actual = np.arange(100) % 10
    predicted = actual.copy()
    predicted[[3, 50, 97]] = [5, 1, 1]
    fig = figures.misclassified_digits("model_b", images, actual, predicted)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == ["3 → 5\n#3", "0 → 1\n#50", "7 → 1\n#97"]
    np.testing.assert_array_equal(panels[0].get_images()[0].get_array(), images[3].reshape(28, 28))
    assert fig.get_suptitle().startswith("model_b: 3 of 100 test digits misclassified (first 3 shown")
    assert_not_blank(fig, (1000, 600))


def test_misclassified_digits_grid_is_capped_and_handles_a_perfect_model():
    images = np.zeros((200, 784), dtype=np.float32)
    actual = np.arange(200) % 10
    fig = figures.misclassified_digits("model_a", images, actual, (actual + 1) % 10)
    assert len([ax for ax in fig.axes if ax.get_images()]) == figures.GRID_ROWS * figures.GRID_COLS
    assert "200 of 200 test digits misclassified (first 40 shown" in fig.get_suptitle()

    perfect = figures.misclassified_digits("model_a", images, actual, actual)
    assert not [ax for ax in perfect.axes if ax.get_images()]
    assert "no test digit is misclassified" in [t.get_text() for t in perfect.texts]
    assert rendered(perfect).std() > 10


@pytest.mark.parametrize(("values", "scale"), [
    ([0.3, 0.2, 0.1], "linear"),
    ([0.3, 0.01, 0.002], "log"),
    ([8.0, 0.5, 0.0], "symlog"),
    ([0.0, 0.0], "linear"),
    ([float("nan"), 1.0, 0.01], "log"),
])
def test_value_scale_goes_logarithmic_only_across_decades(values, scale):
    assert figures.value_scale(np.array(values))[0] == scale
