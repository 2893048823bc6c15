#!/usr/bin/env python3
"""Compares what the AArch64 build of edgebone printed or wrote with what the x86-64 build did.

    compare-outputs.py run X86.jsonl ARM.jsonl          result lines: same frames, same classes, same scores
    compare-outputs.py logits-exact X86.npy ARM.npy     int8 logits: bit-identical
    compare-outputs.py logits-close X86.npy ARM.npy TOL float logits: max|Δ| ≤ TOL·max(1, max|logit|)
    compare-outputs.py inspect X86.txt ARM.txt          the op table (names, kinds, shapes, quantization)
    compare-outputs.py isa BENCH.json EXPECTED          the kernel family bench picked
    compare-outputs.py report X86.json ARM.json DB COS  quantizer reports: same layers, SQNR within DB dB
                                                        (layers measured over at least 512 values),
                                                        end-to-end cosine within COS

Standard library only (the CI host has no numpy). Exit status 1 with a line naming the difference.
"""
import ast
import json
import struct
import sys


def fail(message):
    print(f"compare-outputs: {message}", file=sys.stderr)
    sys.exit(1)


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        fail(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", data, 8)
        start = 10
    else:
        (hlen,) = struct.unpack_from("<I", data, 8)
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    if header.get("descr") != "<f4" or header.get("fortran_order"):
        fail(f"{path}: expected little-endian float32 in C order, found {header}")
    shape = tuple(header["shape"])
    count = 1
    for d in shape:
        count *= d
    body = data[start + hlen:]
    if len(body) != 4 * count:
        fail(f"{path}: {len(body)} bytes of data for shape {shape}")
    return shape, body, struct.unpack(f"<{count}f", body)


def run_lines(path):
    frames = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                fail(f"{path}:{n}: not JSON ({e})")
            frames.append((obj["frame"], [(t["class"], t["label"], t["score"]) for t in obj["top"]]))
    return frames


def main(argv):
    if len(argv) < 2:
        fail(__doc__)
    mode, args = argv[1], argv[2:]
    if mode == "run":
        x86, arm = run_lines(args[0]), run_lines(args[1])
        if not x86:
            fail(f"{args[0]}: no result lines")
        if len(x86) != len(arm):
            fail(f"{len(x86)} frames on x86-64, {len(arm)} on AArch64")
        for a, b in zip(x86, arm):
            if a != b:
                fail(f"frame {a[0]}: x86-64 {a[1]} vs AArch64 {b[1]}")
        print(f"{len(x86)} frames, same classes and scores")
    elif mode == "logits-exact":
        sa, ba, _ = read_npy(args[0])
        sb, bb, _ = read_npy(args[1])
        if sa != sb:
            fail(f"logit shapes differ: {sa} vs {sb}")
        if ba != bb:
            diff = sum(1 for i in range(0, len(ba), 4) if ba[i:i + 4] != bb[i:i + 4])
            fail(f"int8 logits differ in {diff} of {len(ba) // 4} values")
        print(f"{sa}, bit-identical")
    elif mode == "logits-close":
        sa, _, va = read_npy(args[0])
        sb, _, vb = read_npy(args[1])
        tol = float(args[2])
        if sa != sb:
            fail(f"logit shapes differ: {sa} vs {sb}")
        scale = max(1.0, max(abs(v) for v in va))
        worst = max(abs(a - b) for a, b in zip(va, vb))
        if not worst <= tol * scale:
            fail(f"float logits: max|Δ| {worst:.3g} over the bound {tol:g}·{scale:.3g}")
        print(f"{sa}, max|Δ| {worst:.3g} (bound {tol * scale:.3g})")
    elif mode == "inspect":
        def ops(path):
            with open(path) as f:
                lines = f.read().splitlines()
            starts = [i for i, l in enumerate(lines) if l.startswith("ops (")]
            if not starts:
                fail(f"{path}: no op table")
            return lines[starts[0]:]
        a, b = ops(args[0]), ops(args[1])
        if a != b:
            for la, lb in zip(a, b):
                if la != lb:
                    fail(f"op tables differ:\n  x86-64:  {la}\n  AArch64: {lb}")
            fail(f"op tables differ in length: {len(a)} vs {len(b)} lines")
        print(f"same op table ({len(a) - 2} ops)")
    elif mode == "isa":
        with open(args[0]) as f:
            bench = json.load(f)
        if bench.get("isa") != args[1]:
            fail(f"bench picked {bench.get('isa')!r}, expected {args[1]!r}")
        print(f"{bench['frames']} frames on {bench['isa']}, median {bench['median_ms']:.1f} ms under emulation")
    elif mode == "report":
        with open(args[0]) as f:
            a = json.load(f)
        with open(args[1]) as f:
            b = json.load(f)
        db_tol, cos_tol = float(args[2]), float(args[3])
        la = [l["name"] for l in a["layers"]]
        lb = [l["name"] for l in b["layers"]]
        if la != lb:
            fail(f"quantized layers differ: {la} vs {lb}")
        # The two builds calibrate in float with different summation orders, so a range may land one
        # histogram bin apart and a few values round the other way. Over a whole feature map that moves the
        # SQNR by hundredths of a dB; over the few values of a squeeze-and-excite vector on one view (the
        # tiny B0's have 2 to 100) one such value moves it by dBs, so those layers are left to the
        # end-to-end cosine.
        worst, where, skipped = 0.0, "", 0
        for x, y in zip(a["layers"], b["layers"]):
            if x.get("values", 512) < 512:
                skipped += 1
                continue
            d = abs(x["sqnr_db"] - y["sqnr_db"])
            if d > worst:
                worst, where = d, x["name"]
        if not worst <= db_tol:
            fail(f"{where}: SQNR {worst:.3g} dB apart (bound {db_tol:g})")
        dc = abs(a["logits_cosine_mean"] - b["logits_cosine_mean"])
        if not dc <= cos_tol:
            fail(f"end-to-end cosine {a['logits_cosine_mean']:.4f} vs {b['logits_cosine_mean']:.4f} (bound {cos_tol:g})")
        print(f"same {len(la)} layers, SQNR within {worst:.2g} dB ({skipped} of fewer than 512 values left out), "
              f"cosine {a['logits_cosine_mean']:.4f} vs {b['logits_cosine_mean']:.4f}")
    else:
        fail(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv)
