"""DuckDB on the lines of tests/merged_fields.rs, in one process (each start costs a second).

    python merged_fields_duckdb.py LINES UNGUARDED_LINES GLUE_COLUMNS_JSON OUT_DIR VARYING_LINES

LINES are the function's lines with MERGE_COLUMNS; UNGUARDED_LINES the same events merged
without it. GLUE_COLUMNS_JSON is the Glue table's columns ([[name, glue type], ...]: the
template's line schema and the declared ones). Prints one JSON object:

- auto: DuckDB's own reading (read_ndjson, types inferred): the columns and the row count.
- parquet: the lines as Firehose's Parquet conversion takes them - first what its OpenX
  deserializer does with a line (every key lowercased, and a key twice in one object is a
  "Duplicate key" failure of the whole record), then the Glue schema given explicitly to DuckDB
  (whose own key matching is exact), written with COPY ... (FORMAT parquet) and read back: rows,
  distinct ids, and every declared value that differs from the line.
- exact_mismatches: LINES as they are (no lowercasing) read with the Glue schema: DuckDB, like
  Spark, matches keys to columns by exact spelling; every declared value that differs from the
  parquet step's (what the SerDes read), as [id, column, serde, exact].
- unguarded_error: the same conversion of UNGUARDED_LINES (null if it worked).
- varying: VARYING_LINES (events whose nested keys differ only in case) read by DuckDB's
  inference (its error), with the Glue schema, and with maximum_depth=1 (rows).
- control: lines as the function wrote them before the key rule, so the test shows that each
  check above can fail: an empty key (DuckDB reads the line as one MAP value), nested keys
  equal ignoring case (DuckDB refuses the file), and the issue's line (the OpenX step fails).
"""

import datetime
import decimal
import json
import sys
from pathlib import Path

import duckdb

GLUE_TO_DUCKDB = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def columns_arg(glue: list) -> str:
    return "{" + ", ".join(f"{sql_str(n)}: {sql_str(GLUE_TO_DUCKDB[t])}" for n, t in glue) + "}"


def describe(con, source: str) -> list:
    return [[r[0], r[1]] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]


class DuplicateKey(Exception):
    pass


def openx(text: str) -> str:
    """A line as the OpenX JSON SerDe (case.insensitive, its default) reads it: every key of
    every object lowercased (Java's String.toLowerCase; Python's str.lower is the same Unicode
    mapping), a duplicate an error. Numbers keep their text."""

    def pairs(items):
        out = {}
        for k, v in items:
            k = k.lower()
            if k in out:
                raise DuplicateKey(f"Duplicate key {k!r}")
            out[k] = v
        return out

    def dump(v):
        if isinstance(v, dict):
            return "{" + ",".join(json.dumps(k) + ":" + dump(x) for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(dump(x) for x in v) + "]"
        if isinstance(v, decimal.Decimal):
            return str(v)
        return json.dumps(v)

    return dump(json.loads(text, object_pairs_hook=pairs, parse_float=decimal.Decimal))


def openx_file(src: str, dst: Path) -> str:
    dst.write_text("".join(openx(t) + "\n" for t in Path(src).read_text().splitlines()))
    return str(dst)


def line_value(glue_type: str, v):
    """What a declared column should hold, from the value the line wrote."""
    if v is None or glue_type != "timestamp":
        return v
    # "YYYY-MM-DD HH:MM:SS[.f]" (UTC); DuckDB keeps microseconds.
    date, _, frac = v.partition(".")
    dt = datetime.datetime.strptime(date, "%Y-%m-%d %H:%M:%S")
    return dt + datetime.timedelta(microseconds=int((frac + "000000")[:6]) if frac else 0)


def main() -> None:
    lines, unguarded, glue_json, out_dir, varying = sys.argv[1:6]
    glue = json.loads(Path(glue_json).read_text())
    out = Path(out_dir)
    con = duckdb.connect()
    result = {}

    auto = f"read_ndjson({sql_str(lines)})"
    result["auto"] = {
        "columns": describe(con, auto),
        "count": con.execute(f"SELECT count(*) FROM {auto}").fetchone()[0],
    }

    envelope = '"timestamp":1764300000000,"id":"1","message":"{}","log_group":"/g","log_stream":"s","owner":"1"'
    empty = out / "control-empty.ndjson"
    empty.write_text("{" + envelope + ',"":2}\n')
    nested = out / "control-nested.ndjson"
    nested.write_text("{" + envelope + ',"user":{"ID":1,"id":2}}\n')
    result["control"] = {"empty_key": describe(con, f"read_ndjson({sql_str(str(empty))})")}
    try:
        describe(con, f"read_ndjson({sql_str(str(nested))})")
        result["control"]["nested_duplicate"] = None
    except duckdb.Error as e:
        result["control"]["nested_duplicate"] = str(e).splitlines()[0]
    try:
        openx("{" + envelope + ',"Message":"x","ID":5,"level":"a","Level":"b","Timestamp":"t"}')
        result["control"]["issue_line_openx"] = None
    except DuplicateKey as e:
        result["control"]["issue_line_openx"] = str(e)

    lowered_lines = openx_file(lines, out / "openx.ndjson")
    explicit = f"read_ndjson({sql_str(lowered_lines)}, columns={columns_arg(glue)})"
    parquet = out / "lines.parquet"
    con.execute(f"COPY (SELECT * FROM {explicit}) TO {sql_str(str(parquet))} (FORMAT parquet)")
    back = f"read_parquet({sql_str(str(parquet))})"
    names = [n for n, _ in glue]
    rows = con.execute(f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {back}").fetchall()
    by_id = {r[names.index("id")]: dict(zip(names, r)) for r in rows}
    declared = glue[8:]
    mismatches = []
    values = {}
    for text in Path(lowered_lines).read_text().splitlines():
        line = json.loads(text)
        row = by_id.get(line["id"])
        for name, glue_type in declared:
            want = line_value(glue_type, line.get(name))
            got = None if row is None else row[name]
            if got != want:
                mismatches.append([line["id"], name, repr(want), repr(got)])
        values[line["id"]] = {n: (str(row[n]) if row and row[n] is not None else None)
                              for n, _ in declared}
    exact = f"read_ndjson({sql_str(lines)}, columns={columns_arg(glue)})"
    exact_mismatches = []
    for r in con.execute(f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM {exact}").fetchall():
        row = dict(zip(names, r))
        serde = by_id.get(row["id"], {})
        for name, _ in declared:
            if serde.get(name) != row[name]:
                exact_mismatches.append([row["id"], name, repr(serde.get(name)), repr(row[name])])
    result["exact_mismatches"] = exact_mismatches
    result["parquet"] = {
        "columns": describe(con, back),
        "rows": len(rows),
        "distinct_ids": con.execute(f"SELECT count(DISTINCT id) FROM {back}").fetchone()[0],
        "mismatches": mismatches,
        "values": values,
    }

    try:
        unguarded = openx_file(unguarded, out / "openx-unguarded.ndjson")
        # COPY converts every value (a count alone would not read them).
        con.execute(f"COPY (SELECT * FROM read_ndjson({sql_str(unguarded)}, columns={columns_arg(glue)})) "
                    f"TO {sql_str(str(out / 'unguarded.parquet'))} (FORMAT parquet)")
        result["unguarded_error"] = None
    except duckdb.Error as e:
        result["unguarded_error"] = str(e).splitlines()[0]

    result["varying"] = {}
    try:
        describe(con, f"read_ndjson({sql_str(varying)})")
        result["varying"]["auto_error"] = None
    except duckdb.Error as e:
        result["varying"]["auto_error"] = str(e).splitlines()[0]
    varying_openx = openx_file(varying, out / "openx-varying.ndjson")
    result["varying"]["explicit_rows"] = con.execute(
        f"SELECT count(*) FROM read_ndjson({sql_str(varying_openx)}, columns={columns_arg(glue)})").fetchone()[0]
    result["varying"]["depth1_rows"] = con.execute(
        f"SELECT count(*) FROM read_ndjson({sql_str(varying)}, maximum_depth=1)").fetchone()[0]

    print(json.dumps(result))


if __name__ == "__main__":
    main()
