"""`stack/` is run from the checkout (`python -m stack`), not installed: import it from there."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
