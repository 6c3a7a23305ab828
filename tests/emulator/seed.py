#!/usr/bin/env python3
"""Seed a running emulator from a scenario file (YAML or JSON) and print the summary.

    python tests/emulator/seed.py SCENARIO --endpoint http://127.0.0.1:PORT [--no-reset]

By default the emulator is reset first (POST /_guardsync/reset), then the
scenario is POSTed to /_guardsync/seed; the JSON summary goes to stdout.
"""

import argparse
import json
import sys
import urllib.request


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        return json.loads(text)
    import yaml

    return yaml.safe_load(text)


def post(endpoint: str, route: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        endpoint.rstrip("/") + "/_guardsync/" + route, method="POST",
        data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--no-reset", action="store_true")
    args = p.parse_args(argv)
    if not args.no_reset:
        post(args.endpoint, "reset")
    try:
        summary = post(args.endpoint, "seed", load(args.scenario))
    except urllib.error.HTTPError as e:
        sys.stderr.write(e.read().decode() + "\n")
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
