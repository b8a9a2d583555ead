"""params.yaml section `evaluate`."""

from medvie.config_base import Section


class EvaluateConfig(Section):
    pass
