"""The package layout and the one-way import rule of docs/ARCHITECTURE.md."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("meta_features", "learners", "advisor", "api")
# api -> advisor -> learners -> meta_features: each may import only those after it.
ALLOWED = {
    "api": {"api", "advisor", "learners", "meta_features"},
    "advisor": {"advisor", "learners", "meta_features"},
    "learners": {"learners", "meta_features"},
    "meta_features": {"meta_features"},
}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_exists_at_repository_root(package: str) -> None:
    assert (ROOT / package / "__init__.py").is_file()


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_levels(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
    }
    offenders = {path: bad for path, bad in offenders.items() if bad}
    assert offenders == {}, f"imports against the dependency direction: {offenders}"


def test_meta_features_does_not_import_flask_or_the_advisor() -> None:
    code = (
        "import sys, meta_features, meta_features.errors; "
        "print(sorted(m for m in ('flask', 'advisor', 'learners', 'api') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_python_dash_m_advisor_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "advisor", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "datasets" in result.stdout and "demo" in result.stdout


def test_console_script_is_declared() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "automl-advisor"
    assert project["scripts"]["advisor"] == "advisor.cli:main"
    torch = [d for d in project["dependencies"] if d.startswith("torch")]
    assert torch == ["torch>=2.2,<2.14"]
    assert {"dev", "dist"} <= set(project["optional-dependencies"])
