#!/usr/bin/env python3
"""Paired A/B of two edgebone builds on one model: runs `bench --json` of A and B alternately (ABBA
order, so drifts of a shared machine fall on both), and prints the medians and the paired ratio B/A.

usage: Benchmarks/paired.py EXE_A EXE_B MODEL [--pairs N] [--threads T] [--frames F]
Build B, copy A aside first: cp .build/release/edgebone /tmp/edgebone-a; (change); swift build -c release.
"""
import argparse, json, statistics, subprocess, sys


def median_ms(exe, model, threads, frames):
    out = subprocess.run([exe, "bench", "--model", model, "--threads", str(threads), "--frames", str(frames), "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{exe} bench failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)["median_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a"); ap.add_argument("b"); ap.add_argument("model")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    ra, rb, q = [], [], []
    for r in range(args.pairs):
        first, second = (args.a, args.b) if r % 2 == 0 else (args.b, args.a)
        x = median_ms(first, args.model, args.threads, args.frames)
        y = median_ms(second, args.model, args.threads, args.frames)
        a, b = (x, y) if r % 2 == 0 else (y, x)
        ra.append(a); rb.append(b); q.append(b / a)
        print(f"pair {r + 1}/{args.pairs}: A {a:.3f} ms  B {b:.3f} ms  B/A {b / a:.3f}", file=sys.stderr, flush=True)
    print(f"{args.threads} thread(s), {args.pairs} pairs of {args.frames} frames: A median {statistics.median(ra):.3f} ms, "
          f"B median {statistics.median(rb):.3f} ms; B/A paired median {statistics.median(q):.3f}, B faster in "
          f"{sum(x < 1 for x in q)} of {args.pairs}; minima A {min(ra):.3f} B {min(rb):.3f}")


if __name__ == "__main__":
    main()
