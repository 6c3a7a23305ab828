"""The latency-bound benchmark (issue #7): a generated organization in the
emulator, a fixed latency injected into every call, and guardsync's wall
time compared with the lower bound that its calls, the latency, the
concurrency and each target's dependency chain allow.

Run it with scripts/bench-latency (which builds the binary and the venv).

Three runs per probe mode: the first plan (an organization where guardsync
has put nothing yet), then, after an apply, a steady-state plan and a
steady-state apply (nothing to change).

The bound:
  chain = 2                                  manifest, then its list object (organization id and bucket policy alongside)
        + ceil(A/20) + 1                     ListAccounts pages (each region's ListDetectors alongside the first),
                                             then the last page's GetMembers
        + (3 if any role is needed else 0)   AssumeRole, the probe's ListDetectors, GetAdministratorAccount
        + 2                                  ListThreatIntelSets then GetThreatIntelSet (filters and alerts alongside)
        + (3 for apply)                      the lease before, the run record and the lease's release after
  (the first plan: 1 for the manifest, which is not there yet, and 1 for the
  sets, since there is no set to read)
  bound = max(chain * latency, calls * latency / concurrency)
The emulator's own time per call (moto is one Python process) is measured
separately, with no latency injected, and reported beside the ratio: the
emulator's CPU time over the run is a floor of its own, which the bound does
not count (the last column). guardsync's own CPU time (user + system) in
the runs with latency is given too: on this machine, its two cores serve
both guardsync and the emulator.
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "ap-northeast-1"]
ADMIN = "111111111111"
MGMT = "999999999999"


def scenario(accounts: int, regions: list[str]) -> tuple[str, dict]:
    """A scenario with `accounts` accounts besides the administrator and the
    management account: 85% associated members, 10% standalone, 5% without
    GuardDuty; and the shape numbers the bound needs."""
    ids = [f"{200000000000 + i:012d}" for i in range(1, accounts + 1)]
    standalone = ids[: accounts // 10]
    gaps = ids[accounts // 10: accounts // 10 + accounts // 20]
    members = ids[len(standalone) + len(gaps):]
    lines = [
        "organization:",
        f'  management_account: "{MGMT}"',
        '  ous: ["Security", "Workloads"]',
        "  accounts:",
        f'    - {{id: "{MGMT}", name: management}}',
        f'    - {{id: "{ADMIN}", name: security, ou: Security}}',
    ]
    lines += [f'    - {{id: "{a}", name: a{i}, ou: Workloads}}' for i, a in enumerate(ids)]
    rs = "[" + ", ".join(regions) + "]"
    lines += ["guardduty:", f'  admin_account: "{ADMIN}"', "  detectors:", f'    "{ADMIN}": {rs}']
    lines += [f'    "{a}": {rs}' for a in members + standalone]
    lines += ["  members:"]
    enabled = "{" + ", ".join(f"{r}: Enabled" for r in regions) + "}"
    lines += [f'    "{a}": {enabled}' for a in members]
    lines += ["buckets:", f'  - {{name: org-threat-lists-{ADMIN}, region: us-east-1, account: "{ADMIN}"}}']
    shape = {
        "listed": accounts + 2,
        "regions": len(regions),
        "roles": len(standalone) + len(gaps) + 1,  # + the management account
        "standalone": len(standalone),
        "targets": (accounts + 2) * len(regions),
    }
    return "\n".join(lines) + "\n", shape


def control(endpoint: str, path: str, body: dict | None = None, method: str = "POST") -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{endpoint}/_guardsync/{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        text = r.read()
    return json.loads(text) if text.strip() else {}


def bound(shape: dict, calls: int, latency: float, concurrency: int, apply: bool, probe_all: bool,
          first: bool = False) -> float:
    roles = shape["roles"] > 0 or probe_all
    reads = 1 if first else 2
    chain = (reads + math.ceil(shape["listed"] / 20) + 1
             + (3 if roles else 0) + reads + (3 if apply else 0))
    return max(chain * latency, calls * latency / concurrency)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (the emulator)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """User + system CPU time of this script's finished children (guardsync's runs)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(binary: str, env: dict, command: str, config: Path) -> tuple[float, dict, float]:
    """One run of guardsync: its wall time, its JSON report and its own CPU time."""
    cpu = children_cpu()
    start = time.monotonic()
    out = subprocess.run([binary, command, "--config", str(config), "--format", "json", "-q"],
                         env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"{command} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return wall, json.loads(out.stdout), children_cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "target/release/guardsync"))
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--regions", type=int, default=6)
    ap.add_argument("--latency-ms", type=float, default=100)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    regions = REGIONS[: args.regions]
    text, shape = scenario(args.accounts, regions)

    work = Path(tempfile.mkdtemp(prefix="guardsync-bench-"))
    (work / "scenario.yaml").write_text(text)
    emu = subprocess.Popen([str(ROOT / ".venv/bin/python"), str(ROOT / "tests/emulator/server.py"),
                            "--port", "0", "--default-account", ADMIN, "--exit-on-stdin-eof"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    endpoint = emu.stdout.readline().split()[-1]
    try:
        subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "tests/emulator/seed.py"),
                        str(work / "scenario.yaml"), "--endpoint", endpoint],
                       check=True, capture_output=True)
        control(endpoint, "config", {"activation_delay_ms": 20})
        env = {"PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "AKIAGUARDSYNCBENCH", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_EC2_METADATA_DISABLED": "true", "GUARDSYNC_RETRY_INITIAL_BACKOFF_MS": "50"}
        rows = []
        for probe in ["needed", "all"]:
            config = work / f"guardsync-{probe}.yaml"
            config.write_text(
                f'admin:\n  account_id: "{ADMIN}"\norganization:\n  probe: {probe}\n'
                f"regions: [{', '.join(regions)}]\nconcurrency: {args.concurrency}\n"
                f"feeds:\n  - name: firehol_level1\n    url: file://{ROOT}/tests/fixtures/firehol/firehol_level1.netset\n"
                f"threat_list:\n  max_age_hours: null\n"
                f"bucket:\n  name: org-threat-lists-{ADMIN}\n  region: us-east-1\n")
            for when, command in [("first", "plan"), ("steady", "plan"), ("steady", "apply")]:
                if when == "steady" and command == "plan":
                    control(endpoint, "faults", {"rules": []})
                    run(args.binary, env, "apply", config)  # converge: steady state from here on
                control(endpoint, "faults", {"rules": []})
                base, emu_cpu = [], []
                for _ in range(args.runs):
                    before = cpu_seconds(emu.pid)
                    base.append(run(args.binary, env, command, config)[0])
                    emu_cpu.append(cpu_seconds(emu.pid) - before)
                control(endpoint, "faults", {"rules": [{"latency_ms": args.latency_ms}]})
                walls, cpus, report = [], [], {}
                for _ in range(args.runs):
                    w, report, cpu = run(args.binary, env, command, config)
                    walls.append(w)
                    cpus.append(cpu)
                calls = report["summary"]["api_calls"]
                b = bound(shape, calls, args.latency_ms / 1000, args.concurrency,
                          command == "apply", probe == "all", first=when == "first")
                m = statistics.median(walls)
                floor = max(b, statistics.median(emu_cpu))
                rows.append((probe, f"{command} ({when})", report["summary"]["targets"], calls, m,
                             statistics.median(base), statistics.median(emu_cpu),
                             statistics.median(cpus), b, m / b, m / floor))
        control(endpoint, "faults", {"rules": []})
    finally:
        emu.stdin.close()
        emu.wait(timeout=10)

    print(f"{args.accounts + 2} accounts x {args.regions} regions (85% members, 10% standalone, 5% no "
          f"GuardDuty), latency {args.latency_ms:.0f} ms per call, concurrency {args.concurrency}, "
          f"median of {args.runs} runs, binary {args.binary}")
    print("| probe | command | targets | calls | wall (s) | wall, no latency (s) | emulator CPU, no latency (s) "
          "| guardsync CPU (s) | bound (s) | wall / bound | wall / max(bound, emulator CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for probe, command, targets, calls, m, base, emu, own, b, ratio, floor_ratio in rows:
        print(f"| {probe} | {command} | {targets} | {calls} | {m:.2f} | {base:.2f} | {emu:.2f} | {own:.2f} "
              f"| {b:.2f} | {ratio:.2f} | {floor_ratio:.2f} |")


if __name__ == "__main__":
    main()
