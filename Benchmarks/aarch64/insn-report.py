#!/usr/bin/env python3
"""Tables from insn-count.sh's runs: instructions per frame, (4-frame run - 2-frame run) / 2, for
Edgebone and ONNX Runtime on each CPU, and Edgebone's split by op kind (its kernels carry their names
in the executable; ONNX Runtime's library is stripped, so it is counted as a whole).
usage: python3 insn-report.py RUNDIR PEER_LABEL"""
import collections
import pathlib
import re
import sys

# Edgebone's symbols by op kind, first match wins.
KINDS = [
    (r"eb_qs8_qc8w_gemm_|eb_qs8_gemm_rows", "pointwise conv / GEMM"),
    (r"eb_qs8_qc8w_dwconv_", "depthwise conv"),
    (r"eb_qs8_conv_hwc", "stem conv (3x3, 3 channels)"),
    (r"eb_qs8_qc8w_gemv_f32", "GEMV: squeeze-excite FCs, classifier"),
    (r"eb_qs8_vadd|eb_qs8_add", "residual add"),
    (r"eb_qs8_v?mulc", "squeeze-excite scale"),
    (r"eb_qs8_gavgpool", "global average pool"),
    (r"eb_x8_xor80|eb_u8_|eb_f32_qs8_quantize", "pixel conversion"),
    (r"eb_", "other kernels"),
    (r"\$s8edgebone5BenchV3run", "harness: frame synthesis (not counted)"),
    (r"^edgebone(:|$)", "runtime (Swift)"),
]
HARNESS = "harness: frame synthesis (not counted)"


def load(path):
    rows = {}
    for line in path.read_text().splitlines():
        count, dots, name = line.split("\t", 2)
        rows[name] = (int(count), int(dots))
    return rows


def per_frame(runs, cpu, name):
    a, b = load(runs / f"{cpu}.{name}.2.tsv"), load(runs / f"{cpu}.{name}.4.tsv")
    return {k: ((b.get(k, (0, 0))[0] - a.get(k, (0, 0))[0]) / 2, (b.get(k, (0, 0))[1] - a.get(k, (0, 0))[1]) / 2)
            for k in set(a) | set(b) if k != "total"}


def kind(name):
    for pattern, label in KINDS:
        if re.search(pattern, name):
            return label
    return "libraries: " + name.split(":")[0]


def main():
    runs, peer = pathlib.Path(sys.argv[1]), sys.argv[2]
    names = sorted({p.name.split(".")[0] + "." + p.name.split(".")[1] for p in runs.glob("*.tsv")})
    cpus = sorted({n.split(".")[0] for n in names})
    archs = sorted({n.split(".")[1] for n in names})
    runtimes = sorted({p.name.split(".")[2] for p in runs.glob("*.tsv")})
    label = {"edgebone": "Edgebone int8", "ort-s8s8": f"{peer} QDQ s8/s8", "ort-u8s8": f"{peer} QDQ u8/s8"}

    print("Instructions per frame, millions (SDOT/UDOT among them), one thread")
    print(f"| model | runtime | " + " | ".join(cpus) + " |")
    print("|---|---|" + "---:|" * len(cpus))
    splits = {}
    for arch in archs:
        for rt in runtimes:
            cells = []
            for cpu in cpus:
                try:
                    pf = per_frame(runs, cpu, f"{arch}.{rt}")
                except FileNotFoundError:
                    cells.append("–")
                    continue
                if rt == "edgebone":
                    splits[(arch, cpu)] = pf
                counted = {k: v for k, v in pf.items() if kind(k) != HARNESS or rt != "edgebone"}
                n, d = sum(v[0] for v in counted.values()), sum(v[1] for v in counted.values())
                cells.append(f"{n / 1e6:.1f} ({d / 1e6:.1f})")
            print(f"| {arch} | {label.get(rt, rt)} | " + " | ".join(cells) + " |")

    for arch in archs:
        print(f"\nEdgebone {arch} by op kind, millions of instructions per frame")
        kinds = collections.defaultdict(lambda: collections.defaultdict(float))
        for cpu in cpus:
            for k, (n, _) in splits.get((arch, cpu), {}).items():
                kinds[kind(k)][cpu] += n
        print("| op kind | " + " | ".join(cpus) + " |")
        print("|---|" + "---:|" * len(cpus))
        for k in sorted(kinds, key=lambda k: -max(kinds[k].values())):
            if max(abs(v) for v in kinds[k].values()) < 5e3:
                continue
            print(f"| {k} | " + " | ".join(f"{kinds[k][c] / 1e6:.2f}" for c in cpus) + " |")


if __name__ == "__main__":
    main()
