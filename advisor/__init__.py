"""AutoML Advisor: transfer learning, meta learning, both, or from scratch — for your data.

The advisor measures a labeled dataset, predicts how each learning family will do on it, and
runs the best one with tuned hyper-parameters. See ``README.md`` and ``docs/ARCHITECTURE.md``.

Sub-packages and modules:

* :mod:`advisor.datasets` — loading and validating users' files, the built-in domains, tasks;
* :mod:`advisor.errors` — the exception hierarchy with stable codes;
* :mod:`advisor.settings` — configuration from ``ADVISOR_*`` environment variables;
* :mod:`advisor.cli` — the ``advisor`` command line.
"""

__version__ = "0.1.0"
