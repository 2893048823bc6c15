#!/usr/bin/env python3
"""Where two threads lose time, step by step: runs `bench --profile --json` with 1 and N threads in
alternating rounds, takes each step's minimum over the rounds (the step's speed when the shared
machine left it alone), and prints the sums (one thread against N), the steps that lose most against
a perfect split (t_N - t_1 / N), the same by op kind, and a line fitted over the split steps:
lost = a + b * t_1 per step.

usage: Benchmarks/step-scaling.py EXE MODEL [--rounds R] [--threads N] [--frames F] [--top K]
A step that rides on its producer (`inspect`: "(in prev. op)") shows its one-thread time on its own
line and ~0 on N threads, where its producer's line carries it.
"""
import argparse, json, statistics, subprocess, sys


def profile(exe, model, threads, frames):
    out = subprocess.run([exe, "bench", "--model", model, "--threads", str(threads), "--frames", str(frames),
                          "--profile", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{exe} bench failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def minima(runs):
    steps = [p["step"] for p in runs[0]["profile"]]
    per = {s: [] for s in steps}
    for run in runs:
        for p in run["profile"]:
            per[p["step"]].append(p["ms"])
    return steps, {p["step"]: p["kernel"] for p in runs[0]["profile"]}, {s: min(v) for s, v in per.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exe"); ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    n = args.threads
    runs = {1: [], n: []}
    for r in range(args.rounds):
        for t in ((1, n) if r % 2 == 0 else (n, 1)):
            print(f"round {r + 1}/{args.rounds}: {t} thread(s)…", file=sys.stderr, flush=True)
            runs[t].append(profile(args.exe, args.model, t, args.frames))
    steps, kinds, a = minima(runs[1])
    _, _, b = minima(runs[n])
    def medians(t):
        return ", ".join("%.3f" % d["median_ms"] for d in runs[t])
    print(f"frame medians, 1 thread: {medians(1)} ms; {n} threads: {medians(n)} ms")
    ta, tb = sum(a.values()), sum(b.values())
    print(f"sums of step minima: 1 thread {ta:.3f} ms, {n} threads {tb:.3f} ms: {ta / tb:.2f}x")
    lost = {s: b[s] - a[s] / n for s in steps}
    print(f"\n{'step':<28} {'kind':<26} {'t1 ms':>8} {'t' + str(n) + ' ms':>8} {'x':>6} {'lost ms':>8}")
    for s in sorted(steps, key=lambda s: -lost[s])[:args.top]:
        print(f"{s:<28} {kinds[s]:<26} {a[s]:8.4f} {b[s]:8.4f} {a[s] / max(b[s], 1e-9):6.2f} {lost[s]:8.4f}")
    print(f"\n{'kind':<26} {'steps':>5} {'t1 ms':>8} {'t' + str(n) + ' ms':>8} {'x':>6} {'lost ms':>8}")
    by_kind = {}
    for s in steps:
        by_kind.setdefault(kinds[s], []).append(s)
    for k, ss in sorted(by_kind.items(), key=lambda kv: -sum(lost[s] for s in kv[1])):
        ka, kb = sum(a[s] for s in ss), sum(b[s] for s in ss)
        print(f"{k:<26} {len(ss):5d} {ka:8.4f} {kb:8.4f} {ka / max(kb, 1e-9):6.2f} {sum(lost[s] for s in ss):8.4f}")
    split = [s for s in steps if b[s] > 0.0005 and b[s] < a[s] * 0.95]
    if len(split) >= 2:
        xs, ys = [a[s] for s in split], [lost[s] for s in split]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx > 0 else 0.0
        print(f"\n{len(split)} split steps: lost = {(my - slope * mx) * 1000:.2f} µs + {slope:.3f} × t1 per step "
              f"(in all {sum(ys):.4f} ms)")


if __name__ == "__main__":
    main()
