"""The knowledge-base file: a versioned Parquet table with a JSON provenance record beside it.

``kb.parquet`` holds one row per (task, family, variant): the task descriptor, the
meta-features (columns ``mf.<name>``), the accuracy on the query set and the times;
``kb.json`` records how it was made — format version, date, the grid, the sources' checksums,
the library versions — and the SHA-256 of the table. :func:`read_kb` checks both.

While building, finished tasks are written to ``kb.parts/`` one file per batch, so an
interrupted build resumes where it stopped (:func:`done_task_ids`); a build also keeps the tasks
of a knowledge base already at its path (:func:`extend_existing`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from advisor.errors import KB_EMPTY, InvalidInputError, NotFoundError, define_code

KB_FORMAT = "automl-advisor/knowledge-base"
KB_VERSION = 1
KB_NOT_FOUND = define_code("kb.not_found", "There is no knowledge-base file at that path.")
KB_CORRUPT = define_code(
    "kb.corrupt", "A knowledge-base file fails its checksum or is not a version this code reads."
)
KB_BUSY = define_code(
    "kb.busy", "A knowledge-base build of that path is under way: its partial results are there."
)
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "kb" / "kb.parquet"


def parts_dir(path: Path) -> Path:
    """The folder of partial results of a build writing ``path``."""
    return path.with_suffix(".parts")


def done_task_ids(path: Path) -> set[str]:
    """Task ids already measured by an interrupted build of ``path``."""
    folder = parts_dir(path)
    if not folder.is_dir():
        return set()
    ids: set[str] = set()
    for part in folder.glob("*.parquet"):
        try:
            ids.update(pd.read_parquet(part, columns=["task_id"])["task_id"].unique())
        except (OSError, ValueError):
            part.unlink(missing_ok=True)  # a part cut off mid-write: measure it again
    return ids


def next_part_index(path: Path) -> int:
    """The index of the next part of a build of ``path``: one past the highest there.

    Not the number of parts: a damaged part removed by :func:`done_task_ids` leaves a gap,
    and counting would write the next batch over a good part.
    """
    indices = [-1]
    for part in parts_dir(path).glob("part-*.parquet"):
        try:
            indices.append(int(part.stem.removeprefix("part-")))
        except ValueError:
            continue
    return max(indices) + 1


def write_part(path: Path, rows: list[dict[str, Any]] | pd.DataFrame, index: int) -> None:
    """Append one batch of finished rows (written atomically)."""
    folder = parts_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"part-{index:06d}.tmp"
    pd.DataFrame(rows).to_parquet(temporary, index=False)
    temporary.replace(folder / f"part-{index:06d}.parquet")


def extend_existing(path: Path) -> None:
    """Let a build extend the knowledge base already at ``path``: its rows become part 0.

    Only when no build of ``path`` is under way (no parts yet). So a partial knowledge base
    written by ``advisor kb finish`` resumes from the file alone, and a finished one gains the
    tasks of a larger grid without measuring its own again. The file is checksum-verified
    first (:func:`read_kb`); a damaged one stops the build rather than being overwritten.
    """
    if any(parts_dir(path).glob("*.parquet")) or not path.is_file():
        return
    write_part(path, read_kb(path), 0)


def finish(path: Path, provenance: dict[str, Any], *, keep_parts: bool = False) -> pd.DataFrame:
    """Merge the parts into ``path``, sorted by task and learner, and write the provenance.

    The parts are removed unless ``keep_parts`` (an unfinished build that will resume).
    """
    parts = sorted(parts_dir(path).glob("*.parquet"))
    if not parts:
        raise InvalidInputError(
            f"Nothing measured for {str(path)!r} yet: no knowledge base to write.", code=KB_EMPTY
        )
    table = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    table = table.sort_values(["task_id", "family", "variant"], kind="stable", ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path, index=False)
    record = {
        "format": KB_FORMAT,
        "version": KB_VERSION,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "tasks": int(table["task_id"].nunique()),
        "rows": len(table),
        # the tasks with tuned rows, wherever they came from (an extended KB keeps its own)
        "tuned_tasks": sorted(table.loc[table["tuned"].astype(bool), "task_id"].unique()),
        **provenance,
    }
    path.with_suffix(".json").write_text(json.dumps(record, indent=2, default=str))
    table.attrs["provenance"] = record
    if keep_parts:
        return table
    for part in parts:
        part.unlink()
    parts_dir(path).rmdir()
    return table


def _provenance(record_path: Path) -> dict[str, Any] | None:
    """The JSON object of a provenance record, or ``None`` when it is not one."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        return None
    return record if isinstance(record, dict) else None


def previous_provenance(path: Path) -> dict[str, Any] | None:
    """The provenance record of the knowledge base at ``path``, if there is a readable one."""
    record_path = path.with_suffix(".json")
    if not path.is_file() or not record_path.is_file():
        return None
    record = _provenance(record_path)
    return record if record is not None and record.get("format") == KB_FORMAT else None


def read_kb(path: str | Path | None = None) -> pd.DataFrame:
    """The knowledge base at ``path`` (the shipped one by default), checksum verified.

    Raises:
        NotFoundError: ``kb.not_found``.
        InvalidInputError: ``kb.corrupt``.
    """
    table_path = Path(path) if path is not None else SHIPPED
    record_path = table_path.with_suffix(".json")
    if not table_path.is_file() or not record_path.is_file():
        raise NotFoundError(f"No knowledge base at {str(table_path)!r}.", code=KB_NOT_FOUND)
    record = _provenance(record_path)
    if record is None or record.get("format") != KB_FORMAT:
        raise InvalidInputError(
            f"{str(table_path)!r} is not a knowledge base this version reads: its provenance "
            f"record {str(record_path)!r} is damaged or of another format.",
            code=KB_CORRUPT,
        )
    try:
        version = int(record.get("version", KB_VERSION + 1))
    except (TypeError, ValueError):  # "one", [1], null
        version = KB_VERSION + 1
    if version > KB_VERSION:
        raise InvalidInputError(
            f"{str(table_path)!r} is not a knowledge base this version reads.", code=KB_CORRUPT
        )
    if hashlib.sha256(table_path.read_bytes()).hexdigest() != record.get("sha256"):
        raise InvalidInputError(
            f"{str(table_path)!r} does not match its checksum.", code=KB_CORRUPT
        )
    table = pd.read_parquet(table_path)
    table.attrs["provenance"] = record
    return table
