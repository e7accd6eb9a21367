"""Errors tab (tui/errors/pane.py, tui/errors/widgets.py): pilot tests, then snapshots with what
they show asserted too. The project is tests/fixtures/errors.py's: 200 made-up digits, image i shows
i % 10; model_a confuses 9 → 7 (4), 4 → 9 (3), 2 → 7 (2), 5 → 3 (2), 8 → 3 (1); model_b
4 → 9 (5), 7 → 1 (3), 3 → 5 (2), 9 → 4 (1). A mistake's confidence is 95%, 85%, 75%, ...
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TabbedContent

from tests.fixtures.errors import write_seed
from tests.fixtures.runs import write_params
from tests.helpers import NARROW, SIZE, WIDE, make_app, settle, snapshot_app, text, wait_for
from tui.app import DashboardApp
from tui.errors.data import PredictionsSource
from tui.errors.digit_art import RAMP, UPPER_HALF
from tui.errors.pane import ErrorsPane
from tui.errors.text import ERRORS_HINT
from tui.errors.widgets import ConfusionHeatmap, DigitGallery


async def open_tab(app: DashboardApp, pilot: Pilot) -> ErrorsPane:
    await pilot.press("6")
    pane = app.query_one(ErrorsPane)
    await wait_for(pilot, lambda: pane.errors is not None, what="the predictions")
    await pilot.pause()
    return pane


def gallery_text(app: DashboardApp) -> str:
    """What the gallery draws, line by line, as plain text (empty while it is hidden)."""
    gallery = app.query_one(DigitGallery)
    return "\n".join(gallery.render_line(y).text.rstrip() for y in range(gallery.size.height))


def listed(app: DashboardApp) -> tuple[list[str], int | None]:
    """The confusions list's lines and the highlighted one."""
    confusions = app.query_one("#confusions", OptionList)
    lines = [str(confusions.get_option_at_index(i).prompt) for i in range(confusions.option_count)]
    return lines, confusions.highlighted


async def test_arrows_move_the_cursor_and_the_list_follows(errors_project: Path) -> None:
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        heatmap = app.query_one(ConfusionHeatmap)
        await pilot.press("up")
        assert heatmap.cursor == pane.cell == (8, 7)
        assert listed(app)[1] is None, "an empty cell is not in the list"
        await pilot.press("left", "left", "left", "left")
        assert heatmap.cursor == (8, 3)
        assert listed(app)[1] == 4
        assert app.query_one(DigitGallery).title.plain == "8 → 3: 1 image, the most confident first"
        await pilot.press("down", "down", "down", "right", "right")
        assert heatmap.cursor == (9, 5), "the cursor stays on the matrix"
        # a click on a cell: 1 border + 1 padding + 4 label columns + 5 per cell; 1 border + 1 header row
        await pilot.click("#heatmap", offset=(2 + 4 + 5 * 7 + 2, 1 + 1 + 2))
        assert heatmap.cursor == (2, 7)
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "confusions"
        await pilot.press("home", "down")
        assert heatmap.cursor == (4, 9), "walking the list moves the cursor"


async def test_enter_opens_the_cell_and_its_digits_come_a_page_at_a_time(errors_project: Path) -> None:
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        await pilot.press("down")  # 9 → 7, then up five rows and left three columns: 4 → 4
        await pilot.press("up", "up", "up", "up", "up", "left", "left", "left")
        assert pane.cell == (4, 4)
        await pilot.press("enter")
        gallery = app.query_one(DigitGallery)
        assert pane.has_class("-open") and app.focused is gallery
        assert gallery.per_page == 3, "three digits of 28 columns fit 100 columns, one row fits 32 lines"
        shown = gallery_text(app)
        assert shown.startswith("4 → 4 (correct): 17 images, the least confident first · page 1/6\n")
        assert list(gallery.indices)[:3] == [34, 44, 54], "0.94, 0.94, 0.94: equal, so in test order"
        assert "true 4 · pred 4 · 94.0%" in shown and "#34 · 2nd 5 (4.8%)" in shown
        await pilot.press("right")
        assert gallery.page == 1 and "page 2/6" in gallery_text(app)
        await pilot.press("end", "right")
        assert gallery.page == 5 and "page 6/6" in gallery_text(app)
        await pilot.press("left", "home")
        assert gallery.page == 0
        await pilot.press("right_square_bracket")
        assert pane.cell == (9, 7), "from a correct cell, ] goes to the largest confusion"
        assert gallery_text(app).startswith("9 → 7: 4 images, the most confident first · page 1/2\n")
        await pilot.press("right_square_bracket")
        assert pane.cell == (4, 9)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert pane.cell == (9, 7), "and stays on the first"
        await pilot.press("escape")
        assert not pane.has_class("-open")
        assert app.focused is app.query_one(ConfusionHeatmap)


async def test_m_switches_the_model_on_the_same_cell_and_o_shows_the_other(errors_project: Path) -> None:
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: "model_b" in text(app, "#errors-heading"), what="model_b")
        assert text(app, "#errors-heading") == "model_b · 11 of 200 test digits misclassified (5.50%)"
        assert pane.cell == (9, 7), "the cell stays, to compare the models on it"
        assert app.query_one(DigitGallery).title.plain == "9 → 7: no test image"
        assert listed(app)[0][0] == "4 → 9: 5 images"
        await pilot.press("tab", "home", "enter")
        assert pane.cell == (4, 9) and pane.has_class("-open")
        assert "model_a:" not in gallery_text(app)
        await pilot.press("o")
        assert pane.other == "model_a"
        shown = gallery_text(app)
        assert "true 4 · pred 9 · 95.0%" in shown and "model_a: 9 ✗ 95.0%" in shown
        await pilot.press("right")
        assert "model_a: 4 ✓ 94.0%" in gallery_text(app), "images 34 and 44: model_a got them right"
        await pilot.press("m")
        await wait_for(pilot, lambda: "model_a" in text(app, "#errors-heading"), what="model_a")
        assert pane.other == "model_b", "switching to the compared model swaps the two"
        assert "model_b: 9 ✗ 95.0%" in gallery_text(app)
        await pilot.press("o")
        assert pane.other is None and "model_b:" not in gallery_text(app)


async def test_s_steps_through_the_seeds_on_disk(errors_project: Path) -> None:
    write_seed(errors_project, "model_a", 7, source="model_b")
    write_seed(errors_project, "model_a", 3, source="model_a")
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        assert pane.source == PredictionsSource(errors_project, "model_a", 3)
        heading = text(app, "#errors-heading")
        assert heading == "model_a · seed 3 · 12 of 200 test digits misclassified (6.00%)"
        assert pane.check_action("next_seed", ()) is True
        await pilot.press("s")
        await wait_for(pilot, lambda: "seed 7" in text(app, "#errors-heading"), what="seed 7")
        heading = text(app, "#errors-heading")
        assert heading == "model_a · seed 7 · 11 of 200 test digits misclassified (5.50%)"
        await pilot.press("m")
        await wait_for(pilot, lambda: "model_b" in text(app, "#errors-heading"), what="model_b")
        assert pane.source == PredictionsSource(errors_project, "model_b", 42), "model_b has one seed on disk"
        assert pane.check_action("next_seed", ()) is False


async def test_without_colours_the_digits_are_drawn_with_the_ramp(
    errors_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot)
        await pilot.press("enter")
        shown = gallery_text(app)
        assert "@" in shown and UPPER_HALF not in shown
        assert set(RAMP[1:]) & set(shown)


async def test_a_missing_predictions_file_is_one_warning_line_and_nothing_breaks(finished: Path) -> None:
    """Both models were evaluated (metrics/summary.json) but their predictions files are gone."""
    for model in ("model_a", "model_b"):
        (finished / f"reports/predictions/{model}/seed_42.csv").unlink()
    app = make_app(finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        warnings = app.query_one("#warnings", Static)
        await wait_for(pilot, lambda: warnings.display, what="the warning bar")
        assert str(warnings.render()).splitlines() == [
            "⚠ reports/predictions/model_a/seed_42.csv: not found, though model_a was evaluated; "
            "run `dvc repro evaluate`",
            "⚠ reports/predictions/model_b/seed_42.csv: not found, though model_b was evaluated; "
            "run `dvc repro evaluate`",
        ]
        assert app.query_one("#errors-hint").display
        assert text(app, "#errors-heading") == "model_a · no predictions"
        assert app.query_one(ConfusionHeatmap).render().plain == "no predictions to count"
        await pilot.press("enter", "up", "o", "s", "escape", "right_square_bracket", "m")
        assert app.is_running and app.focused is app.query_one(ConfusionHeatmap), "the keys still work"
        heading = "model_b · no predictions"
        await wait_for(pilot, lambda: text(app, "#errors-heading") == heading, what="model_b")


async def test_a_corrupt_predictions_file_warns_keeps_the_last_data_and_recovers(errors_project: Path,
                                                                                 ) -> None:
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        shown = pane.errors
        warnings = app.query_one("#warnings", Static)
        path = errors_project / "reports/predictions/model_a/seed_42.csv"
        good = path.read_text()
        path.write_text(good.replace("4,9,0.95,4,0.04", "4,9,0.95,4,1.7"))
        await wait_for(pilot, lambda: warnings.display, what="the warning bar")
        assert str(warnings.render()) == (
            "⚠ reports/predictions/model_a/seed_42.csv: line 6: p_second is 1.7, "
            "expected a probability in [0, 1]; showing the last good data"
        )
        assert pane.errors is shown and app.query_one(ConfusionHeatmap).counts is shown.counts
        await pilot.press("enter", "right")
        path.write_text(good)
        await wait_for(pilot, lambda: not warnings.display, what="the warning to clear")


async def test_a_deleted_seed_file_is_not_shown_and_the_other_seeds_stay_reachable(errors_project: Path,
                                                                                   ) -> None:
    """Seed 42's predictions deleted while shown: no mistakes under its name, one warning line on
    this tab only, `s` still reaches seed 43; the file back, the warning clears."""
    write_seed(errors_project, "model_a", 43, source="model_a")
    path = errors_project / "reports/predictions/model_a/seed_42.csv"
    kept = path.read_text()
    app = make_app(errors_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_tab(app, pilot)
        warnings = app.query_one("#warnings", Static)
        heading = "model_a · seed 42 · 12 of 200 test digits misclassified (6.00%)"
        assert text(app, "#errors-heading") == heading
        path.unlink()
        await wait_for(pilot, lambda: warnings.display, what="the warning bar")
        assert str(warnings.render()) == (
            "⚠ reports/predictions/model_a/seed_42.csv: not found, though model_a was evaluated; "
            "run `dvc repro evaluate`")
        assert text(app, "#errors-heading") == "model_a · seed 42 · no predictions"
        assert pane.errors is None and app.query_one(ConfusionHeatmap).counts is None
        await pilot.press("1")
        await pilot.pause()
        assert not warnings.display, "the Training tab does not read the predictions"
        await pilot.press("6")
        await pilot.pause()
        assert warnings.display
        await pilot.press("s")
        await wait_for(pilot, lambda: pane.errors is not None, what="seed 43")
        assert text(app, "#errors-heading") == "model_a · 12 of 200 test digits misclassified (6.00%)", (
            "seed 43 is the only seed left: named only once there are several again")
        assert not warnings.display, "seed 43 is all there"
        path.write_text(kept)
        await wait_for(pilot, lambda: pane.check_action("next_seed", ()), what="two seeds again")
        await pilot.press("s")
        await wait_for(pilot, lambda: text(app, "#errors-heading") == heading, what="seed 42 again")
        assert not warnings.display


async def test_before_any_evaluation_the_tab_says_how_to_get_predictions(tmp_path: Path) -> None:
    write_params(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        hint = app.query_one("#errors-hint", Static)
        await wait_for(pilot, lambda: hint.display, what="the hint")
        await pilot.pause(0.3)
        assert str(hint.render()) == ERRORS_HINT
        assert not app.query_one("#warnings").display, "nothing evaluated yet is not a problem"


# --- snapshots ------------------------------------------------------------------------


async def settle_errors(pilot: Pilot) -> None:
    """Open the tab and wait for the predictions to be read and the cursor placed."""
    await pilot.press("6")
    pane = pilot.app.query_one(ErrorsPane)
    await wait_for(pilot, lambda: pane.errors is not None, what="the predictions")
    await settle(pilot)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "200x60"])
def test_errors(snap_compare: Callable, errors_project: Path, size: tuple[int, int]) -> None:
    """The tab opens on the largest confusion of the first model."""

    async def opened(pilot: Pilot) -> None:
        await settle_errors(pilot)
        app = pilot.app
        pane = app.query_one(ErrorsPane)
        assert app.query_one(TabbedContent).active == "errors"
        assert app.focused is not None and app.focused.id == "heatmap"
        assert pane.source == PredictionsSource(errors_project, "model_a", 42)
        assert text(app, "#errors-heading") == "model_a · 12 of 200 test digits misclassified (6.00%)"
        heatmap = app.query_one(ConfusionHeatmap)
        assert heatmap.cursor == (9, 7)
        assert heatmap.counts is not None and heatmap.counts[4, 9] == 3 and heatmap.counts[4, 4] == 17
        drawn = heatmap.render().plain.splitlines()
        assert drawn[0] == "true   0    1    2    3    4    5    6    7    8    9 "
        assert drawn[1 + 4] == " 4     ·    ·    ·    ·   17    ·    ·    ·    ·    3 "
        assert listed(app) == (["9 → 7: 4 images", "4 → 9: 3 images", "2 → 7: 2 images", "5 → 3: 2 images",
                                "8 → 3: 1 image"], 0)
        assert not app.query_one("#errors-hint").display
        assert not app.query_one("#warnings").display

    assert snap_compare(snapshot_app(errors_project), terminal_size=size, run_before=opened)


def test_errors_cell_open_with_the_other_model(snap_compare: Callable, errors_project: Path) -> None:
    async def open_cell(pilot: Pilot) -> None:
        await settle_errors(pilot)
        await pilot.press("right_square_bracket")  # 9 → 7, then 4 → 9
        await pilot.press("enter", "o")
        await settle(pilot)

    assert snap_compare(snapshot_app(errors_project), terminal_size=NARROW, run_before=open_cell)


def test_errors_with_a_missing_predictions_file(snap_compare: Callable, errors_project: Path) -> None:
    (errors_project / "reports/predictions/model_b/seed_42.csv").unlink()

    async def warned(pilot: Pilot) -> None:
        await settle_errors(pilot)
        await wait_for(pilot, lambda: pilot.app.query_one("#warnings").display, what="the warning")
        await settle(pilot)

    assert snap_compare(snapshot_app(errors_project), terminal_size=NARROW, run_before=warned)
