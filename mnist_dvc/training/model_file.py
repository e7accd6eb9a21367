"""A trained model's `.keras` file whose bytes are its model's and nothing else (issue 24).

Keras stamps each save with the time (metadata.json's `date_saved`, every zip entry's date).
Training the same params on one machine gives bit-identical weights, so without those stamps a
re-run writes the same file: DVC stores it once, and two models compare equal by hash. The date
is left out, not made up: when a run ended is in its logs, and Keras does not read it back.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry holds


def save_model(model: Any, path: Path) -> None:
    """`model.save(path)`, then the archive written again without its time stamps."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            archive.writestr(zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH), data,
                             compress_type=info.compress_type)
