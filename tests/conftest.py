"""Test-wide fixtures: every test session gets its own empty ADVISOR_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from advisor.recommender import model
from advisor.settings import reset_settings


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One torch thread per test process: pytest-xdist runs a process per core, and two
    processes of two threads each on two cores make torch's thread pools wait on each other
    (operations slow down tenfold)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session", autouse=True)
def advisor_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ADVISOR_HOME at a fresh directory, so tests never touch the user's home."""
    home = tmp_path_factory.mktemp("advisor-home")
    previous = os.environ.get("ADVISOR_HOME")
    os.environ["ADVISOR_HOME"] = str(home)
    reset_settings()
    yield home
    if previous is None:
        os.environ.pop("ADVISOR_HOME", None)
    else:
        os.environ["ADVISOR_HOME"] = previous
    reset_settings()


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ADVISOR_HOME for one test alone: its runs, studies and local knowledge base
    reach no other test."""
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    reset_settings()
    yield tmp_path / "home"
    monkeypatch.undo()
    reset_settings()


@pytest.fixture(scope="module")
def quick_boosting() -> Iterator[None]:
    """The recommender's regressors boosted for 60 rounds at a learning rate of 0.25 (instead of
    300 at 0.05: about as far, with five times fewer trees), for a module of tests of the
    recommender's logic on synthetic knowledge bases. A recommender fits a hundred-odd of them
    (meta-model, grouped calibration, family choice), each costing about a millisecond per tree
    whatever the rows, so these tests took minutes of the suite's time. What they check holds
    for either size; the tests on the shipped knowledge base use the shipped settings and trees.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "ROUNDS", 60)
        patch.setattr(model, "LEARNING_RATE", 0.25)
        yield
