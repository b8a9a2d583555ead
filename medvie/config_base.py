"""Base class for every params.yaml section, and the YAML reader every params file goes through."""

import re
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where `1e-4` and `5e-05` (as `dvc exp run -S` writes them) are strings,
    so a learning rate would reach the optimizer as text. This loader reads them as YAML 1.2 floats."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load` with YAML 1.2 floats.

    >>> load_yaml("lr: 5e-05\\nb: 1.0e-4\\nn: 3\\nname: 1e4x")
    {'lr': 5e-05, 'b': 0.0001, 'n': 3, 'name': '1e4x'}
    """
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
