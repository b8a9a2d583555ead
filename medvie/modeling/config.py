"""params.yaml section `model`."""

from medvie.config_base import Section


class ModelConfig(Section):
    pass
