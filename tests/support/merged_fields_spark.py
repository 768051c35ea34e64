"""Spark (the engine of Glue ETL jobs) on the lines of tests/merged_fields.rs, one local session.

    python merged_fields_spark.py LINES UNGUARDED_LINES GLUE_COLUMNS_JSON OUT_DIR VARYING_LINES \
        VARIANT_LINES UNGUARDED_VARIANT_LINES

LINES are the CLI's lines with MERGE_COLUMNS; UNGUARDED_LINES the same events merged without it.
VARIANT_LINES (and UNGUARDED_VARIANT_LINES) are the lines of the messages that spell every
declared column five ways, one spelling per message.
GLUE_COLUMNS_JSON is the Glue table's columns ([[name, glue type], ...]: the template's line
schema and the declared ones). Spark matches a line's keys to the columns of a given schema by
exact spelling, where Athena's SerDes match them ignoring case. Prints one JSON object:

- explicit: LINES read as a Glue ETL job reads the table, spark.read.schema(<Glue schema>).json:
  rows, and every value of a Glue column that differs from what Athena's SerDes read (the value
  of the line's key equal to the column ignoring case), as [line, column, athena, spark];
  non_null: per declared column, the rows where Spark read a value.
- inferred: VARIANT_LINES read with Spark's own schema inference, spark.read.json: the
  top-level columns, or the error (COLUMN_ALREADY_EXISTS when one key is spelt two ways across
  lines); corpus: the same for LINES, whose undeclared keys are spelt several ways.
- unguarded: the same two reads of UNGUARDED_LINES, the control that each check can fail; the
  explicit read takes every declared column as a string there, since a value Spark cannot parse
  as a timestamp (`2025-11-28 03:19:00,123+0000`) fails the whole read, not just its row, and
  the control is about keys.
- varying: VARYING_LINES (events whose nested keys differ only in case) read with inference:
  the fields inferred under `headers`, and the values read.
- seconds: the session's start and the whole run.
"""

import json
import sys
import time
from pathlib import Path

START = time.monotonic()

from pyspark.sql import SparkSession  # noqa: E402  (timed with the session)
from pyspark.sql import functions as F  # noqa: E402

GLUE_TO_SPARK = {
    "string": "string",
    "bigint": "bigint",
    "int": "int",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "map<string,string>": "map<string,string>",
}


def first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0]


def ddl(glue: list) -> str:
    return ", ".join(f"`{n}` {GLUE_TO_SPARK[t]}" for n, t in glue)


def micros(text: str) -> str:
    """A written timestamp, `YYYY-MM-DD HH:MM:SS[.f]`, at Spark's precision (microseconds)."""
    date, _, frac = text.partition(".")
    return f"{date}.{(frac + '000000')[:6]}"


def athena_value(line: dict, column: str, glue_type: str):
    """What Athena's SerDes read into the column: the (last) key equal to it ignoring case."""
    value = None
    for key, v in line.items():
        if key.lower() == column:
            value = v
    if glue_type == "string" and value is not None and not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"))
    if glue_type == "timestamp" and isinstance(value, str):
        return micros(value)
    if glue_type == "double" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def read_explicit(spark, path: str, glue: list) -> dict:
    df = spark.read.schema(ddl(glue)).json(path)
    # Timestamps as text in the session's zone (UTC): no local-zone conversion in Python.
    df = df.select(*[
        F.date_format(F.col(n), "yyyy-MM-dd HH:mm:ss.SSSSSS").alias(n) if t == "timestamp" else F.col(n)
        for n, t in glue
    ])
    rows = {r["id"]: r.asDict(recursive=True) for r in df.collect()}
    lines = [json.loads(t) for t in Path(path).read_text().splitlines()]
    mismatches = []
    non_null = {n: 0 for n, _ in glue[8:]}
    for i, line in enumerate(lines):
        row = rows.get(line["id"], {})
        for name, glue_type in glue:
            want, got = athena_value(line, name, glue_type), row.get(name)
            if got != want:
                mismatches.append([i, name, want, got])
            if got is not None and name in non_null:
                non_null[name] += 1
    return {"rows": len(rows), "mismatches": mismatches, "non_null": non_null}


def read_inferred(spark, path: str) -> dict:
    try:
        return {"columns": spark.read.json(path).columns, "error": None}
    except Exception as e:  # AnalysisException; its module moved between Spark versions
        return {"columns": None, "error": first_line(e)}


def main() -> None:
    lines, unguarded, glue_json, out_dir, varying, variants, unguarded_variants = sys.argv[1:8]
    glue = json.loads(Path(glue_json).read_text())
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("cwl-firehose-merged-fields")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.showConsoleProgress", "false")
        # A short-lived JVM: the first JIT tier only, and the smallest collector.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.local.dir", out_dir)
        .config("spark.sql.warehouse.dir", str(Path(out_dir) / "warehouse"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    seconds = {"session": time.monotonic() - START}

    def timed(name: str, read):
        at = time.monotonic()
        value = read()
        seconds[name] = time.monotonic() - at
        return value

    string_declared = glue[:8] + [[n, "string"] for n, _ in glue[8:]]
    try:
        result = {
            "explicit": timed("explicit", lambda: read_explicit(spark, lines, glue)),
            "inferred": timed("inferred", lambda: read_inferred(spark, variants)),
            "corpus_inferred": timed("corpus_inferred", lambda: read_inferred(spark, lines)),
            "unguarded": {
                "explicit": timed("unguarded", lambda: read_explicit(spark, unguarded, string_declared)),
                "inferred": timed("unguarded_inferred", lambda: read_inferred(spark, unguarded_variants)),
            },
        }

        def read_varying():
            df = spark.read.json(varying)
            return {
                "headers_fields": df.schema["headers"].dataType.fieldNames(),
                "headers": [r["headers"].asDict() for r in df.select("headers").collect()],
            }

        result["varying"] = timed("varying", read_varying)
    finally:
        spark.stop()
    seconds["total"] = time.monotonic() - START
    result["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
