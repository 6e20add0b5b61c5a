"""A tuned run cut short: finish with the trials so far, or continue them later.

A study of many trials can run for an hour; stopping it early is a decision about the budget,
not a wish to throw the work away. :class:`StopOnInterrupt` turns the first Ctrl-C (SIGINT)
into Optuna's graceful stop — ``study.stop()`` once the running trial has finished, from a
trial callback — so the run goes on to refit the best configuration, save the model and write
its report as after a full budget. A second Ctrl-C aborts at once, as Ctrl-C usually does.

A run killed outright (a closed terminal, ``kill -9``, a crash) leaves its trials in the Optuna
storage. ``advisor run`` names its study before it starts, and ``advisor run DATA --study
NAME`` continues it: :func:`continue_study` counts the trials done against the budget and
marks failed the trial the dead process left running; ``learners.tuning`` refuses a study
that was tuning another family or other data (``learners.study_mismatch``).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import optuna

STOPPING = (
    "\nStopping after the running trial: the run finishes with the trials so far "
    "(Ctrl-C again aborts)."
)


class StopOnInterrupt:
    """A context that makes Ctrl-C stop a study after its running trial; an Optuna callback.

    Use it as ``with StopOnInterrupt() as stop: advisor.run(..., callbacks=[stop])``. Outside
    the main thread, where signals cannot be caught, it does nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None
        self._installed = False

    def __enter__(self) -> StopOnInterrupt:
        try:
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
            self._installed = True
        except ValueError:  # not the main thread
            self._installed = False
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        click.echo(STOPPING, err=True)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """After each trial: end the study if Ctrl-C was pressed."""
        if self.requested:
            study.stop()


def continue_study(name: str, budget: int | None) -> tuple[int | None, int, str | None]:
    """The trials of ``budget`` still to run in the study ``name``, those done, its metric.

    The metric is the one the study was tuning for (``None`` for a new study). A study not in
    the storage has done none. One that is, was left by a run cut short: its trials still
    marked running belong to a process that has died (``advisor run`` tunes in one process),
    and are marked failed so that they neither count nor linger.
    """
    import optuna  # noqa: PLC0415 - only the commands that tune import it

    from learners.tuning import default_storage_url, recorded_metric  # noqa: PLC0415

    try:
        study = optuna.load_study(study_name=name, storage=default_storage_url())
    except KeyError:
        return budget, 0, None
    state = optuna.trial.TrialState
    for trial in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        study.tell(trial.number, state=state.FAIL)
    done = len(study.get_trials(deepcopy=False, states=(state.COMPLETE, state.PRUNED)))
    return (None if budget is None else max(0, budget - done)), done, recorded_metric(study)
