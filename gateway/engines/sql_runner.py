"""The SQL engine: run statements in order on a SQLite file, in the job's own process.

``python sql_runner.py DB RESULT_DIR CODE_FILE`` (the gateway runs it by path; it imports only the
standard library). Each row-returning statement becomes the result set ``RESULT_DIR/_<n>.dolphin`` (JSON lines);
an SQLite error goes to stderr with exit code 1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any


def split(code: str) -> list[str]:
    """Split code into complete statements (a ``;`` inside a string literal does not end one)."""
    out, start = [], 0
    for i, ch in enumerate(code):
        if ch == ";" and sqlite3.complete_statement(code[start : i + 1]):
            out.append(code[start : i + 1])
            start = i + 1
    out.append(code[start:])
    return [s.strip() for s in out if s.strip().strip(";").strip()]


def kind(rows: Sequence[Sequence[Any]], i: int) -> str:
    """The Linkis data type of column ``i``: from its first non-null value, else ``string``."""
    for row in rows:
        v = row[i]
        if v is None:
            continue
        if isinstance(v, (bool, int)):
            return "bigint"
        if isinstance(v, float):
            return "double"
        if isinstance(v, bytes):
            return "binary"
        return "string"
    return "string"


def cell(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def main(argv: Sequence[str]) -> None:
    db, out, code_file = argv[1:4]
    with open(code_file, encoding="utf-8") as f:
        code = f.read()
    conn = sqlite3.connect(db, timeout=30)
    n = 0
    try:
        for stmt in split(code):
            cur = conn.execute(stmt)
            if cur.description is None:
                conn.commit()
                print(f"OK, {max(cur.rowcount, 0)} row(s) affected")
                continue
            rows = cur.fetchall()
            conn.commit()
            meta = [
                {"columnName": d[0], "dataType": kind(rows, i), "comment": ""}
                for i, d in enumerate(cur.description)
            ]
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, f"_{n}.dolphin"), "w", encoding="utf-8") as f:
                # JSON lines: a header, then one row a line (the gateway reads a page, not the file)
                f.write(json.dumps({"type": "2", "metadata": meta}) + "\n")
                for row in rows:
                    f.write(json.dumps([cell(v) for v in row]) + "\n")
            print(f"Fetched {len(rows)} row(s) into result set {n}")
            n += 1
    except sqlite3.Error as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.exit(1)
    finally:
        conn.close()


if __name__ == "__main__":
    main(sys.argv)
