"""The pictures of the assignment's Question 2 (and a few more), as pure functions.

Each function takes data (a training history as a pandas DataFrame with the
columns of `history.History`, the `records.Comparison`, label arrays, test
images) and returns a matplotlib `Figure`. A history may be the mean of several
seeds (`figure_set.seed_curves`: `<column>_min` / `<column>_max` and `seeds`
columns beside the means): curves then show the mean with a min–max band over the
seeds, and bars the mean with its 95% confidence interval. One seed draws as a
single run always has: no band, no error bar. Nothing here reads or writes files,
so tests can check titles, labels and lines without a pipeline run, and the
`plots` stage only loads, calls and saves.

Figures are built with `matplotlib.figure.Figure` directly, never through
pyplot: no GUI backend is ever selected (PNG output goes through Agg), there is
no global figure registry to leak memory across a dozen figures, and a figure
is garbage once the caller drops it.

Every figure has a fixed size and DPI so the PNGs keep their pixel size from
run to run (what `dvc plots diff` shows side by side); no `bbox_inches="tight"`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist_dvc.analysis.confusion import confusion_counts
from mnist_dvc.core.contracts import CLASSES, IMAGE_SIDE
from mnist_dvc.core.records.comparison import Comparison, ModelEntry, Spread

DPI = 100
LINE_SIZE = (8.0, 5.0)  # inches: 800 x 500 px
COMPARISON_SIZE = (11.0, 8.0)  # 1100 x 800 px
CONFUSION_SIZE = (7.0, 6.0)  # 700 x 600 px
GRID_SIZE = (10.0, 6.0)  # 1000 x 600 px
GRID_ROWS, GRID_COLS = 4, 10

# Below this many epochs every point gets a marker, so 1- and 2-epoch runs show dots, not nothing.
MARKER_EPOCHS = 30
TRAIN_COLOR, TEST_COLOR = "tab:blue", "tab:orange"
TIME_LABEL = "cumulative training time (s)"
EPOCH_LABEL = "epoch"
ERROR_LABEL = "error = 100 − accuracy (%)"
LOSS_LABEL = "loss: categorical cross-entropy (nats)"


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """One colour per model, in params order, so a model looks the same in every figure."""
    return {name: f"C{i % 10}" for i, name in enumerate(models)}


def _figure(size: tuple[float, float]) -> Figure:
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def _style(n_points: int) -> dict:
    return {"marker": "o", "markersize": 4} if n_points <= MARKER_EPOCHS else {}


def _error_pct(accuracy: pd.Series) -> np.ndarray:
    return 100.0 * (1.0 - accuracy.to_numpy(dtype=float))


def value_scale(values: np.ndarray) -> tuple[str, dict]:
    """The y scale for values that may span decades (losses, errors late in training).

    Log when the positive values span at least a factor of ten; a linear axis
    would flatten everything after the first epochs into the x axis. When zeros
    are present as well (a training error or loss that reaches exactly 0), plain
    log would silently drop them, so symlog keeps them visible at the bottom.
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    positive = finite[finite > 0]
    if positive.size == 0 or positive.max() / positive.min() < 10:
        return "linear", {}
    if (finite <= 0).any():
        return "symlog", {"linthresh": float(positive.min())}
    return "log", {}


def _set_scale(ax, values: np.ndarray) -> None:
    scale, kwargs = value_scale(values)
    ax.set_yscale(scale, **kwargs)


def _epoch_axis(ax, epochs: pd.Series) -> None:
    """Whole epochs only; a short run gets half an epoch of room so 1 or 2 epochs are not a sliver."""
    ax.set_xlabel(EPOCH_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
    if epochs.max() - epochs.min() < MARKER_EPOCHS:
        ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)


def _seeds(frame: pd.DataFrame) -> int:
    """How many seeds a curve is the mean of (a plain history is one run)."""
    return int(frame["seeds"].iloc[0]) if "seeds" in frame and len(frame) else 1


def _epochs_note(frame: pd.DataFrame) -> str:
    n = len(frame)
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _band(ax, frame: pd.DataFrame, x: str, column: str, color: str,
          as_error: bool = False, percent: bool = False) -> list[np.ndarray]:
    """Shade `column`'s min–max over the seeds (nothing for one seed); its edges, for the y scale.
    `as_error`: the column is an accuracy drawn as error %, so its max is the error's min;
    `percent`: an accuracy drawn in %."""
    if _seeds(frame) < 2:
        return []
    low, high = frame[f"{column}_min"].to_numpy(float), frame[f"{column}_max"].to_numpy(float)
    if as_error:
        low, high = 100.0 * (1.0 - high), 100.0 * (1.0 - low)
    elif percent:
        low, high = 100.0 * low, 100.0 * high
    ax.fill_between(frame[x].to_numpy(float), low, high, color=color, alpha=0.2, linewidth=0)
    return [low, high]


def _errors_vs_time(history: pd.DataFrame, series: list[tuple[str, str, str]], title: str) -> Figure:
    """Error (%) of the given accuracy columns against cumulative training time."""
    fig = _figure(LINE_SIZE)
    ax = fig.add_subplot()
    style = _style(len(history))
    errors = []
    for column, label, color in series:
        errors.append(_error_pct(history[column]))
        ax.plot(history["train_time_s"], errors[-1], color=color, label=label, **style)
        errors += _band(ax, history, "train_time_s", column, color, as_error=True)
    _set_scale(ax, np.concatenate(errors))
    ax.set_title(f"{title} ({_epochs_note(history)})" + _seeds_title({"": history}))
    ax.set_xlabel(TIME_LABEL if _seeds(history) == 1 else f"{TIME_LABEL}, mean over seeds")
    ax.set_ylabel(ERROR_LABEL)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def train_error_vs_time(model: str, history: pd.DataFrame) -> Figure:
    """Assignment figure 1: training error against cumulative training time."""
    return _errors_vs_time(history, [("train_accuracy", "training error", TRAIN_COLOR)],
                           f"{model}: training error vs training time")


def error_vs_time(model: str, history: pd.DataFrame) -> Figure:
    """Assignment figure 2: training and testing error against cumulative training time."""
    return _errors_vs_time(history, [("train_accuracy", "training error", TRAIN_COLOR),
                                     ("test_accuracy", "testing error", TEST_COLOR)],
                           f"{model}: training and testing error vs training time")


def loss_vs_epoch(model: str, history: pd.DataFrame) -> Figure:
    """Assignment figure 3: training and testing loss per epoch for one model."""
    fig = _figure(LINE_SIZE)
    ax = fig.add_subplot()
    style = _style(len(history))
    ax.plot(history["epoch"], history["train_loss"], color=TRAIN_COLOR, label="training loss", **style)
    ax.plot(history["epoch"], history["test_loss"], color=TEST_COLOR, label="testing loss", **style)
    edges = _band(ax, history, "epoch", "train_loss", TRAIN_COLOR) + _band(ax, history, "epoch", "test_loss",
                                                                           TEST_COLOR)
    _set_scale(ax, np.concatenate([history["train_loss"], history["test_loss"], *edges]))
    ax.set_title(f"{model}: training and testing loss vs epochs ({_epochs_note(history)})"
                 + _seeds_title({model: history}))
    _epoch_axis(ax, history["epoch"])
    ax.set_ylabel(LOSS_LABEL)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def loss_vs_epoch_models(histories: Mapping[str, pd.DataFrame]) -> Figure:
    """Assignment figure 4: every model's training (solid) and testing (dashed) loss together."""
    fig = _figure(LINE_SIZE)
    ax = fig.add_subplot()
    colors = model_colors(list(histories))
    values = []
    for model, history in histories.items():
        style = _style(len(history))
        ax.plot(history["epoch"], history["train_loss"], color=colors[model],
                label=f"{model} training loss", **style)
        ax.plot(history["epoch"], history["test_loss"], color=colors[model], linestyle="--",
                label=f"{model} testing loss", **style)
        values += [history["train_loss"].to_numpy(float), history["test_loss"].to_numpy(float)]
        values += _band(ax, history, "epoch", "train_loss", colors[model])
        values += _band(ax, history, "epoch", "test_loss", colors[model])
    _set_scale(ax, np.concatenate(values))
    ax.set_title(f"Training and testing loss vs epochs ({' vs '.join(histories)})"
                 + _seeds_title(histories))
    _epoch_axis(ax, pd.concat([h["epoch"] for h in histories.values()]))
    ax.set_ylabel(LOSS_LABEL)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def accuracy_vs_epoch_models(histories: Mapping[str, pd.DataFrame]) -> Figure:
    """Test accuracy per epoch for every model, each model's best epoch starred.

    The star is the epoch the assignment reports ("best testing accuracy"); it is
    chosen on the test set, so the legend says so next to the final accuracy.
    """
    fig = _figure(LINE_SIZE)
    ax = fig.add_subplot()
    colors = model_colors(list(histories))
    for model, history in histories.items():
        accuracy = 100.0 * history["test_accuracy"].to_numpy(float)
        epochs = history["epoch"].to_numpy()
        ax.plot(epochs, accuracy, color=colors[model],
                label=f"{model} (final {accuracy[-1]:.2f}%)", **_style(len(history)))
        _band(ax, history, "epoch", "test_accuracy", colors[model], percent=True)
        best = int(np.argmax(accuracy))
        of = "" if _seeds(history) == 1 else " of the mean"
        ax.plot(epochs[best], accuracy[best], linestyle="none", marker="*", markersize=14,
                markeredgecolor="black", color=colors[model],
                label=f"{model} best{of} {accuracy[best]:.2f}% at epoch {epochs[best]} "
                      "(selected on test set)")
    ax.set_title("Test accuracy vs epochs, best epoch marked" + _seeds_title(histories))
    _epoch_axis(ax, pd.concat([h["epoch"] for h in histories.values()]))
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def _seeds_title(histories: Mapping[str, pd.DataFrame]) -> str:
    """The seeds behind a figure's curves, as a second title line ("" when each is one run)."""
    counts = sorted({_seeds(history) for history in histories.values()})
    if counts == [1]:
        return ""
    return f"\nmean of {' / '.join(map(str, counts))} seeds, band = min–max over the seeds"


def _seconds(value: float) -> str:
    """Whole seconds for long runs, three digits for the few seconds of a test run."""
    return f"{value:,.0f} s" if value >= 100 else f"{value:.3g} s"


def _grouped_bars(ax, models: Sequence[str], colors: Mapping[str, str], labels: Sequence[str],
                  values: Mapping[str, Sequence[float]], fmt: str | Callable[[float], str],
                  errors: Mapping[str, np.ndarray | None]) -> None:
    """Bars per label, one per model; `errors[model]`: (2, len(labels)) distances below and above
    each bar to its interval's ends, or None (one seed: no interval)."""
    x = np.arange(len(labels))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        bars = ax.bar(x + (i - (len(models) - 1) / 2) * width, values[model], width,
                      color=colors[model], label=model, yerr=errors[model],
                      capsize=4 if errors[model] is not None else 0)
        ax.bar_label(bars, fmt=fmt, fontsize=8, padding=2)
    ax.set_xticks(x, labels)
    ax.margins(y=0.15)
    ax.grid(True, axis="y", alpha=0.3)


def _criterion_bars(stats: Mapping[str, Spread], keys: Sequence[str], scale: float = 1.0,
                    as_error: bool = False) -> tuple[list[float], np.ndarray | None]:
    """The means of `keys` (× `scale`; as 100 − accuracy for `as_error`) and their CI distances."""
    means, below, above = [], [], []
    for key in keys:
        mean, ci = stats[key].mean, stats[key].ci
        low, high = (ci if ci is not None else (mean, mean))
        if as_error:
            mean, low, high = 100 * (1 - mean), 100 * (1 - high), 100 * (1 - low)
        else:
            mean, low, high = scale * mean, scale * low, scale * high
        means.append(mean)
        below.append(mean - low)
        above.append(high - mean)
    has_interval = all(stats[key].ci is not None for key in keys)
    return means, np.array([below, above]) if has_interval else None


def _seed_count(entry: ModelEntry) -> str:
    n = len(entry.seeds)
    return "1 seed" if n == 1 else f"{n} seeds"


def comparison_bars(comparison: Comparison) -> Figure:
    """The assignment's comparison criteria, side by side per model: the mean over seeds, with
    its 95% confidence interval as an error bar when a model has several seeds.

    Accuracies are drawn as errors (100 − accuracy) so the bars start at zero and
    the differences between ~98% models are visible without a truncated axis.
    """
    entries = comparison.models
    models = list(entries)
    colors = model_colors(models)
    stats = {m: entries[m].stats for m in models}
    fig = _figure(COMPARISON_SIZE)
    (acc, loss), (gap, time) = fig.subplots(2, 2)

    def panel(ax, labels, keys, fmt, **how) -> dict[str, list[float]]:
        bars = {m: _criterion_bars(stats[m], keys, **how) for m in models}
        _grouped_bars(ax, models, colors, labels, {m: bars[m][0] for m in models}, fmt,
                      {m: bars[m][1] for m in models})
        return {m: bars[m][0] for m in models}

    panel(acc, ["best training\n(max over epochs)", "best testing\n(selected on test set)", "final testing"],
          ["best_train_accuracy", "best_test_accuracy", "final_test_accuracy"], "%.2f", as_error=True)
    acc.set_title("Error = 100 − accuracy (lower is better)")
    acc.set_ylabel("error (%)")

    loss_values = panel(loss, ["minimum training loss", "minimum testing loss"],
                        ["min_train_loss", "min_test_loss"], "%.3g")
    _set_scale(loss, np.array([v for values in loss_values.values() for v in values]))
    loss.set_title("Minimum loss over epochs (lower is better)")
    loss.set_ylabel(LOSS_LABEL)

    panel(gap, ["best training − best testing accuracy"], ["generalization_gap"], "%.2f", scale=100.0)
    gap.set_title("Generalization gap (smaller overfits less)")
    gap.set_ylabel("gap (percentage points)")

    panel(time, ["total training time"], ["train_time_s"], _seconds)
    time.set_title("Training time (lower is cheaper)")
    time.set_ylabel("time (s)")

    several = any(len(entries[m].seeds) > 1 for m in models)
    handles, _ = acc.get_legend_handles_labels()
    fig.legend(handles, [f"{m} ({entries[m].params:,} parameters, {entries[m].epochs} epochs"
                         + (f", {_seed_count(entries[m])})" if several else ")") for m in models],
               loc="outside lower center", ncols=len(models))
    title = f"Comparison of {' and '.join(models)} on the assignment's criteria"
    fig.suptitle(title + ("\nmeans over seeds; error bars: 95% confidence interval (t)" if several else ""))
    return fig


def best_accuracy_per_seed(comparison: Comparison) -> Figure:
    """Each seed's best test accuracy (max over epochs, selected on the test set) per model, one
    dot per seed, with the mean and its 95% confidence interval; grey lines join the same seed
    across models, since a paired test compares the models seed by seed."""
    entries = comparison.models
    models = list(entries)
    colors = model_colors(models)
    fig = _figure(LINE_SIZE)
    ax = fig.add_subplot()
    points: dict[str, dict[int, tuple[float, float]]] = {}
    for i, model in enumerate(models):
        entry = entries[model]
        seeds = entry.seeds
        offsets = np.linspace(-0.12, 0.12, len(seeds)) if len(seeds) > 1 else np.zeros(1)
        values = [100 * entry.runs[seed].best_test_accuracy for seed in seeds]
        points[model] = {seed: (i + offset, value) for seed, offset, value in zip(seeds, offsets, values,
                                                                                  strict=True)}
        ax.plot(i + offsets, values, linestyle="none", marker="o", markersize=7, color=colors[model],
                label=f"{model}: {_seed_count(entry)}")
        for seed, (x, y) in points[model].items():
            ax.annotate(str(seed), (x, y), xytext=(5, 0), textcoords="offset points", fontsize=7, va="center")
        spread = entry.stats["best_test_accuracy"]
        if spread.ci is not None:
            mean, (low, high) = 100 * spread.mean, (100 * v for v in spread.ci)
            ax.errorbar(i + 0.3, mean, yerr=[[mean - low], [high - mean]], fmt="D", color="black", capsize=5,
                        label="mean and 95% CI" if i == 0 else None)
    for one, other in pairwise(models):
        for seed in sorted(set(points[one]) & set(points[other])):
            (x0, y0), (x1, y1) = points[one][seed], points[other][seed]
            ax.plot([x0, x1], [y0, y1], color="grey", alpha=0.5, linewidth=0.8, zorder=1)
    ax.set_xticks(range(len(models)), models)
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.margins(y=0.15)
    ax.set_ylabel("best test accuracy (%)")
    ax.grid(True, axis="y", alpha=0.3)
    counts = {len(entry.seeds) for entry in entries.values()}
    note = "1 seed per model: no spread to show" if counts == {1} else "grey lines join the same seed"
    ax.set_title(f"Best test accuracy per seed (max over epochs, selected on test set)\n{note}")
    ax.legend(loc="lower right")
    return fig


def confusion_matrix(model: str, actual: np.ndarray, predicted: np.ndarray,
                     test_loss: float | None = None) -> Figure:
    """Confusion matrix on the test set, coloured on a log scale.

    The diagonal holds ~1,000 images per digit and the mistakes a handful, so a
    linear colour scale would show only the diagonal; empty cells stay white.
    """
    counts = confusion_counts(actual, predicted)
    total = int(counts.sum())
    accuracy = 100.0 * np.trace(counts) / total if total else float("nan")
    fig = _figure(CONFUSION_SIZE)
    ax = fig.add_subplot()
    shown = np.ma.masked_equal(counts, 0)
    image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=max(int(counts.max()), 2)))
    threshold = np.sqrt(max(int(counts.max()), 1))
    for (row, col), count in np.ndenumerate(counts):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                    color="white" if count > threshold else "black")
    ax.set_xticks(range(CLASSES))
    ax.set_yticks(range(CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("actual digit")
    loss_note = f", loss {test_loss:.4f}" if test_loss is not None else ""
    ax.set_title(f"{model}: confusion matrix, {total:,} test images\n(accuracy {accuracy:.2f}%{loss_note})")
    fig.colorbar(image, ax=ax, label="test images (log scale; blank = 0)")
    return fig


def misclassified_digits(model: str, images: np.ndarray, actual: np.ndarray,
                         predicted: np.ndarray) -> Figure:
    """The first test digits the model gets wrong, labelled `true → predicted` and test index.

    `images` is the (N, 784) test array in test order (a memory map is fine:
    only the wrong rows are read).
    """
    actual = np.asarray(actual)
    predicted = np.asarray(predicted)
    wrong = np.flatnonzero(actual != predicted)
    shown = wrong[: GRID_ROWS * GRID_COLS]
    fig = Figure(figsize=GRID_SIZE, dpi=DPI)
    axes = fig.subplots(GRID_ROWS, GRID_COLS)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, index in zip(axes.flat, shown, strict=False):
        ax.imshow(np.asarray(images[index], dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE), cmap="gray_r")
        ax.set_title(f"{actual[index]} → {predicted[index]}\n#{index}", fontsize=8)
    if not len(wrong):
        fig.text(0.5, 0.5, "no test digit is misclassified", ha="center", va="center", fontsize=14)
    fig.suptitle(
        f"{model}: {len(wrong):,} of {len(actual):,} test digits misclassified "
        f"(first {len(shown)} shown; label: true → predicted, #test index)"
    )
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.86, hspace=0.6, wspace=0.1)
    return fig
