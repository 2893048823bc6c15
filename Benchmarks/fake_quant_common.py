"""Shared set-up of the fake-quantization diagnostics (fake_quant_b0*.py): the seeded full-size
EfficientNet-B0 from Tests/Fixtures/full, random crops of the committed photos, and per-tensor
fake quantization."""
import pathlib

import safetensors.torch
import timm
import torch
import torchvision.transforms as T
from PIL import Image
from timm.models.efficientnet import _gen_efficientnet

ROOT = pathlib.Path(__file__).resolve().parents[1]


def seeded_b0():
    """The seeded timm B0 (make_fixtures.py --full), in eval mode."""
    torch.manual_seed(0)
    m = _gen_efficientnet("efficientnet_b0", channel_multiplier=1.0, depth_multiplier=1.0, num_classes=1000)
    m.load_state_dict(safetensors.torch.load_file(str(ROOT / "Tests/Fixtures/full/efficientnet_b0.safetensors")))
    return m.eval()


def crops(n, seed):
    """n random resized crops/flips of the committed photos (cycled), normalized for B0."""
    imgs = [Image.open(p).convert("RGB") for p in sorted((ROOT / "Tests/Fixtures/photos").iterdir())]
    tf = T.Compose([T.RandomResizedCrop(224, scale=(0.25, 1.0), interpolation=T.InterpolationMode.BICUBIC),
                    T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize(timm.data.IMAGENET_DEFAULT_MEAN, timm.data.IMAGENET_DEFAULT_STD)])
    torch.manual_seed(seed)
    return torch.stack([tf(imgs[i % len(imgs)]) for i in range(n)])


def fq(x, lo, hi, bits=8):
    """x quantized to `bits` on [lo, hi] (widened to include 0) and back."""
    lo = min(lo, 0.0); hi = max(hi, 0.0); s = (hi - lo) / (2**bits - 1)
    return torch.clamp(torch.round((x - lo) / s), 0, 2**bits - 1) * s + lo
