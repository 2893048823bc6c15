#!/usr/bin/env python3
"""Edgebone int8 vs ONNX Runtime static QDQ int8 (per-channel weights), same seeded float model, same
calibration and held-out images, in one run: fidelity (logits cosine, top-1 agreement vs float) and
1-thread latency (Edgebone int8 with and without the float32 prefix its quantizer may keep, ORT int8,
ORT fp32, and with the LiteRT options, LiteRT int8 on XNNPACK).

Needs: the reference environment (torch/timm/onnxruntime), Tests/Fixtures/make_fixtures.py --full
(seeded efficientnet_b0 safetensors + ONNX), a release build of edgebone.
usage: PYTHON Benchmarks/compare_int8.py [--arch efficientnet_b0] [--calib 100] [--heldout 40]
                                         [--frames 200] [--rounds 1]
                                         [--litert ONNX2TF_PYTHON] [--litert-torch LITERT_TORCH_PYTHON]
The LiteRT options name the Python of an environment set up as Benchmarks/litert_int8.py says: one
converts the float ONNX with onnx2tf and TensorFlow, the other the PyTorch model with PT2E and
litert-torch, each with the same calibration tensors. Neither is best everywhere (on the seeded models,
onnx2tf's B0 ran faster, litert-torch's SwinV2 far faster), so both may be given: one row each.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image
import torchvision.transforms as T
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
PHOTOS = sorted((ROOT / "Tests/Fixtures/photos").iterdir())


def views(n, seed, out, size):
    """n random resized crops/flips of the committed photos, size x size PNG files."""
    torch.manual_seed(seed)
    tf = T.Compose([T.RandomResizedCrop(size, scale=(0.25, 1.0), interpolation=T.InterpolationMode.BICUBIC), T.RandomHorizontalFlip()])
    imgs = [Image.open(p).convert("RGB") for p in PHOTOS]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = out / f"view{i:04d}.png"
        tf(imgs[i % len(imgs)]).save(p)
        paths.append(p)
    return paths


def eval_transform(arch):
    """timm's eval transform for arch (resize, center crop, ToTensor, normalize)."""
    import timm
    from timm.data import create_transform, resolve_data_config
    return create_transform(**resolve_data_config({}, model=timm.create_model(arch, pretrained=False)))


def tensor(path, tf):
    """The network input for one view. The views are made at the input size, and Edgebone takes an
    image already at the input size as it is (no resize, no crop), so only timm's ToTensor and
    normalization apply here: both runtimes see the same tensor."""
    img = Image.open(path).convert("RGB")
    size = tf.transforms[1].size[0]
    assert img.size == (size, size), f"{path}: views must be {size}x{size}"
    for t in tf.transforms[2:]:
        img = t(img)
    return img.numpy()[None].astype(np.float32)


class Reader(CalibrationDataReader):
    def __init__(self, paths, name, tf):
        self.it = iter([{name: tensor(p, tf)} for p in paths])

    def get_next(self):
        return next(self.it, None)


def session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def fidelity(ref, got):
    cos = [float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))) for a, b in zip(ref, got)]
    top1 = float(np.mean(ref.argmax(1) == got.argmax(1)))
    return float(np.mean(cos)), float(np.min(cos)), top1


def ort_latency(sess, size, frames=200, warmup=20):
    name = sess.get_inputs()[0].name
    rng = np.random.default_rng(1)
    times = []
    import time
    for i in range(frames + warmup):
        x = rng.standard_normal((1, 3, size, size), dtype=np.float32)
        t0 = time.perf_counter()
        sess.run(None, {name: x})
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def litert_onnx(arch, weights, onnx_fp32, size, out):
    """The ONNX file LiteRT's conversion starts from. EfficientNets: the fixture's. SwinV2: exported
    again at opset 20, where GELU is one op (TFLite's GELU; at opset 17 it is Erf, which TFLite
    runs only through TensorFlow's Flex ops), with each ReduceL2 written as Sqrt(ReduceSum(x·x))
    (onnx2tf 1.28 mishandles opset 18's ReduceL2 axes input)."""
    if not arch.startswith("swinv2"):
        return onnx_fp32
    import onnx
    from onnx import helper
    from litert_int8 import timm_model  # beside this script; imports nothing heavy at the top
    torch.onnx.export(timm_model(arch, weights), torch.zeros(1, 3, size, size), str(out), input_names=["input"],
                      output_names=["logits"], opset_version=20, dynamo=False)
    g = onnx.load(str(out))
    nodes = []
    for n in g.graph.node:
        if n.op_type != "ReduceL2":
            nodes.append(n)
            continue
        keep = next((a.i for a in n.attribute if a.name == "keepdims"), 1)
        sq, total = n.output[0] + "_sq", n.output[0] + "_sum"
        nodes += [helper.make_node("Mul", [n.input[0], n.input[0]], [sq], name=n.name + "_sq"),
                  helper.make_node("ReduceSum", [sq] + list(n.input[1:]), [total], name=n.name + "_sum", keepdims=keep),
                  helper.make_node("Sqrt", [total], list(n.output), name=n.name + "_sqrt")]
    del g.graph.node[:]
    g.graph.node.extend(nodes)
    onnx.checker.check_model(g)
    onnx.save(g, str(out))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="efficientnet_b0")
    ap.add_argument("--calib", type=int, default=100)
    ap.add_argument("--heldout", type=int, default=40)
    ap.add_argument("--frames", type=int, default=200, help="latency frames per runtime and round")
    ap.add_argument("--rounds", type=int, default=1,
                    help="timing rounds, the runtimes interleaved within each (a shared machine's noise moves "
                         "single runs by up to a fifth here); the table shows the median of the rounds' medians")
    ap.add_argument("--litert", metavar="PYTHON", help="also LiteRT int8 converted by onnx2tf, run by this Python")
    ap.add_argument("--litert-torch", metavar="PYTHON", help="also LiteRT int8 converted by litert-torch (PT2E)")
    a = ap.parse_args()
    full = ROOT / "Tests/Fixtures/full"
    onnx_fp32 = full / f"{a.arch}.onnx"
    weights = full / f"{a.arch}.safetensors"
    tf = eval_transform(a.arch)
    size = tf.transforms[1].size[0]  # the center crop: the network's input size
    exe = ROOT / ".build/release/edgebone"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        os.chdir(tmp)  # ONNX Runtime's quantization tools leave temporary files in the working directory
        calib = views(a.calib, 1, tmp / "calib", size)
        held = views(a.heldout, 2, tmp / "held", size)
        fp32 = session(onnx_fp32)
        name = fp32.get_inputs()[0].name
        ref = np.concatenate([fp32.run(None, {name: tensor(p, tf)})[0] for p in held])

        # ONNX Runtime static QDQ, per-channel int8 weights, int8 activations (MinMax calibration).
        pre = tmp / "pre.onnx"
        try:
            quant_pre_process(str(onnx_fp32), str(pre))
        except Exception:  # SwinV2's graph defeats the symbolic shape inference; ONNX's own is enough
            quant_pre_process(str(onnx_fp32), str(pre), skip_symbolic_shape=True)
        rows = {}
        timers = {}
        notes = []
        for act_type, label in [(QuantType.QInt8, "ORT QDQ s8/s8 per-channel"), (QuantType.QUInt8, "ORT QDQ u8/s8 per-channel")]:
            q = tmp / f"ort-{act_type.name}.onnx"
            quantize_static(str(pre), str(q), Reader(calib, name, tf), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=act_type, weight_type=QuantType.QInt8)
            s = session(q)
            got = np.concatenate([s.run(None, {name: tensor(p, tf)})[0] for p in held])
            rows[label] = fidelity(ref, got)
            timers[label] = lambda s=s: ort_latency(s, size, a.frames)

        # Edgebone: quantize on the same calibration images, classify the held-out ones; all int8, and
        # with the float32 ops the quantizer picks itself (--keep-float auto, chosen on the
        # calibration views; the held-out crops here are never seen by it). Float ops run on OpenBLAS:
        # OPENBLAS_CORETYPE=SkylakeX because OpenBLAS 0.3.21 does not recognize this CPU.
        env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX")
        for i, (label, extra) in enumerate([("Edgebone int8", []), ("Edgebone int8, float where sensitive", ["--keep-float", "auto"])]):
            model = tmp / f"edgebone-{i}.int8.safetensors"
            q = subprocess.run([exe, "quantize", "--weights", weights, "--arch", a.arch, "--calibration", tmp / "calib",
                                "--holdout", "0", "--out", model] + extra, check=True, capture_output=True, text=True)
            kept = [l for l in q.stdout.splitlines() if l.startswith("kept in float32")]
            out = tmp / "logits.npy"
            subprocess.run([exe, "classify", "--model", model, "--logits", out] + [str(p) for p in held], check=True, stdout=subprocess.DEVNULL)
            got = np.load(out)
            rows[label] = fidelity(ref, got)
            timers[label] = lambda model=model: json.loads(subprocess.run(
                [exe, "bench", "--model", model, "--threads", "1", "--frames", str(a.frames), "--json"],
                check=True, capture_output=True, text=True, env=env).stdout)["median_ms"]
            if kept:
                notes.append(f"{label}: {kept[0]}")
        if a.litert or a.litert_torch:
            np.save(tmp / "calib.npy", np.concatenate([tensor(p, tf) for p in calib]))
            np.save(tmp / "held.npy", np.concatenate([tensor(p, tf) for p in held]))
        for python, converter, label in [(a.litert, "onnx2tf", "LiteRT int8, onnx2tf"),
                                         (a.litert_torch, "litert-torch", "LiteRT int8, litert-torch")]:
            if not python:
                continue
            print(f"LiteRT: converting with {converter} and calibrating (minutes for SwinV2)…", file=sys.stderr)
            source = (["--onnx", litert_onnx(a.arch, weights, onnx_fp32, size, tmp / "litert-src.onnx")] if converter == "onnx2tf"
                      else ["--arch", a.arch, "--weights", weights])
            # The converters print progress on stdout too: the result is the last line.
            r = json.loads(subprocess.run([python, ROOT / "Benchmarks/litert_int8.py", "--converter", converter] + source +
                                          ["--calib", tmp / "calib.npy", "--heldout", tmp / "held.npy",
                                           "--work", tmp / converter, "--frames", str(a.frames)],
                                          check=True, stdout=subprocess.PIPE, text=True,
                                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")).stdout.strip().splitlines()[-1])
            rows[label] = fidelity(ref, np.load(r["logits"]))
            timers[label] = lambda python=python, model=r["model"]: json.loads(
                subprocess.run([python, ROOT / "Benchmarks/litert_int8.py", "--time", model, "--frames", str(a.frames)],
                               check=True, stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")).stdout.strip().splitlines()[-1])["median_ms"]
        rows["ORT fp32 (reference)"] = (1.0, 1.0, 1.0)
        timers["ORT fp32 (reference)"] = lambda: ort_latency(fp32, size, a.frames)
        # Latency: every runtime once per round, in the same order, so that a noisy stretch of the
        # machine falls on all of them rather than on one.
        times = {label: [] for label in timers}
        for r in range(a.rounds):
            if a.rounds > 1:
                print(f"timing round {r + 1}/{a.rounds}…", file=sys.stderr)
            for label, timer in timers.items():
                times[label].append(timer())

    print(f"{a.arch}, seeded; {a.calib} calibration and {a.heldout} held-out crops of the committed photos; 1 thread")
    if a.rounds > 1:
        print(f"latency: median of {a.rounds} interleaved rounds of {a.frames} frames (each round's median; range in brackets)")
    print(f"{'':30} {'cos mean':>9} {'cos min':>8} {'top-1':>6} {'median ms':>10}")
    for k, (cm, cmin, t1) in rows.items():
        t = times[k]
        spread = f"  [{min(t):.2f}–{max(t):.2f}]" if len(t) > 1 else ""
        print(f"{k:30} {cm:9.4f} {cmin:8.4f} {t1 * 100:5.1f}% {float(np.median(t)):10.2f}{spread}")
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
