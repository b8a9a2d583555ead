"""medvie: teach a vision-language model to extract fields from medical reports as JSON.

The library is importable without Prefect or DVC; `stages/` and `flows/` compose it.
"""

__version__ = "0.1.0"
