"""The recommender's fit shipped beside the built-in knowledge base, and how to remake it.

A :class:`~advisor.recommender.Recommender` on a knowledge base computes four things before
its first recommendation: the meta-model's grouped calibration residuals, the family choice's
cross-validation, and two sets of boosted regressors (the meta-model's and the choice's) — all
four from nothing took 2 min 40 s on 2 cores for the shipped knowledge base (``time python -m
advisor.recommender.shipped``, docs/BENCHMARKS.md, "Recommendation latency"). Each is kept in
``ADVISOR_HOME``'s cache after the first process, and the package ships all four beside
``kb.parquet`` (``residuals-*.npz``, ``choice-*.json``, ``forest-*.npz``, ``leads-*.npz``), so
that no fresh installation, service worker or home spends them.

After the knowledge base changes (``advisor kb build`` into ``advisor/data/kb/``), a maintainer
remakes them with ``python -m advisor.recommender.shipped``; a test fails while they are stale
(``tests/advisor/recommender/test_shipped_calibration.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.kb.store import SHIPPED, read_kb
from advisor.recommender.forest import shipped_file
from advisor.recommender.recommend import Recommender

KINDS = ("residuals", "choice", "forest", "leads")
"""The prefixes of the files a recommender's fit leaves in its cache."""


def shipped_name(cached: str) -> str:
    """A cache file's name as shipped: the fitted trees lose scikit-learn's release.

    ``forest-<data>-<settings>-sklearn1.9.1.npz`` → ``forest-<data>-<settings>.npz``; the
    calibration files (``residuals-*``, ``choice-*``) keep their names.
    """
    stem, marker, _release = cached.rpartition("-sklearn")
    return shipped_file(stem) if marker else cached


def remake(kb_path: Path = SHIPPED) -> list[Path]:
    """Fit a recommender on the knowledge base at ``kb_path`` from nothing; ship its files.

    Every file of :data:`KINDS` beside ``kb_path`` is replaced by the fresh fit's (stale ones
    are removed). Returns the files written.
    """
    folder = kb_path.parent
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch)
        Recommender(read_kb(kb_path), cache=cache)
        made = sorted(p for p in cache.iterdir() if p.name.split("-", 1)[0] in KINDS)
        for old in folder.iterdir():
            if old.name.split("-", 1)[0] in KINDS:
                old.unlink()
        written = []
        for path in made:
            target = folder / shipped_name(path.name)
            shutil.copyfile(path, target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m advisor.recommender.shipped [KB]``: remake the files shipped beside a KB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kb", nargs="?", type=Path, default=SHIPPED, help="kb.parquet to fit on")
    arguments = parser.parse_args(argv)
    print(
        f"Fitting a recommender on {arguments.kb} from nothing (about 3 minutes on 2 cores "
        "for the shipped knowledge base)…",
        file=sys.stderr,
    )
    try:
        written = remake(arguments.kb)
    except AdvisorError as error:  # no knowledge base there, or a damaged one
        print(f"error [{error.code}]: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
