#!/usr/bin/env python3
"""Runs an ONNX model N times on one thread with ONNX Runtime's CPU provider: the peer side of
insn-count.sh, run under qemu with the counting plugin (frames N and M, differenced).
usage: python3 ort-frames.py MODEL.onnx FRAMES"""
import sys

import numpy as np
import onnxruntime as ort

model, frames = sys.argv[1], int(sys.argv[2])
so = ort.SessionOptions()
so.intra_op_num_threads = 1
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
x = np.random.default_rng(1).standard_normal([d if isinstance(d, int) else 1 for d in inp.shape], dtype=np.float32)
for _ in range(frames):
    y = sess.run(None, {inp.name: x})[0]
print(f"{model}: {frames} frames, output {y.shape}, argmax {int(y.argmax())}")
