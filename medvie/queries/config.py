"""params.yaml section `queries`."""

from medvie.config_base import Section


class QueriesConfig(Section):
    pass
