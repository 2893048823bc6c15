#!/usr/bin/env python3
"""The models insn-count.sh counts, made on x86 with the reference environment: for each of the seeded
full-size efficientnet_b0 and tf_efficientnet_lite0 (Tests/Fixtures/make_fixtures.py --full), Edgebone's
int8 model (`edgebone quantize`, all int8) and ONNX Runtime's static QDQ int8 models (per-channel int8
weights; int8 and uint8 activations), both calibrated on the same 20 crops of the committed photos.
An Edgebone model file gives bit-identical logits on x86 and AArch64, so it is made once, here.
usage: PYTHON Benchmarks/aarch64/prepare-models.py EDGEBONE_X86 OUTDIR"""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import compare_int8 as c  # noqa: E402  (views, Reader, eval_transform)
from onnxruntime.quantization import QuantFormat, QuantType, quantize_static  # noqa: E402
from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: E402

ARCHS = ["efficientnet_b0", "tf_efficientnet_lite0"]


def main():
    exe, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    full = c.ROOT / "Tests/Fixtures/full"
    out.mkdir(parents=True, exist_ok=True)
    calib = c.views(20, 1, out / "calib", 224)  # both take 224x224
    for arch in ARCHS:
        tf = c.eval_transform(arch)  # timm's normalization for the arch (Lite0: mean and std 0.5)
        print(f"{arch}: edgebone quantize", flush=True)
        subprocess.run([exe, "quantize", "--weights", full / f"{arch}.safetensors", "--arch", arch, "--calibration",
                        out / "calib", "--holdout", "0", "--out", out / f"{arch}.int8.safetensors"],
                       check=True, stdout=subprocess.DEVNULL)
        pre = out / f"{arch}.pre.onnx"
        quant_pre_process(str(full / f"{arch}.onnx"), str(pre))
        for act, tag in [(QuantType.QInt8, "s8s8"), (QuantType.QUInt8, "u8s8")]:
            print(f"{arch}: ONNX Runtime quantize_static {tag}", flush=True)
            quantize_static(str(pre), str(out / f"{arch}.{tag}.onnx"), c.Reader(calib, "input", tf),
                            quant_format=QuantFormat.QDQ, per_channel=True, activation_type=act, weight_type=QuantType.QInt8)
        pre.unlink()


if __name__ == "__main__":
    main()
