#!/usr/bin/env python3
"""Diagnostic: which single activation tensors of the seeded EfficientNet-B0 cost fidelity in int8?
Fake-quantizes (per tensor, MSE-searched range over 20 calibration crops, float weights) one tensor at
a time, then everything except the k costliest, and prints the mean logits cosine against float on 20
held-out crops. Needs Tests/Fixtures/full (make_fixtures.py --full).
usage: PYTHON Benchmarks/fake_quant_b0_per_tensor.py   (reference environment; a few minutes)

Measured 2026-11-26 and re-run with this file 2026-11-27 (same figures): all tensors 0.9735; the costliest alone (1 − cosine): stem output (bn1) 0.0053,
blocks.1.0.se 0.0032, blocks.0.0.bn2 0.0032, blocks.0.0.se 0.0030, blocks.1.0.bn2 0.0021 — the early
112×112 and 56×56 layers; keeping the top 16 in float gives 0.9913.
"""
import torch
torch.set_num_threads(1)

from fake_quant_common import crops, fq, seeded_b0

m = seeded_b0()
calib = crops(40, seed=1)
held = crops(20, seed=2)
with torch.no_grad(): ref = m(held)
def mse_range(x):
    lo0, hi0 = x.min().item(), x.max().item(); best = None
    for f in [1.0, .9, .8, .7, .6, .5, .4, .3, .25, .2]:
        for g in [1.0, .8, .6]:
            e = ((fq(x, lo0 * g, hi0 * f) - x) ** 2).mean().item()
            if best is None or e < best[0]: best = (e, lo0 * g, hi0 * f)
    return best[1], best[2]
mods = []
for n, mod in m.named_modules():
    if n.startswith("blocks.") and n.count(".") == 3 and (n.endswith("bn1") or n.endswith("bn2") or n.endswith("bn3") or n.endswith(".se")):
        mods.append((n, mod))
    if n.startswith("blocks.") and n.count(".") == 2: mods.append((n, mod))
    if n in ("bn1", "bn2"): mods.append((n, mod))
acts = {}
hs = [mod.register_forward_hook(lambda mo, i, o, n=n: acts.__setitem__(n, o.detach())) for n, mod in mods]
with torch.no_grad(): m(calib[:20])
for h in hs: h.remove()
ranges = {n: mse_range(a) for n, a in acts.items()}; del acts
def run(names):
    hs = [mod.register_forward_hook(lambda mo, i, o, n=n: fq(o, *ranges[n])) for n, mod in mods if n in names]
    with torch.no_grad(): out = m(held)
    for h in hs: h.remove()
    return torch.nn.functional.cosine_similarity(out, ref).mean().item()
allnames = [n for n, _ in mods]
print("all", run(set(allnames)), flush=True)
cost = []
for n in allnames:
    c = 1 - run({n}); cost.append((c, n)); print(f"{n:24s} {c:.5f}", flush=True)
cost.sort(reverse=True)
for k in [1, 2, 4, 6, 8, 12, 16, 24]:
    keep = {n for _, n in cost[:k]}
    print("float top", k, [n for _, n in cost[:k]][-4:], run(set(allnames) - keep), flush=True)
