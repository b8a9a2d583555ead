"""params.yaml section `reward`."""

from medvie.config_base import Section


class RewardConfig(Section):
    pass
