#!/usr/bin/env python3
"""ONNX Runtime per-frame latency for an exported model, printed like `edgebone bench --json`.
usage: ort_bench.py MODEL.onnx [--threads 1] [--frames 200] [--warmup 20]"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    rng = np.random.default_rng(1)
    times = []
    for i in range(a.warmup + a.frames):
        x = rng.standard_normal(shape, dtype=np.float32)
        t0 = time.perf_counter()
        s.run(None, {inp.name: x})
        t1 = time.perf_counter()
        if i >= a.warmup:
            times.append((t1 - t0) * 1e3)
    t = np.sort(np.array(times))
    pct = lambda p: float(t[min(len(t) - 1, max(0, int(np.ceil(p / 100 * len(t))) - 1))])
    print(json.dumps({"runtime": f"onnxruntime {ort.__version__}", "threads": a.threads, "frames": a.frames,
                      "min_ms": float(t[0]), "median_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99)}))


if __name__ == "__main__":
    main()
