"""The data folder of a scenario run: emptied before each run, so runs never share state."""

from __future__ import annotations

import shutil
from pathlib import Path

STATE_MARK = ".gke-heal-scenario"
# Files a stack of an earlier version left without the mark.
_STACK_FILES = ("heal.sqlite3", "chat-sink.sqlite3", "warehouse.duckdb")


class DataDirError(ValueError):
    """The data folder holds something other than an earlier run's state."""


def fresh_data_dir(folder: Path) -> None:
    """Empty `folder` of an earlier run's state, so a scenario starts from nothing.

    A run's clock starts at the wall time and runs ahead, so a second run's simulated times
    overlap the first's: its audit trail, cooldowns and rate limits, its alerts and its
    training data would all leak into the new run. Only a folder an earlier run marked (or
    one holding a stack's files) is wiped; any other non-empty folder is refused.
    """
    if folder.is_dir() and any(folder.iterdir()):
        ours = (folder / STATE_MARK).exists() or any((folder / f).exists() for f in _STACK_FILES)
        if not ours:
            raise DataDirError(
                f"data folder {folder} is not empty and holds no earlier run's state; "
                "give a new or empty folder (--data-dir)"
            )
        shutil.rmtree(folder)
    elif folder.exists() and not folder.is_dir():
        raise DataDirError(f"data folder {folder} is a file; give a folder (--data-dir)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STATE_MARK).write_text(
        "State of a gke-heal scenario run; the next run in this folder wipes it.\n",
        encoding="utf-8",
    )
