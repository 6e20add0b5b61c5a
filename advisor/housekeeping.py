"""Deleting saved runs and the sources a user built.

A tuned run leaves a folder under ``$ADVISOR_HOME/runs/<id>`` (``run.json``, the model, the
samples picture) and its trials in the default Optuna storage. :func:`delete_run` removes both.
A study continued by name (``advisor run --study NAME``) is shared by every run that continued
it, so it goes only with the last of them. The local knowledge base keeps what the run
measured: those rows are evidence the recommender learns from, not the run's files.

A source a user built (``$ADVISOR_HOME/sources/<name>``) goes with :func:`delete_user_source`,
unless a saved run's model starts from it: predicting with that run reloads the source.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import optuna

from advisor.core import RUN_NOT_FOUND
from advisor.errors import (
    SOURCE_BUILTIN,
    SOURCE_IN_USE,
    AdvisorError,
    ConflictError,
    NotFoundError,
)
from advisor.settings import get_settings
from advisor.sources import user_sources_dir
from learners import builtin_sources, saved_source_name
from learners.errors import UNKNOWN_SOURCE
from learners.tuning import default_storage_url


@dataclass(frozen=True)
class DeletedRun:
    """What :func:`delete_run` removed: the run's folder, its size, and its study if it went."""

    run_id: str
    folder: Path
    bytes: int
    study: str | None


def run_folder(run: str | Path) -> Path:
    """The folder of a saved run under ``$ADVISOR_HOME/runs``, by id or by that folder's path.

    An id is looked up first, then a path. Only folders directly under the runs folder that
    hold a ``run.json`` are runs: a path elsewhere (or an id like ``../kb``) is not found, so
    nothing outside the runs is removed.

    Raises:
        NotFoundError: ``run.not_found``.
    """
    runs = (get_settings().home / "runs").resolve()
    by_id = (runs / str(run)).resolve()
    folder = by_id if (by_id / "run.json").is_file() else Path(run).resolve()
    if folder.parent != runs or not (folder / "run.json").is_file():
        raise NotFoundError(
            f"No saved run {str(run)!r} under {runs} (`advisor runs list` lists them).",
            code=RUN_NOT_FOUND,
        )
    return folder


def _study_name(folder: Path) -> str | None:
    try:
        name = json.loads((folder / "run.json").read_text()).get("study_name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def folder_bytes(folder: Path) -> int:
    """The size of the files under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def delete_run(run: str | Path) -> DeletedRun:
    """Delete a saved run's folder, and its study from the default storage if no other run uses it.

    Raises:
        NotFoundError: ``run.not_found``, when ``run`` is not a saved run (nothing is removed).
    """
    folder = run_folder(run)
    study = _study_name(folder)
    others = {_study_name(path) for path in folder.parent.iterdir() if path != folder}
    size = folder_bytes(folder)
    shutil.rmtree(folder)
    deleted = None
    if study is not None and study not in others:
        try:
            optuna.delete_study(study_name=study, storage=default_storage_url())
            deleted = study
        except KeyError:  # kept in memory, or removed already
            pass
    return DeletedRun(run_id=folder.name, folder=folder, bytes=size, study=deleted)


def runs_needing_source(name: str) -> list[str]:
    """The saved runs whose model starts from the source ``name`` (scratch runs never do)."""
    needing = []
    for model in sorted((get_settings().home / "runs").glob("*/model")):
        with contextlib.suppress(AdvisorError):  # a damaged model: runs list names it
            if saved_source_name(model) == name:
                needing.append(model.parent.name)
    return needing


def delete_user_source(name: str) -> Path:
    """Delete the source ``name`` a user built under ``$ADVISOR_HOME/sources``; its folder.

    Raises:
        NotFoundError: ``learners.unknown_source`` when the user has no source of that name
            (a name that is a path, ``..`` or ``a/b``, is none).
        ConflictError: ``source.builtin`` for a built-in source the user has no copy of;
            ``source.in_use`` while a saved run's model starts from it (naming the runs:
            delete them first).
    """
    sources = user_sources_dir()
    folder = sources / name
    if Path(name).name != name or name in ("", ".", "..") or not (folder / "source.json").is_file():
        if name in builtin_sources():
            raise ConflictError(f"{name!r} is a built-in source.", code=SOURCE_BUILTIN)
        raise NotFoundError(
            f"You have no source {name!r} (see advisor sources list).", code=UNKNOWN_SOURCE
        )
    if needing := runs_needing_source(name):
        raise ConflictError(
            f"Source {name!r} cannot be deleted: saved runs start from it ({', '.join(needing)}); "
            "delete them first (advisor runs delete RUN).",
            code=SOURCE_IN_USE,
            runs=needing,
        )
    shutil.rmtree(folder)
    return folder
