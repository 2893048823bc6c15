#!/usr/bin/env python3
"""Makes the parity fixtures for Edgebone's tests from timm (run with the reference environment:
../shared/recipes/refenv.sh DIR, then DIR/bin/python Tests/Fixtures/make_fixtures.py [--full]).

Default (committed, small):
  photos/           CC0 / public-domain photos shipped by scikit-image (chelsea, coffee, rocket,
                    astronaut, motorcycle_left), the last two re-encoded as JPEG to keep them small
  inputs/NAME.png   timm's eval crop of each photo (Resize(256, bicubic) + CenterCrop(224)), made
                    with PIL exactly as timm's transform does; also the reference for our resizer
  tiny/*.safetensors  seeded tiny efficientnet_b0 (channel 0.25, depth 0.3) and tf_efficientnet_lite0
                    (same multipliers), 100 classes, BatchNorm statistics re-estimated on random
                    crops of the photos so activations look like a trained network's
  tiny/*.logits.npy timm's logits for inputs/*.png, rows in sorted input-name order
--full (git-ignored, Tests/Fixtures/full/): the same for full-size efficientnet_b0 and
  tf_efficientnet_lite0, 1000 classes, plus ONNX exports for benchmarks.
--swin --full: the same for the full-size swinv2_tiny_window8_256 and swinv2_tiny_window16_256 (1000 classes)
  in full/, with ONNX.
--swin: tiny/swinv2_tiny.safetensors (swinv2_tiny_window8_256's code with embed_dim 16, depths 2,2,2,2,
  heads 1,2,2,4, 10 classes, seeded) and its timm logits on the five photos (timm's own 256 eval crop);
  tiny/swinv2_tiny_w16.* the same with swinv2_tiny_window16_256's code. (The window-8 file in git was made
  with an earlier torch; regenerating it gives other seeded weights, equally valid.)
"""
import argparse
import json
import pathlib
import shutil

import numpy as np
import safetensors.torch
import skimage
import timm
import timm.data
import torch
import torchvision.transforms as T
from PIL import Image
from timm.models.efficientnet import _gen_efficientnet, _gen_efficientnet_lite

HERE = pathlib.Path(__file__).resolve().parent
SK = pathlib.Path(skimage.__file__).parent / "data"
PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "astronaut.jpg", "motorcycle.jpg"]


def copy_photos():
    out = HERE / "photos"
    out.mkdir(exist_ok=True)
    shutil.copy(SK / "chelsea.png", out / "chelsea.png")
    shutil.copy(SK / "coffee.png", out / "coffee.png")
    shutil.copy(SK / "rocket.jpg", out / "rocket.jpg")
    Image.open(SK / "astronaut.png").convert("RGB").save(out / "astronaut.jpg", quality=88)
    Image.open(SK / "motorcycle_left.png").convert("RGB").save(out / "motorcycle.jpg", quality=88)
    return [out / p for p in PHOTOS]


def eval_crop(img):
    """timm's eval transform for a 224 model with crop_pct 0.875, bicubic, up to ToTensor."""
    return T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])(img)


def check_against_timm(img, crop):
    cfg = timm.data.resolve_data_config({}, model=timm.create_model("efficientnet_b0"))
    tf = timm.data.create_transform(**cfg)
    t = tf(img)
    ours = torch.from_numpy(np.asarray(crop)).permute(2, 0, 1).float() / 255
    mean = torch.tensor(cfg["mean"]).view(3, 1, 1)
    std = torch.tensor(cfg["std"]).view(3, 1, 1)
    assert torch.allclose((ours - mean) / std, t, atol=1e-6), "crop differs from timm's transform"


def make_inputs(photos):
    out = HERE / "inputs"
    out.mkdir(exist_ok=True)
    paths = []
    for p in photos:
        img = Image.open(p).convert("RGB")
        crop = eval_crop(img)
        check_against_timm(img, crop)
        dst = out / (p.stem + ".png")
        crop.save(dst)
        paths.append(dst)
    return sorted(paths)


def random_crops(photos, n, seed):
    g = torch.Generator().manual_seed(seed)
    tf = T.Compose([T.RandomResizedCrop(224, scale=(0.2, 1.0)), T.RandomHorizontalFlip()])
    imgs = [Image.open(p).convert("RGB") for p in photos]
    torch.manual_seed(seed)
    out = []
    for i in range(n):
        img = imgs[int(torch.randint(len(imgs), (1,), generator=g))]
        out.append(np.asarray(tf(img)))
    return out


def to_tensor(arrays, mean, std):
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def seeded_model(arch, cm, dm, classes, seed):
    torch.manual_seed(seed)
    if arch == "efficientnet_b0":
        m = _gen_efficientnet("efficientnet_b0", channel_multiplier=cm, depth_multiplier=dm, num_classes=classes)
        mean, std = timm.data.IMAGENET_DEFAULT_MEAN, timm.data.IMAGENET_DEFAULT_STD
    else:
        m = _gen_efficientnet_lite("tf_efficientnet_lite0", channel_multiplier=cm, depth_multiplier=dm,
                                   num_classes=classes, bn_eps=1e-3, pad_type="same")
        mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
    # Non-trivial affine BatchNorm and biases, so that folding and bias paths are exercised.
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bn1.weight") or name.endswith("bn2.weight") or name.endswith("bn3.weight"):
                p.uniform_(0.6, 1.4)
            elif name.endswith(".bias"):
                p.normal_(0, 0.1)
    return m, mean, std


def reestimate_bn(model, photos, mean, std, n=96):
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.reset_running_stats()
            mod.momentum = None  # cumulative average over all batches
    model.train()
    crops = random_crops(photos, n, seed=1234)
    with torch.no_grad():
        for i in range(0, n, 16):
            model(to_tensor(crops[i:i + 16], mean, std))
    model.eval()


def make_model(name, arch, cm, dm, classes, photos, inputs, outdir, onnx=False):
    model, mean, std = seeded_model(arch, cm, dm, classes, seed=0)
    reestimate_bn(model, photos, mean, std)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    meta = {"arch": arch, "channel_multiplier": str(cm), "depth_multiplier": str(dm), "num_classes": str(classes)}
    safetensors.torch.save_file(sd, str(outdir / f"{name}.safetensors"), metadata=meta)
    x = to_tensor([np.asarray(Image.open(p).convert("RGB")) for p in inputs], mean, std)
    with torch.no_grad():
        logits = model(x).numpy().astype(np.float32)
    np.save(outdir / f"{name}.logits.npy", logits)
    print(f"{name}: {sum(v.numel() for v in sd.values())} values, top-1 {logits.argmax(1).tolist()}, "
          f"max|logit| {np.abs(logits).max():.3f}")
    if onnx:
        torch.onnx.export(model, x[:1], str(outdir / f"{name}.onnx"), input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False)
    return meta


def make_swin(name, arch, embed_dim, depths, heads, classes, photos, outdir, onnx=False):
    """A seeded SwinV2 of `arch`'s family with other widths/depths: random weights with non-trivial
    q/v biases, logit scales, LayerNorm affines and position MLPs; timm's logits for its own eval transform
    of each photo (256 input, crop_pct 0.9, bicubic), rows in PHOTOS order."""
    torch.manual_seed(0)
    model = timm.create_model(arch, embed_dim=embed_dim, depths=depths, num_heads=heads, num_classes=classes)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("q_bias") or n.endswith("v_bias") or (n.endswith(".bias") and p.dim() == 1):
                p.normal_(0, 0.2)
            elif "norm" in n and n.endswith("weight"):
                p.uniform_(0.5, 1.5)
            elif n.endswith("logit_scale"):
                p.uniform_(1.0, 5.0)  # some above log(100): the clamp is exercised
            elif p.dim() == 2 and "cpb_mlp" not in n:
                p.normal_(0, 1.0 / p.shape[1] ** 0.5)
    model.eval()
    cfg = timm.data.resolve_data_config({}, model=model)
    tf = timm.data.create_transform(**cfg)
    x = torch.stack([tf(Image.open(p).convert("RGB")) for p in photos])
    with torch.no_grad():
        logits = model(x).numpy().astype(np.float32)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    meta = {"arch": arch, "embed_dim": str(embed_dim), "depths": ",".join(map(str, depths)),
            "num_heads": ",".join(map(str, heads)), "num_classes": str(classes)}
    safetensors.torch.save_file(sd, str(outdir / f"{name}.safetensors"), metadata=meta)
    np.save(outdir / f"{name}.logits.npy", logits)
    print(f"{name}: {sum(v.numel() for v in sd.values())} values, top-1 {logits.argmax(1).tolist()}, "
          f"max|logit| {np.abs(logits).max():.3f}, transform {cfg}")
    if onnx:
        torch.onnx.export(model, x[:1], str(outdir / f"{name}.onnx"), input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="full-size models into Tests/Fixtures/full/")
    ap.add_argument("--swin", action="store_true", help="only the tiny SwinV2 fixture (tiny/swinv2_tiny.*)")
    args = ap.parse_args()
    photos = copy_photos()
    if args.swin and args.full:
        (HERE / "full").mkdir(exist_ok=True)
        for arch in ("swinv2_tiny_window8_256", "swinv2_tiny_window16_256"):
            make_swin(arch, arch, 96, (2, 2, 6, 2), (3, 6, 12, 24), 1000, photos, HERE / "full", onnx=True)
        return
    if args.swin:
        make_swin("swinv2_tiny", "swinv2_tiny_window8_256", 16, (2, 2, 2, 2), (1, 2, 2, 4), 10, photos, HERE / "tiny")
        make_swin("swinv2_tiny_w16", "swinv2_tiny_window16_256", 16, (2, 2, 2, 2), (1, 2, 2, 4), 10, photos, HERE / "tiny")
        return
    inputs = make_inputs(photos)
    if args.full:
        out = HERE / "full"
        out.mkdir(exist_ok=True)
        make_model("efficientnet_b0", "efficientnet_b0", 1.0, 1.0, 1000, photos, inputs, out, onnx=True)
        make_model("tf_efficientnet_lite0", "tf_efficientnet_lite0", 1.0, 1.0, 1000, photos, inputs, out, onnx=True)
    else:
        out = HERE / "tiny"
        out.mkdir(exist_ok=True)
        make_model("efficientnet_b0_tiny", "efficientnet_b0", 0.25, 0.3, 100, photos, inputs, out)
        make_model("tf_efficientnet_lite0_tiny", "tf_efficientnet_lite0", 0.25, 0.3, 100, photos, inputs, out)
    (out / "inputs.json").write_text(json.dumps([p.name for p in inputs]) + "\n")


if __name__ == "__main__":
    main()
