"""params.yaml section `text`."""

from medvie.config_base import Section


class TextConfig(Section):
    pass
