#!/usr/bin/env python3
"""Diagnostic: which activation tensors of EfficientNet-B0 cost fidelity when quantized to int8?
Fake-quantizes (per tensor, min/max over 60 calibration crops, no weight quantization) one family
of tensors at a time in the seeded timm B0 (Tests/Fixtures/full, from make_fixtures.py --full) and
prints the mean logits cosine against float on 30 held-out crops of the committed photos.
usage: PYTHON Benchmarks/fake_quant_b0.py   (reference environment)

Measured 2026-11-26 and re-run with this file 2026-11-27 (same figures): pw (expansion SiLU outputs) 0.9921, dw (SiLU outputs) 0.9896, SE gate 0.9999,
SE output (x * gate) 0.9855, projection outputs 0.9924, block outputs 0.9912, all together 0.9595.
The squeeze-and-excite output is the costliest tensor: its channels are scaled by very different gates,
so one per-tensor int8 grid fits them badly.
"""
import torch

from fake_quant_common import crops, fq, seeded_b0

m = seeded_b0()
calib = crops(60, seed=1)
held = crops(30, seed=2)
with torch.no_grad(): ref = m(held)
def run(kinds):
    # find modules by kind
    mods = []
    for n, mod in m.named_modules():
        if ("pw" in kinds and n.endswith("bn1") and "blocks." in n and n.count(".") == 3 and hasattr(m.get_submodule(n.rsplit(".",1)[0]), "conv_pwl")) or \
           ("dw" in kinds and ((n.endswith("bn2") and hasattr(m.get_submodule(n.rsplit(".",1)[0]), "conv_pwl")) or (n.endswith("bn1") and "blocks.0." in n))) or \
           ("gate" in kinds and n.endswith("se.gate")) or ("se" in kinds and n.endswith(".se")) or \
           ("pwl" in kinds and (n.endswith("bn3") or (n.endswith("bn2") and "blocks.0." in n))) or \
           ("block" in kinds and n.count(".") == 2 and n.startswith("blocks.")):
            mods.append((n, mod))
    ranges = {}
    hs = [mod.register_forward_hook(lambda mo, i, o, n=n: ranges.setdefault(n, [float("inf"), float("-inf")]).__setitem__(slice(0, 2), [min(ranges.get(n, [1e9])[0], o.min().item()), max(ranges.get(n, [0, -1e9])[1], o.max().item())])) for n, mod in mods]
    with torch.no_grad(): m(calib)
    for h in hs: h.remove()
    hs = [mod.register_forward_hook(lambda mo, i, o, n=n: fq(o, *ranges[n])) for n, mod in mods]
    with torch.no_grad(): out = m(held)
    for h in hs: h.remove()
    cos = torch.nn.functional.cosine_similarity(out, ref).mean().item()
    return len(mods), cos
for k in [["pw"], ["dw"], ["gate"], ["se"], ["pwl"], ["block"], ["pw", "dw", "se", "pwl", "block"]]:
    print(k, run(k))
