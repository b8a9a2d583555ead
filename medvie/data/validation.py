"""Data validation of the ingested records with a Great Expectations suite.

The records table gets a few derived columns computed here (label structure, duplicate groups,
split indicators) so that every check, including the Python-side ones, is one GX expectation
with a severity: a failed `critical` one stops the pipeline, a `warning` one is only reported.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

from medvie.data.config import SplitConfig, ValidateConfig
from medvie.data.records import SPLITS, load_records
from medvie.data.split import duplicate_groups
from medvie.errors import DataError

CRITICAL, WARNING = "critical", "warning"
_EXAMPLES = 5


def label_structure(label: Any, known_keys: set[str] | None) -> dict[str, Any]:
    """Python-side checks of one ground-truth label (derived columns of the records table)."""
    if not isinstance(label, dict):
        return {"label_keys": 0, "label_leaves_strings": False, "indicators_ok": False, "unknown_keys": 0}
    leaves_ok, indicators_ok, keys = True, True, set(label)
    for key, value in label.items():
        if key == "Indicators":
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                indicators_ok = False
                continue
            for item in value:
                keys.update(item)
                leaves_ok &= all(isinstance(v, str) for v in item.values())
        else:
            leaves_ok &= isinstance(value, str)
    unknown = len(keys - known_keys) if known_keys is not None else 0
    return {
        "label_keys": len(label),
        "label_leaves_strings": leaves_ok,
        "indicators_ok": indicators_ok,
        "unknown_keys": unknown,
    }


def schema_keys(path: Path) -> set[str] | None:
    """Canonical keys of the schema: every `"key": "<name>"` entry at any depth (None if no file).

    A schema without such entries falls back to every string it holds, so only keys it never
    mentions count as unknown.
    """
    if not path.is_file():
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: invalid JSON at line {exc.lineno} ({exc.msg}); fix the schema file"
        ) from None
    keyed: set[str] = set()
    strings: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("key"), str):
                keyed.add(node["key"])
            for k, v in node.items():
                strings.add(str(k))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            strings.add(node)

    walk(schema)
    return keyed or strings


def _image_ok(rec: dict[str, Any]) -> bool:
    from PIL import Image

    try:
        with Image.open(rec["image_path"]) as im:
            return im.size == (rec.get("width"), rec.get("height"))
    except Exception:  # noqa: BLE001 - any unreadable file is a failed check, reported by id
        return False


def records_table(
    records: list[dict[str, Any]],
    known_keys: set[str] | None,
    max_distance: int,
    fine_distance: int | None = 16,
):
    """The records as a pandas DataFrame with the derived columns the suite checks."""
    import pandas as pd

    rows = []
    for rec in records:
        row = {k: rec.get(k) for k in ("id", "split", "doc_type", "width", "height", "sha256", "phash")}
        row.update(label_structure(rec.get("label"), known_keys))
        row["image_ok"] = _image_ok(rec)
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else ["id", "split", "doc_type", "width", "height"])
    # object dtype makes GX check each value's type; pandas' own string dtype would hide non-strings
    df = df.astype({c: object for c in ("id", "split", "doc_type")})
    if rows:
        hashes_ok = all(isinstance(r.get("sha256"), str) and isinstance(r.get("phash"), str) for r in records)
        fine: list[Any] = [r.get("phash256") for r in records]
        if hashes_ok:
            groups = duplicate_groups(
                [r["sha256"] for r in records],
                [r["phash"] for r in records],
                max_distance,
                fine if fine_distance is not None and all(isinstance(f, str) for f in fine) else None,
                fine_distance or 0,
            )
            df["dup_group"] = groups
            df["dup_group_splits"] = df.groupby("dup_group")["split"].transform("nunique")
        else:
            df["dup_group_splits"] = 0  # fails the check below: hashes are missing
        # a held-out family's reports are all test by construction: split shares count the others
        held_out = [r.get("family_group") == "held_out" for r in records]
        for s in SPLITS:
            df[f"is_{s}"] = (df["split"] == s).astype(float).mask(held_out)
    return df


def _share_bounds(target: float, n: int, tolerance: float) -> tuple[float, float, float]:
    """Allowed share range: `tolerance`, widened to 3 binomial sigma so that tiny data sets
    are not failed by chance."""
    sigma = math.sqrt(target * (1 - target) / n) if n else 1.0
    tol = max(tolerance, 3 * sigma)
    return max(0.0, target - tol), min(1.0, target + tol), tol


def build_suites(df, cfg: ValidateConfig, split_cfg: SplitConfig, known_keys: set[str] | None):
    """(suite over all records, suite over train records) plus each expectation's name."""
    import great_expectations as gx

    n = len(df)
    # split shares count the records outside held-out families: theirs are all test by construction
    n_split = int(df["is_train"].notna().sum()) if "is_train" in df else n
    E = gx.expectations
    specs: list[tuple[str, str, Any]] = [
        ("table_not_empty", CRITICAL, E.ExpectTableRowCountToBeBetween(min_value=1)),
        ("id_not_null", CRITICAL, E.ExpectColumnValuesToNotBeNull(column="id")),
        ("id_unique", CRITICAL, E.ExpectColumnValuesToBeUnique(column="id")),
        (
            "width_in_bounds",
            CRITICAL,
            E.ExpectColumnValuesToBeBetween(column="width", min_value=cfg.min_side, max_value=cfg.max_side),
        ),
        (
            "height_in_bounds",
            CRITICAL,
            E.ExpectColumnValuesToBeBetween(column="height", min_value=cfg.min_side, max_value=cfg.max_side),
        ),
        ("split_in_set", CRITICAL, E.ExpectColumnValuesToBeInSet(column="split", value_set=list(SPLITS))),
        ("split_not_null", CRITICAL, E.ExpectColumnValuesToNotBeNull(column="split")),
        ("doc_type_not_null", CRITICAL, E.ExpectColumnValuesToNotBeNull(column="doc_type")),
        (
            "doc_type_is_string",
            CRITICAL,
            E.ExpectColumnValuesToBeInTypeList(column="doc_type", type_list=["str"]),
        ),
    ]
    if n:
        specs += [
            ("image_readable", CRITICAL, E.ExpectColumnValuesToBeInSet(column="image_ok", value_set=[True])),
            ("label_not_empty", CRITICAL, E.ExpectColumnValuesToBeBetween(column="label_keys", min_value=1)),
            (
                "label_leaves_are_strings",
                CRITICAL,
                E.ExpectColumnValuesToBeInSet(column="label_leaves_strings", value_set=[True]),
            ),
            (
                "indicators_are_objects",
                CRITICAL,
                E.ExpectColumnValuesToBeInSet(column="indicators_ok", value_set=[True]),
            ),
            (
                "no_cross_split_duplicates",
                CRITICAL,
                E.ExpectColumnValuesToBeBetween(column="dup_group_splits", min_value=1, max_value=1),
            ),
            ("no_exact_duplicate_images", WARNING, E.ExpectColumnValuesToBeUnique(column="sha256")),
        ]
        for s in SPLITS:
            lo, hi, _ = _share_bounds(getattr(split_cfg, s), n_split, cfg.split_tolerance)
            specs.append(
                (
                    f"split_share_{s}",
                    CRITICAL,
                    E.ExpectColumnMeanToBeBetween(column=f"is_{s}", min_value=lo, max_value=hi),
                )
            )
        if known_keys is not None:
            specs.append(
                (
                    "label_keys_in_schema",
                    WARNING,
                    E.ExpectColumnValuesToBeBetween(column="unknown_keys", max_value=0),
                )
            )
    main = gx.ExpectationSuite(name="records")
    for name, severity, exp in specs:
        exp.severity = severity
        exp.meta = {"name": name}
        main.add_expectation(exp)
    train = gx.ExpectationSuite(name="train_records")
    if n:
        doc_types = sorted(str(d) for d in df["doc_type"].dropna().unique())
        # typed like the suite's other expectations (`specs`): severity is set as the plain string
        doc_exp: Any = E.ExpectColumnDistinctValuesToContainSet(column="doc_type", value_set=doc_types)
        doc_exp.severity, doc_exp.meta = WARNING, {"name": "every_doc_type_in_train"}
        train.add_expectation(doc_exp)
    return main, train


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def _entry(result, df) -> dict[str, Any]:
    d = result.to_json_dict()
    conf = d["expectation_config"]
    res = d.get("result") or {}
    kwargs = {k: v for k, v in conf["kwargs"].items() if k not in ("batch_id",)}
    examples = []
    if "partial_unexpected_index_list" in res and "id" in df:
        examples = [str(df["id"].iloc[i]) for i in res["partial_unexpected_index_list"][:_EXAMPLES]]
    elif "partial_unexpected_list" in res:
        examples = [str(v) for v in res["partial_unexpected_list"][:_EXAMPLES]]
    elif res.get("partial_missing_list"):
        examples = [str(v) for v in res["partial_missing_list"][:_EXAMPLES]]
    exc = d.get("exception_info") or {}
    return _jsonable(
        {
            "name": (conf.get("meta") or {}).get("name", conf["type"]),
            "severity": conf.get("severity", CRITICAL),
            "success": bool(d["success"]),
            "expectation": conf["type"],
            "kwargs": kwargs,
            "observed": res.get("observed_value"),
            "unexpected_count": res.get("unexpected_count"),
            "examples": examples,
            "error": exc.get("exception_message") if exc.get("raised_exception") else None,
        }
    )


def _gx_context():
    """An in-memory GX context with analytics and progress bars off (suites need one to exist)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _run_suites(context, df, main, train) -> list[dict]:
    batches = context.data_sources.add_pandas("medvie").add_dataframe_asset("records")
    definition = batches.add_batch_definition_whole_dataframe("all")
    fmt = {"result_format": "SUMMARY", "partial_unexpected_count": _EXAMPLES}
    entries = []
    train_df = df[df["split"] == "train"].reset_index(drop=True) if len(df) else df
    for suite, frame in ((main, df), (train, train_df)):
        if not suite.expectations:
            continue
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=fmt
        )
        entries += [_entry(r, frame) for r in result.results]
    return entries


def validate_records(
    directory: str | os.PathLike[str],
    cfg: ValidateConfig,
    split_cfg: SplitConfig,
    *,
    near_duplicate_distance: int = 4,
    near_duplicate_confirm_distance: int | None = 16,
    schema_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run the suite over an ingested data set and return the machine-readable report."""
    records = load_records(directory)
    known = schema_keys(Path(schema_path)) if schema_path is not None else None
    df = records_table(records, known, near_duplicate_distance, near_duplicate_confirm_distance)
    context = _gx_context()
    main, train = build_suites(df, cfg, split_cfg, known)
    entries = _run_suites(context, df, main, train)
    failed_critical = [e["name"] for e in entries if not e["success"] and e["severity"] == CRITICAL]
    failed_warning = [e["name"] for e in entries if not e["success"] and e["severity"] != CRITICAL]
    n = len(records)
    splits = Counter(r.get("split") for r in records)
    return {
        "success": not failed_critical,
        "n_records": n,
        "n_expectations": len(entries),
        "n_passed": sum(e["success"] for e in entries),
        "n_failed_critical": len(failed_critical),
        "n_failed_warning": len(failed_warning),
        "splits": {s: splits.get(s, 0) for s in SPLITS},
        "split_shares": {s: round(splits.get(s, 0) / n, 4) if n else 0.0 for s in SPLITS},
        "doc_types": dict(sorted(Counter(str(r.get("doc_type")) for r in records).items())),
        "schema_checked": known is not None,
        "failed_critical": failed_critical,
        "failed_warning": failed_warning,
        "expectations": entries,
    }


def render_markdown(report: dict[str, Any]) -> str:
    status = "PASSED" if report["success"] else "FAILED"
    lines = [
        f"# Data validation: {status}",
        "",
        f"{report['n_records']} records; "
        f"{report['n_passed']}/{report['n_expectations']} expectations passed; "
        f"{report['n_failed_critical']} critical and {report['n_failed_warning']} warning failures.",
        "",
        "Splits: "
        + ", ".join(f"{s} {report['splits'][s]} ({report['split_shares'][s]:.1%})" for s in SPLITS),
        "",
        "Doc types: " + (", ".join(f"{k} {v}" for k, v in report["doc_types"].items()) or "none"),
        "",
    ]
    if not report["schema_checked"]:
        lines += ["Label keys were not checked against a schema (schema file absent).", ""]
    lines += ["| | expectation | severity | observed / unexpected | examples |", "|---|---|---|---|---|"]
    for e in report["expectations"]:
        mark = "ok" if e["success"] else "FAIL"
        observed = e["observed"] if e["observed"] is not None else e["unexpected_count"]
        if isinstance(observed, float):
            observed = f"{observed:.4g}"
        examples = ", ".join(e["examples"]) if not e["success"] else ""
        lines.append(
            f"| {mark} | {e['name']} | {e['severity']} | {observed if observed is not None else ''} "
            f"| {examples} |"
        )
    return "\n".join(lines) + "\n"


def critical_failures(report: dict[str, Any]) -> list[str]:
    """One phrase per failed critical expectation: its name, the observed value, a few example ids."""
    details = []
    for e in report["expectations"]:
        if not e["success"] and e["severity"] == CRITICAL:
            ex = f": {', '.join(e['examples'][:3])}" if e["examples"] else ""
            obs = f" (observed {e['observed']:.3g})" if isinstance(e["observed"], float) else ""
            details.append(f"{e['name']}{obs}{ex}")
    return details
