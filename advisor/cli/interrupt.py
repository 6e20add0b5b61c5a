"""Ctrl-C during a tuned run: finish with the trials so far, rather than lose them.

A study of many trials can run for an hour; stopping it early is a decision about the budget,
not a wish to throw the work away. :class:`StopOnInterrupt` turns the first Ctrl-C (SIGINT)
into Optuna's graceful stop — ``study.stop()`` once the running trial has finished, from a
trial callback — so the run goes on to refit the best configuration, save the model and write
its report as after a full budget. A second Ctrl-C aborts at once, as Ctrl-C usually does.
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
