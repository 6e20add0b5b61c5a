from __future__ import annotations

import numpy as np
import pytest

from advisor.datasets import builtin_domains, domain_cards, load_builtin
from advisor.datasets.builtin.cache import cache_key, cached_arrays
from advisor.errors import ConfigurationError, NotFoundError


def test_builtin_domains_lists_every_family() -> None:
    domains = builtin_domains()
    assert set(domains) == {"glyphs", "digits", "tabular"}
    assert "greek" in domains["glyphs"] and domains["digits"] == ["handwritten"]
    assert {"iris", "wine", "breast_cancer"} <= set(domains["tabular"])


def test_cards_match_loaded_datasets() -> None:
    cards = {(c.family, c.domain): c for c in domain_cards()}
    for family, domain in [("glyphs", "numerals"), ("digits", "handwritten"), ("tabular", "iris")]:
        card = cards[(family, domain)]
        ds = load_builtin(family, domain)
        assert card.n_classes == ds.n_classes
        assert card.input_shape == ds.info.input_shape
        assert card.modality == ds.modality


@pytest.mark.parametrize(
    ("args", "error", "code"),
    [
        (("nope", "greek"), NotFoundError, "builtin.unknown_family"),
        (("glyphs", "klingon"), NotFoundError, "builtin.unknown_domain"),
    ],
)
def test_unknown_names(args: tuple[str, str], error: type, code: str) -> None:
    with pytest.raises(error) as caught:
        load_builtin(*args)
    assert caught.value.code == code


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_seed_must_be_a_non_negative_integer(seed: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_builtin("tabular", "iris", seed=seed)  # type: ignore[arg-type]
    assert caught.value.code == "builtin.bad_option"


def test_corrupt_cache_entry_is_rebuilt(advisor_home) -> None:
    key = cache_key({"test": "corrupt"})
    calls = []

    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"a": np.arange(3)}

    assert cached_arrays("test", key, build)["a"].tolist() == [0, 1, 2]
    path = advisor_home / "cache" / "test" / f"{key}.npz"
    assert path.is_file()
    assert cached_arrays("test", key, build)["a"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    path.write_bytes(b"garbage")
    assert cached_arrays("test", key, build)["a"].tolist() == [0, 1, 2]
    assert len(calls) == 2
