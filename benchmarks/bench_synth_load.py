"""Benchmark: generate, load and run a synthetic population; time and peak memory.

Run on demand (never in the test suite)::

    .venv/bin/python benchmarks/bench_synth_load.py                 # 1,000,000 members
    .venv/bin/python benchmarks/bench_synth_load.py --members 200000 --baseline 10000

Each step runs in its own process (``valuecare synth``, ``valuecare load``,
``valuecare run``) while a sampler records the process's peak resident memory. The
baseline population is measured in the same run, and the large one is reported as
throughput ratios against it (members per second at scale ÷ at baseline), so the figures
say how the pipeline scales on this machine rather than how fast this machine is.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent


def _measure(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; return wall seconds and peak RSS (MiB) of it and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            p = psutil.Process(proc.pid)
            while not stop.is_set():
                try:
                    rss = p.memory_info().rss + sum(
                        c.memory_info().rss for c in p.children(recursive=True))
                    peak = max(peak, rss)
                except psutil.Error:
                    pass
                time.sleep(0.2)
        except psutil.Error:
            return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return {"seconds": round(time.perf_counter() - start, 2), "peak_mib": round(peak / 2**20)}


def bench(members: int, workdir: Path, seed: int) -> dict[str, object]:
    pop, ws = workdir / f"pop-{members}", workdir / f"ws-{members}"
    shutil.rmtree(pop, ignore_errors=True)
    shutil.rmtree(ws, ignore_errors=True)
    vc = str(BIN / "valuecare")
    result: dict[str, object] = {"members": members}
    result["synth"] = _measure([vc, "synth", "--members", str(members), "--seed", str(seed),
                                "--out", str(pop)])
    result["load"] = _measure([vc, "--workspace", str(ws), "load", str(pop)])
    result["run"] = _measure([vc, "--workspace", str(ws), "run"])
    manifest = json.loads((pop / "manifest.json").read_text())
    rows = {k: v["rows"] for k, v in manifest["tables"].items()}
    result["rows"] = rows
    result["input_rows"] = sum(rows.values())
    result["disk_mib"] = {
        "population": round(sum(f.stat().st_size for f in pop.rglob("*") if f.is_file())
                            / 2**20),
        "workspace": round(sum(f.stat().st_size for f in ws.rglob("*") if f.is_file())
                           / 2**20),
    }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path("bench-work"))
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = bench(args.baseline, args.workdir, args.seed)
    big = bench(args.members, args.workdir, args.seed)
    ratios = {}
    for step in ("synth", "load", "run"):
        b, g = base[step], big[step]  # type: ignore[index]
        per_base = args.baseline / b["seconds"]
        per_big = args.members / g["seconds"]
        ratios[step] = {
            "members_per_second_baseline": round(per_base),
            "members_per_second": round(per_big),
            "throughput_ratio_vs_baseline": round(per_big / per_base, 2),
            "memory_ratio_vs_baseline": round(g["peak_mib"] / max(b["peak_mib"], 1), 2),
        }
    report = {"machine": {"cpus": psutil.cpu_count(),
                          "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)},
              "baseline": base, "scaled": big, "ratios": ratios}
    print(json.dumps(report, indent=2))
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
