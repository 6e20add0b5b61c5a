"""The glyphs benchmark: real glyphs only, no look-alike classes, deterministic bytes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.ft2font import FT2Font

from advisor.datasets import load_builtin
from advisor.datasets.builtin.glyphs import SCRIPTS, catalogue
from advisor.datasets.builtin.glyphs.catalogue import (
    DUPLICATE_DISTANCE,
    MIN_WRITERS,
    relative_distance,
)
from advisor.datasets.builtin.glyphs.fonts import writers
from advisor.datasets.builtin.glyphs.render import render_clean
from advisor.errors import ConfigurationError
from advisor.settings import reset_settings

ROOT = Path(__file__).resolve().parents[4]


def _digest(seed: int, domain: str = "greek", **options: object) -> str:
    ds = load_builtin("glyphs", domain, seed=seed, **options)
    digest = hashlib.sha256(ds.X.tobytes())
    digest.update("".join(ds.y.tolist()).encode())
    digest.update(np.asarray(ds.groups).tobytes())
    return digest.hexdigest()


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ADVISOR_CACHE_BUILTIN", "false")
    reset_settings()
    yield
    reset_settings()


def test_every_script_listed_in_the_issue_is_a_domain() -> None:
    domains = set(catalogue().classes)
    required = {
        "latin_upper",
        "latin_lower",
        "numerals",
        "greek",
        "cyrillic",
        "armenian",
        "georgian",
        "hebrew",
        "arabic",
        "math_operators",
        "arrows",
        "box_drawing",
    }
    assert required <= domains
    assert len(domains) >= 14


def test_same_seed_same_bytes_even_without_cache_and_in_another_process(no_cache: None) -> None:
    first = _digest(3, examples_per_class=4)
    assert _digest(3, examples_per_class=4) == first
    code = (
        "import os, hashlib, numpy as np; os.environ['ADVISOR_CACHE_BUILTIN']='false';"
        "from advisor.datasets import load_builtin;"
        "ds = load_builtin('glyphs', 'greek', seed=3, examples_per_class=4);"
        "d = hashlib.sha256(ds.X.tobytes()); d.update(''.join(ds.y.tolist()).encode());"
        "d.update(np.asarray(ds.groups).tobytes()); print(d.hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == first


def test_cache_returns_the_same_bytes_as_rendering(no_cache: None, monkeypatch) -> None:
    rendered = _digest(5, examples_per_class=3)
    monkeypatch.setenv("ADVISOR_CACHE_BUILTIN", "true")
    reset_settings()
    assert _digest(5, examples_per_class=3) == rendered  # fills the cache
    assert _digest(5, examples_per_class=3) == rendered  # reads it back


def test_other_seed_gives_other_images_but_the_same_classes() -> None:
    a = load_builtin("glyphs", "numerals", seed=0, examples_per_class=5)
    b = load_builtin("glyphs", "numerals", seed=1, examples_per_class=5)
    assert (a.classes == b.classes).all()
    assert not np.array_equal(a.X, b.X)


def test_examples_cycle_through_writers_and_augmentation_zero_is_clean() -> None:
    ds = load_builtin("glyphs", "latin_upper", seed=0, examples_per_class=16, augment=0.0)
    by_index = {w.index: w for w in writers()}
    for label in ("A", "Q"):
        rows = np.flatnonzero(ds.y == label)
        writer_ids = ds.groups[rows]
        glyph = next(g for g in catalogue().classes["latin_upper"] if g.char == label)
        assert sorted(writer_ids.tolist()) == sorted(glyph.writers)  # each of 16 fonts once
        for row, writer in zip(rows, writer_ids, strict=True):
            assert np.array_equal(ds.X[row], render_clean(by_index[writer], label, 28))


def test_options_change_size_and_count_and_are_validated() -> None:
    ds = load_builtin("glyphs", "hebrew", seed=0, examples_per_class=3, image_size=32)
    assert ds.X.shape == (3 * ds.n_classes, 32, 32) and ds.X.dtype == np.uint8
    for bad in ({"examples_per_class": 0}, {"augment": 5}, {"colour": "red"}):
        with pytest.raises(ConfigurationError) as caught:
            load_builtin("glyphs", "hebrew", **bad)
        assert caught.value.code == "builtin.bad_option"


@pytest.mark.slow  # renders every class of every domain: ~10 s, the benchmark's core guarantee
def test_no_blank_no_tofu_and_only_glyphs_the_font_has() -> None:
    """Checks the catalogue by an independent route: FreeType's glyph index, not the cmap."""
    fonts = {w.index: w for w in writers()}
    faces = {i: FT2Font(str(w.path)) for i, w in fonts.items()}
    tofu = {
        i: render_clean(
            w, chr(next(cp for cp in range(0x0378, 0x0380) if faces[i].get_char_index(cp) == 0)), 28
        )
        for i, w in fonts.items()
    }
    for domain, glyphs in catalogue().classes.items():
        for glyph in glyphs:
            assert len(glyph.writers) >= MIN_WRITERS
            for writer in glyph.writers:
                assert faces[writer].get_char_index(glyph.codepoint) != 0, (domain, glyph.char)
                image = render_clean(fonts[writer], glyph.char, 28)
                assert (image > 127).sum() >= 4, f"blank {glyph.char!r} in {fonts[writer].name}"
                assert relative_distance(image, tofu[writer]) > DUPLICATE_DISTANCE
        rendered = load_builtin("glyphs", domain, seed=0, examples_per_class=2)
        ink = (rendered.X > 127).reshape(len(rendered), -1).sum(axis=1)
        assert ink.min() >= 2, f"an augmented {domain} image lost its ink"


def test_no_two_classes_render_alike() -> None:
    """Latin A, Greek Alpha and Cyrillic A are one class, kept by the first domain."""
    kept = {g.char: g.domain for glyphs in catalogue().classes.values() for g in glyphs}
    assert kept["A"] == "latin_upper"
    assert "Α" not in kept and "А" not in kept  # Greek Alpha, Cyrillic A
    assert "Σ" in kept and "Ж" in kept and "ث" in kept and "ت" in kept  # distinct letters stay
    dropped = {g.char: g for g in catalogue().dropped if g.reason == "duplicate"}
    assert dropped["Α"].twin == "A" and dropped["А"].twin == "A"
    sans = writers()[0]
    chars = [
        g.char for glyphs in catalogue().classes.values() for g in glyphs if sans.index in g.writers
    ]
    images = np.stack([render_clean(sans, c, 28).ravel() for c in chars]).astype(np.float64)
    norms = (images**2).sum(axis=1)
    distance = np.maximum(norms[:, None] + norms[None] - 2 * images @ images.T, 0) / np.maximum(
        np.maximum.outer(norms, norms), 1e-12
    )
    np.fill_diagonal(distance, np.inf)
    identical = np.argwhere(distance < 1e-9)
    assert identical.size == 0, [(chars[i], chars[j]) for i, j in identical[:10]]


def test_catalogue_candidates_are_letters_numbers_or_symbols() -> None:
    import unicodedata

    for script in SCRIPTS:
        assert all(unicodedata.category(chr(cp))[0] in "LNS" for cp in script.candidates())
    for glyphs in catalogue().classes.values():
        assert len({g.char for g in glyphs}) == len(glyphs)
