"""Shared fixtures of the learners tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run a test on one intra-op thread, then restore the thread count.

    The meta-learning tests train tiny networks: thread hand-offs cost more than they save, and
    on a busy 2-core machine two spinning threads per process made a 1.6 s test take 35 s.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
