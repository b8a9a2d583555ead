"""params.yaml sections `warmstart` and `train`."""

from medvie.config_base import Section


class WarmstartConfig(Section):
    pass


class TrainConfig(Section):
    pass
