import doctest
import importlib

import pytest

MODULES = ["normalize", "parse", "flatten", "match", "reward", "registry", "metrics", "ted"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"medvie.rewards.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
