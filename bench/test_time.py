"""Wall time of the test suite (the README's test command) and its 15 slowest tests, as one JSON object.

Runs `python -m pytest -p no:cacheprovider --durations=15 [pytest args]` (-q comes from the project's addopts) from
the repository root (with pyproject's addopts: pytest-xdist, one worker per core, at most 4) and prints
{"total_s", "exit_code", "summary", "slowest": [{"test", "phase", "seconds"}], "cpus", "load_before",
"load_after", "git_revision", "python", "started_utc"}. Measure on a quiet machine: the load averages are recorded
so a run on a busy one can be recognised.

    python bench/test_time.py [-- extra pytest args, e.g. tests/trainer]
    python bench/test_time.py --from-log pytest_output.txt   # parse an earlier run's --durations report
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
DURATION = re.compile(r"^\s*([0-9.]+)s\s+(call|setup|teardown)\s+(\S+?)(@g\d+)?\s*$")  # @gNNN: xdist group
SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error).*?)\s*=*$")


def git_revision() -> str:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=REPO).stdout.strip()
    return (proc.stdout.strip() or "unknown") + ("+dirty" if dirty else "")


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def parse_report(text: str, count: int = 15) -> dict:
    """The `--durations` table and the final summary line of pytest's output."""
    slowest = []
    for line in text.splitlines():
        match = DURATION.match(line)
        if match:
            slowest.append({"test": match.group(3), "phase": match.group(2), "seconds": float(match.group(1))})
    summary = ""
    for line in text.splitlines():
        match = SUMMARY.match(line.strip())
        if match:
            summary = match.group(1)
    slowest.sort(key=lambda row: -row["seconds"])
    return {"summary": summary, "slowest": slowest[:count]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-log", help="parse this saved pytest output instead of running the suite")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    args = parser.parse_args(argv)
    record = {"cpus": os.cpu_count(), "git_revision": git_revision(), "python": platform.python_version(),
              "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "load_before": load_average()}
    if args.from_log:
        record["load_before"] = None  # unknown for an earlier run
        text, code, total = pathlib.Path(args.from_log).read_text(), None, None
        match = re.search(r" in ([0-9.]+)s", text.strip().splitlines()[-1] if text.strip() else "")
        total = float(match.group(1)) if match else None
    else:
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15", *args.pytest_args]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        total, text, code = round(time.monotonic() - start, 1), proc.stdout + proc.stderr, proc.returncode
    record.update({"total_s": total, "exit_code": code, **parse_report(text),
                   "load_after": None if args.from_log else load_average()})
    print(json.dumps(record, indent=1))
    return 0 if code in (0, None) else 1


if __name__ == "__main__":
    sys.exit(main())
