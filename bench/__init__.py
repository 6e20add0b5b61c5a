"""Benchmarks; run each as a module from the repository root, e.g. ``python -m bench.learners``.

(Running them as modules keeps ``bench/meta_features.py`` from shadowing the ``meta_features``
package, as a script's own folder would come first on ``sys.path``.)
"""
