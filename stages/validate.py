"""DVC stage `validate`: data/ingested/ -> reports/validation.{json,md}; fails on a critical expectation."""

import time
from pathlib import Path

from medvie.settings import Params
from stages._common import run


def main(params: Params, root: Path) -> None:
    from medvie.data.validation import run_validation

    start = time.perf_counter()
    report = run_validation(
        root / "data" / "ingested",
        root / "reports",
        params.validate_,
        params.data.split,
        near_duplicate_distance=params.data.near_duplicate_distance,
        near_duplicate_confirm_distance=params.data.near_duplicate_confirm_distance,
        schema_path=root / params.validate_.schema_path,
    )
    print(
        f"validation passed: {report['n_passed']}/{report['n_expectations']} expectations, "
        f"{report['n_failed_warning']} warnings ({time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    run(main)
