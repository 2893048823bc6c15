#!/usr/bin/env python3
"""LiteRT (TensorFlow Lite with XNNPACK) int8 for compare_int8.py: converts an ONNX float model to a
TFLite model with int8 weights (per channel) and int8 activations calibrated on the given tensors
(onnx2tf, then TensorFlow's converter: float input and output, int8 inside), runs the held-out
tensors through it and times one thread. Prints one JSON object.

Runs in its own environment (TensorFlow is large and pins its own NumPy and protobuf):
  python3 -m venv DIR && DIR/bin/pip install tensorflow==2.19.0 tf_keras==2.19.0 onnx2tf==1.28.8 \\
      onnx==1.22.0 onnxsim==0.8.1 onnx_graphsurgeon sng4onnx psutil ai-edge-litert==2.3.0
usage: DIR/bin/python Benchmarks/litert_int8.py --onnx M.onnx --calib C.npy --heldout H.npy --work DIR
(C and H: NCHW float32, already normalized; the model's input must be named "input")
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np


def convert(onnx_path, calib_nchw, work):
    """The integer-quantized TFLite file onnx2tf writes (float I/O, int8 weights and activations)."""
    work.mkdir(parents=True, exist_ok=True)
    calib = work / "calib_nhwc.npy"
    np.save(calib, np.ascontiguousarray(calib_nchw.transpose(0, 2, 3, 1)))
    # onnx2tf downloads sample images for its own output checks unless this file is in the working
    # directory; with no network, random images of the expected shape serve (they only feed checks).
    sample = work / "calibration_image_sample_data_20x128x128x3_float32.npy"
    np.save(sample, np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
    out = work / "tf"
    log = work / "onnx2tf.log"
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    with open(log, "w") as f:
        # Calibration data is already normalized: mean 0, std 1.
        r = subprocess.run(["onnx2tf", "-i", str(onnx_path), "-o", str(out), "-oiqt",
                            "-cind", "input", str(calib), "[[[[0.,0.,0.]]]]", "[[[[1.,1.,1.]]]]"],
                           cwd=work, env=env, stdout=f, stderr=subprocess.STDOUT)
    models = sorted(out.glob("*_integer_quant.tflite"))
    models = [m for m in models if "full_integer" not in m.name]
    if r.returncode != 0 or not models:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        sys.exit(f"onnx2tf failed (exit {r.returncode}), see {log}:\n" + "\n".join(tail))
    return models[0]


def interpreter(path, threads=1):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    return it


def run(it, x_nhwc):
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], x_nhwc)
    it.invoke()
    return it.get_tensor(out["index"]).copy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True, type=pathlib.Path)
    ap.add_argument("--calib", required=True, type=pathlib.Path)
    ap.add_argument("--heldout", required=True, type=pathlib.Path)
    ap.add_argument("--work", required=True, type=pathlib.Path)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    t0 = time.perf_counter()
    model = convert(a.onnx, np.load(a.calib), a.work)
    convert_s = time.perf_counter() - t0
    it = interpreter(model)
    held = np.load(a.heldout).transpose(0, 2, 3, 1)
    logits = np.concatenate([run(it, np.ascontiguousarray(h[None])) for h in held])
    np.save(a.work / "litert_logits.npy", logits)
    shape = it.get_input_details()[0]["shape"]
    rng = np.random.default_rng(1)
    times = []
    for i in range(a.frames + a.warmup):
        x = rng.standard_normal(tuple(shape), dtype=np.float32)
        t = time.perf_counter()
        run(it, x)
        if i >= a.warmup:
            times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"model": str(model), "logits": str(a.work / "litert_logits.npy"),
                      "median_ms": float(np.median(times)), "convert_s": convert_s}))


if __name__ == "__main__":
    main()
