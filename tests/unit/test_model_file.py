"""A saved model's file holds nothing that changes from one save to the next but the model: the
same weights make the same bytes, so DVC stores a re-run's model once (issue 24)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from mnist_dvc.training.model_file import ZIP_EPOCH, save_model


def test_a_saved_model_has_no_save_time_and_loads_back_the_same(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.zeros((8, 3)), verbose=0)  # optimizer state to save too
    path = tmp_path / "model.keras"
    save_model(model, path)

    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {ZIP_EPOCH}
        assert "model.weights.h5" in archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata == {"keras_version": keras.__version__}
    loaded = keras.models.load_model(path)
    for mine, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        assert np.array_equal(mine, theirs)
    again = tmp_path / "again.keras"
    save_model(model, again)
    assert again.read_bytes() == path.read_bytes()
