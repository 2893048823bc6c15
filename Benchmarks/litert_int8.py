#!/usr/bin/env python3
"""LiteRT (TensorFlow Lite with XNNPACK) int8 for compare_int8.py: makes a TFLite model with int8
weights (per channel) and int8 activations calibrated on the given tensors, runs the held-out tensors
through it and times one thread. Prints one JSON object. Two conversions, each in its own environment
(both are large and pin their own NumPy, protobuf or torch):

  --converter onnx2tf: the float ONNX through onnx2tf and TensorFlow's converter (float input and output,
    int8 inside). Environment:
    python3 -m venv DIR && DIR/bin/pip install tensorflow==2.19.0 tf_keras==2.19.0 onnx2tf==1.28.8 \
        onnx==1.22.0 onnxsim==0.8.1 onnx_graphsurgeon sng4onnx psutil ai-edge-litert==2.3.0
  --converter litert-torch: the timm model from the safetensors weights through PyTorch's PT2E
    quantization (litert-torch's quantizer: symmetric, per-channel weights, histogram observers) and
    litert-torch's converter (int8 input and output). Environment (several GB: torch comes with CUDA):
    python3 -m venv DIR && DIR/bin/pip install ai-edge-torch==0.7.2 timm

usage: DIR/bin/python Benchmarks/litert_int8.py --converter onnx2tf --onnx M.onnx --calib C.npy
           --heldout H.npy --work DIR
       DIR/bin/python Benchmarks/litert_int8.py --converter litert-torch --arch ARCH --weights W.safetensors
           --calib C.npy --heldout H.npy --work DIR
       DIR/bin/python Benchmarks/litert_int8.py --time MODEL.tflite [--frames N]   (timing only)
(C and H: NCHW float32, already normalized; an ONNX model's input must be named "input")
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


def timm_model(arch, weights):
    """The timm model of `arch` with the seeded safetensors weights, in eval mode (also used by
    compare_int8.py, in the reference environment)."""
    import safetensors.torch
    import timm
    sd = safetensors.torch.load_file(str(weights))
    head = sd.get("head.fc.weight", sd.get("classifier.weight"))
    model = timm.create_model(arch, num_classes=head.shape[0])
    model.load_state_dict(sd)
    return model.eval()


def convert_torch(arch, weights, calib_nchw, work):
    """PT2E int8 (per-channel weights, static activations) of the timm model, converted by litert-torch."""
    import litert_torch
    import torch
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import quantize_pt2e
    work.mkdir(parents=True, exist_ok=True)
    model = timm_model(arch, weights)
    if arch.startswith("swinv2"):
        constant_position_bias(model)
    args = (torch.from_numpy(calib_nchw[:1]),)
    m = torch.export.export(model, args).module()
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    m = quantize_pt2e.prepare_pt2e(m, quantizer)
    with torch.no_grad():
        for i in range(len(calib_nchw)):
            m(torch.from_numpy(calib_nchw[i:i + 1]))
    m = quantize_pt2e.convert_pt2e(m, fold_quantize=False)
    out = work / f"{arch}.pt2e.tflite"
    litert_torch.convert(m, args, quant_config=QuantConfig(pt2e_quantizer=quantizer)).export(str(out))
    return out


def constant_position_bias(model):
    """SwinV2's attention with its position bias (16·sigmoid of the MLP's table, gathered) and its
    clamped logit scale as constants, as Edgebone and any deployment computes them once: they do not
    depend on the image, and the int64 gather otherwise gets an observer that fails."""
    import math
    import types
    import torch
    import torch.nn.functional as F
    from timm.models.swin_transformer_v2 import WindowAttention

    def forward(self, x, mask=None):
        b_, n, c = x.shape
        qkv = F.linear(x, weight=self.qkv.weight, bias=torch.cat((self.q_bias, self.k_bias, self.v_bias)))
        q, k, v = qkv.reshape(b_, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)) * self.eb_scale + self.eb_bias
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(-1, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.num_heads, n, n)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b_, n, c))

    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, WindowAttention):
                table = mod.cpb_mlp(mod.relative_coords_table).view(-1, mod.num_heads)
                ws = mod.window_size[0] * mod.window_size[1]
                bias = table[mod.relative_position_index.view(-1)].view(ws, ws, -1).permute(2, 0, 1)
                mod.register_buffer("eb_bias", (16 * torch.sigmoid(bias)).unsqueeze(0).contiguous())
                mod.register_buffer("eb_scale", torch.clamp(mod.logit_scale, max=math.log(1. / 0.01)).exp())
                mod.forward = types.MethodType(forward, mod)


def interpreter(path, threads=1):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    return it


def run(it, x):
    """Logits for one float input in the model's layout; int8 input and output are (de)quantized here."""
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    if inp["dtype"] != np.float32:
        s, z = inp["quantization"]
        x = np.clip(np.round(x / s) + z, -128, 127).astype(inp["dtype"])
    it.set_tensor(inp["index"], x)
    it.invoke()
    y = it.get_tensor(out["index"]).copy()
    if out["dtype"] != np.float32:
        s, z = out["quantization"]
        y = (y.astype(np.float32) - z) * s
    return y


def latency(it, frames, warmup):
    """Median milliseconds of one invoke (input (de)quantization included) on random inputs."""
    shape = it.get_input_details()[0]["shape"]
    rng = np.random.default_rng(1)
    times = []
    for i in range(frames + warmup):
        x = rng.standard_normal(tuple(shape), dtype=np.float32)
        t = time.perf_counter()
        run(it, x)
        if i >= warmup:
            times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--converter", choices=["onnx2tf", "litert-torch"], default="onnx2tf")
    ap.add_argument("--onnx", type=pathlib.Path, help="onnx2tf: the float model")
    ap.add_argument("--arch", help="litert-torch: the timm architecture")
    ap.add_argument("--weights", type=pathlib.Path, help="litert-torch: its safetensors weights")
    ap.add_argument("--calib", type=pathlib.Path)
    ap.add_argument("--heldout", type=pathlib.Path)
    ap.add_argument("--work", type=pathlib.Path)
    ap.add_argument("--time", type=pathlib.Path, metavar="MODEL", help="only time this converted model")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    if a.time is not None:
        print(json.dumps({"model": str(a.time), "median_ms": latency(interpreter(a.time), a.frames, a.warmup)}))
        return
    if a.calib is None or a.heldout is None or a.work is None:
        ap.error("converting needs --calib, --heldout and --work")
    t0 = time.perf_counter()
    if a.converter == "onnx2tf":
        if a.onnx is None:
            ap.error("--converter onnx2tf needs --onnx")
        model = convert(a.onnx, np.load(a.calib), a.work)
    else:
        if a.arch is None or a.weights is None:
            ap.error("--converter litert-torch needs --arch and --weights")
        model = convert_torch(a.arch, a.weights, np.load(a.calib), a.work)
    convert_s = time.perf_counter() - t0
    it = interpreter(model)
    held = np.load(a.heldout)
    if it.get_input_details()[0]["shape"][-1] == 3:  # NHWC (onnx2tf); litert-torch keeps NCHW
        held = held.transpose(0, 2, 3, 1)
    logits = np.concatenate([run(it, np.ascontiguousarray(h[None])) for h in held])
    np.save(a.work / "litert_logits.npy", logits)
    print(json.dumps({"converter": a.converter, "model": str(model), "logits": str(a.work / "litert_logits.npy"),
                      "median_ms": latency(it, a.frames, a.warmup), "convert_s": convert_s}))


if __name__ == "__main__":
    main()
