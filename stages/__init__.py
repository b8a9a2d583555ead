"""DVC stage entry points: `python -m stages.<name>`. Each is a thin composition root."""
