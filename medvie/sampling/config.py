"""params.yaml section `sampling`."""

from medvie.config_base import Section


class SamplingConfig(Section):
    pass
