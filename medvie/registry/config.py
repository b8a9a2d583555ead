"""params.yaml section `register`."""

from medvie.config_base import Section


class RegisterConfig(Section):
    pass
