"""The Python peers of `npm run bench:compact`: what a Python user would pick to turn the clean
NDJSON copy of the hour into one Parquet file, doing the same work as the benchmark's floor
(DuckDB's sorted COPY): parse with explicit column types, sort like a unit (restaurant_id,
event_time, event_id), write ZSTD Parquet. No validation, no dedupe.

  python3 bench/peers.py pyarrow|polars <ndjson> <out.parquet>
      prints one JSON line: {"ms", "cpuSeconds", "maxRssMB", "outBytes", "rows"}
  python3 bench/peers.py check pyarrow|polars
      prints {"version": "..."} or {"missing": "pip install ..."}

The column types follow the anchor's (the table spec's DuckDB types): VARCHAR -> string,
INTEGER -> int32, BIGINT -> int64, TIMESTAMPTZ -> timestamp[ms, UTC] parsed from the RFC 3339
event_time (both readers take offsets). One exception: `attributes` is a MAP(VARCHAR, VARCHAR)
in DuckDB, but neither pyarrow's JSON reader nor polars converts a JSON object to a map, so both
read it as a struct of the keys the synthetic tracker sends (src/synth/clickstream.ts: table, qr).
"""
import json
import os
import resource
import sys
import time

SORT_KEYS = ["restaurant_id", "event_time", "event_id"]
ATTRIBUTE_KEYS = ["table", "qr"]

# (name, type) in the table's column order; the types are named once and mapped per library.
COLUMNS = [
    ("event_id", "string"), ("event_type", "string"), ("event_time", "timestamp"),
    ("session_id", "string"), ("anonymous_id", "string"), ("restaurant_id", "string"),
    ("menu_id", "string"), ("section", "string"), ("section_index", "int32"),
    ("item_id", "string"), ("item_name", "string"), ("price_cents", "int64"),
    ("position", "int32"), ("scroll_depth_pct", "int32"), ("viewport", "viewport"),
    ("user_agent", "string"), ("page_url", "string"), ("referrer", "string"),
    ("locale", "string"), ("app_version", "string"), ("attributes", "attributes"),
]


def pyarrow_peer(ndjson, out):
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    types = {
        "string": pa.string(), "int32": pa.int32(), "int64": pa.int64(),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "viewport": pa.struct([("width", pa.int32()), ("height", pa.int32())]),
        "attributes": pa.struct([(k, pa.string()) for k in ATTRIBUTE_KEYS]),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")

    def work():
        table = pj.read_json(ndjson, parse_options=options)
        table = table.sort_by([(k, "ascending") for k in SORT_KEYS])
        pq.write_table(table, out, compression="zstd")
        return table.num_rows

    return work


def polars_peer(ndjson, out):
    import polars as pl

    types = {
        "string": pl.String, "int32": pl.Int32, "int64": pl.Int64,
        "timestamp": pl.Datetime("ms", "UTC"),
        "viewport": pl.Struct({"width": pl.Int32, "height": pl.Int32}),
        "attributes": pl.Struct({k: pl.String for k in ATTRIBUTE_KEYS}),
    }
    schema = {name: types[kind] for name, kind in COLUMNS}

    def work():
        frame = pl.read_ndjson(ndjson, schema=schema)
        frame = frame.sort(SORT_KEYS)
        frame.write_parquet(out, compression="zstd")
        return frame.height

    return work


PEERS = {"pyarrow": pyarrow_peer, "polars": polars_peer}


def check(peer):
    try:
        module = __import__(peer)
    except ImportError:
        return {"missing": f"pip install {peer}"}
    return {"version": module.__version__}


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(peer, ndjson, out):
    """Times the read, sort and write only (imports and schema building come before the timer)."""
    work = PEERS[peer](ndjson, out)
    cpu = cpu_seconds()
    started = time.perf_counter()
    rows = work()
    ms = (time.perf_counter() - started) * 1000
    return {
        "ms": ms,
        "cpuSeconds": cpu_seconds() - cpu,
        # ru_maxrss is KiB on Linux; decimal MB like the Node children
        "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "outBytes": os.path.getsize(out),
        "rows": rows,
    }


def main(argv):
    if len(argv) == 2 and argv[0] == "check" and argv[1] in PEERS:
        result = check(argv[1])
    elif len(argv) == 3 and argv[0] in PEERS:
        result = run(*argv)
    else:
        sys.exit(f"usage: peers.py {'|'.join(PEERS)} <ndjson> <out.parquet>, or peers.py check {'|'.join(PEERS)}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
