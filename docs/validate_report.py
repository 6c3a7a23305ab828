#!/usr/bin/env python3
"""Validate guardsync JSON reports against the report schema.

    python docs/validate_report.py SCHEMA REPORT...

SCHEMA is docs/report.schema.json; each REPORT is the output of
`guardsync plan --format json` or `guardsync apply --format json` ('-' reads
standard input). The schema itself is checked first (JSON Schema draft
2020-12). Exit status: 0 when every report validates, 1 when a report does
not (each problem on stderr as FILE: PATH: message, PATH a JSON path such as
$.targets[3].status), 2 on a usage error, an unreadable file, bad JSON or an
invalid schema. Needs the `jsonschema` package (4.x).
"""

import json
import sys

USAGE = "usage: validate_report.py SCHEMA REPORT..."

# At most this many problems are printed per report (all are counted).
MAX_SHOWN = 20


def json_path(parts) -> str:
    """`$.a[0].b` from a jsonschema error path (keys and indexes)."""
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.isidentifier():
            out += f".{p}"
        else:
            out += "[" + json.dumps(p) + "]"
    return out


def load(path: str, what: str):
    """The JSON in `path` ('-' is stdin), or exit 2 naming the file."""
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        fail(f"{path}: cannot read the {what}: {e.strerror or e}")
    except (ValueError, UnicodeDecodeError) as e:
        fail(f"{path}: the {what} is not JSON: {e}")


def fail(message: str, code: int = 2):
    print(f"validate_report: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        import jsonschema
        from jsonschema import Draft202012Validator
    except ImportError:
        fail("the jsonschema package is not installed (pip install jsonschema)")

    schema_path, reports = argv[0], argv[1:]
    schema = load(schema_path, "schema")
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        fail(f"{schema_path}: not a valid draft 2020-12 schema: "
             f"{json_path(e.absolute_path)}: {e.message}")
    validator = Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    bad = 0
    for path in reports:
        report = load(path, "report")
        errors = sorted(validator.iter_errors(report),
                        key=lambda e: (list(map(str, e.absolute_path)), e.message))
        if not errors:
            print(f"{path}: valid")
            continue
        bad += 1
        for e in errors[:MAX_SHOWN]:
            # anyOf/oneOf: the branch that says most.
            if e.context:
                e = jsonschema.exceptions.best_match(e.context)
            print(f"{path}: {json_path(e.absolute_path)}: {e.message}", file=sys.stderr)
        if len(errors) > MAX_SHOWN:
            print(f"{path}: ... and {len(errors) - MAX_SHOWN} more problems",
                  file=sys.stderr)
        print(f"{path}: INVALID ({len(errors)} problem{'s' if len(errors) != 1 else ''})",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
