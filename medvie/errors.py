"""User-facing errors: one line that names the file/record and says how to fix it."""


class MedvieError(Exception):
    """An error the user can fix. Its message is printed as one line, without a traceback."""


class ConfigError(MedvieError):
    """A wrong key or value in params.yaml (or another config file)."""


class DataError(MedvieError):
    """Bad input data: a record, an image, a labels file."""
