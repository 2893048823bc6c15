#!/usr/bin/env python3
# The hostile-input reproducers (issue 13) against a built edgebone, end to end as a user meets them:
# corrupt numbers and shapes in model files, frames and images too large for the memory budget, deep
# or wrong Y4M, devices and FIFOs where files belong, full and closed outputs, aliasing outputs,
# metric-label injection, signals while waiting. Each must end with the expected status and a message
# (or a counted skip), never a signal or a hang, and no process may exceed the default memory budget.
# The Swift tests hold the same cases one by one; this keeps the whole list runnable in one go.
# usage: python3 Tests/hostile/sweep.py .build/release/edgebone .        (after .ci/setup.sh)
import json, os, resource, shutil, signal, struct, subprocess, sys, tempfile, time, zlib
exe = os.path.abspath(sys.argv[1]); repo = os.path.abspath(sys.argv[2])
model = f"{repo}/Models/efficientnet_lite0.int8.safetensors"
W = tempfile.mkdtemp(prefix="hostile-")
fails = []
BUDGET_MB = 512  # the default --memory-budget
def rd(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
    return json.loads(b[8:8+n]), b[8+n:]
def wr(p, h, data):
    s = json.dumps(h).encode(); s += b' ' * ((8 - len(s) % 8) % 8)
    open(p, 'wb').write(struct.pack('<Q', len(s)) + s + data)
def edited(name, fn):
    h, d = rd(model); m = h['__metadata__']; g = json.loads(m['edgebone.graph'])
    fn(h, m, g); m['edgebone.graph'] = json.dumps(g); p = f"{W}/{name}.safetensors"
    pad = h.pop('__pad__', 0); wr(p, h, d + bytes([1]) * pad); return p
def run(name, args, expect_error=True, stdin=None, timeout=60, stdout=subprocess.PIPE, must=None):
    """One reproducer: no signal, no hang, the expected status, a message on stderr, RSS within the budget."""
    t = time.time()
    p = subprocess.Popen([exe] + args, stdin=stdin or subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill(); p.communicate(); fails.append(name); print(f"FAIL {name}: still running after {timeout} s"); return None
    # The peak RSS of every child reaped so far (it only grows): checked against the budget after each case.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    text = err.decode(errors='replace'); lines = text.strip().splitlines()
    code = p.returncode
    ok = 0 <= code < 128 and (expect_error is None or (code != 0) == expect_error) and rss <= BUDGET_MB
    if expect_error is not False: ok = ok and len(lines) >= 1 and "Fatal error" not in text
    if must: ok = ok and must in text
    print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {code}, {time.time()-t:.1f} s | {lines[-1][:150] if lines else ''}")
    if not ok: fails.append(name)
    return out
# depthwise kernel 7 with consistent [49,C] weights
def dw7(h, m, g):
    n = next(x for x in g['nodes'] if x['op'] == 'depthwise'); n['attributes']['kernel'] = 7
    wname = n['name'] + '.weight'; t = h[wname]; c = t['shape'][-1]
    # keep size consistent: reuse bytes of a prefix big enough if possible
    end = max(v['data_offsets'][1] for k, v in h.items() if k != '__metadata__')
    t['shape'] = [49, c]; t['data_offsets'] = [end, end + 49 * c]; h['__pad__'] = 49 * c
run("depthwise kernel 7", ["classify", "--model", edited("dw7", dw7), f"{repo}/Tests/Fixtures/photos/chelsea.png"])
def huge(h, m, g): g['tensors'][3]['shape'] = [65536] * 4
for cmd in (["inspect"], ["bench", "--frames", "2"], ["classify", f"{repo}/Tests/Fixtures/photos/chelsea.png"]):
    run(f"shape 65536^4 {cmd[0]}", cmd[:1] + ["--model", edited("huge", huge)] + cmd[1:])
def dims70(h, m, g): g['tensors'][3]['shape'] = [2] * 70
run("70 dims", ["inspect", "--model", edited("d70", dims70)])
for cf in ("1e-300", "1e-12", "1e-6"):
    def crop(h, m, g, cf=cf):
        p = json.loads(m['preprocessing']); p['crop_fraction'] = float(cf); m['preprocessing'] = json.dumps(p)
    run(f"crop_fraction {cf}", ["classify", "--model", edited("crop", crop), f"{repo}/Tests/Fixtures/photos/chelsea.png"])
hh, dd = rd(model); sname = next(k for k in hh if k.startswith('classifier') and k.endswith('weight_scale'))
t = hh[sname]; a, b = t['data_offsets']; dd = bytearray(dd); dd[a:a+4] = struct.pack('<f', 3e38)
p = f"{W}/scale.safetensors"; wr(p, hh, bytes(dd))
run("weight_scale 3e38 text", ["classify", "--model", p, f"{repo}/Tests/Fixtures/photos/chelsea.png"], expect_error=False)
out = run("weight_scale 3e38 json", ["classify", "--json", "--model", p, f"{repo}/Tests/Fixtures/photos/chelsea.png"], expect_error=False)
try: json.loads(out)
except Exception: fails.append("weight_scale 3e38 json is not JSON"); print("FAIL --json output is not JSON")
run("bench --warmup huge", ["bench", "--warmup", "9223372036854775807"])
run("bench --frames 1e12", ["bench", "--frames", "1000000000000"])
run("classify /dev/zero", ["classify", "/dev/zero"])
os.symlink("/dev/zero", f"{W}/z.jpg"); run("source -> /dev/zero", ["run", "--source", f"{W}/z.jpg"], expect_error=False, must="1 bad")
open(f"{W}/big.y4m", 'wb').write(b"YUV4MPEG2 W16384 H16384 C444 F30:1\n")
run("y4m 16384^2 444", ["run", "--source", f"{W}/big.y4m"])
for bits in ("C420p10", "C444p12"):
    open(f"{W}/deep.y4m", 'wb').write(f"YUV4MPEG2 W64 H64 {bits} F30:1\n".encode() + b"FRAME\n" + bytes(64*64*6))
    run(f"y4m {bits}", ["run", "--source", f"{W}/deep.y4m"])
def png(w, h):
    z = zlib.compressobj(9); row = b'\0' + bytes(w)  # streamed: this script stays small (children's RSS is measured)
    raw = b''.join(z.compress(row) for _ in range(h)) + z.flush()
    ch = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return b'\x89PNG\r\n\x1a\n' + ch(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + ch(b'IDAT', raw) + ch(b'IEND', b'')
open(f"{W}/big.png", 'wb').write(png(16384, 16384))
run("png 16384^2 classify", ["classify", f"{W}/big.png"])
os.makedirs(f"{W}/bigdir"); os.link(f"{W}/big.png", f"{W}/bigdir/a.png")
run("png 16384^2 run", ["run", "--source", f"{W}/bigdir"], expect_error=False, must="1 bad")
# run | head -1
t = time.time(); r = subprocess.run(f"'{exe}' run --loop 2>/dev/null | head -1 >/dev/null", shell=True, timeout=60)
ok = time.time() - t < 30; print(f"{'ok  ' if ok else 'FAIL'} run --loop | head -1: {time.time()-t:.1f} s")
if not ok: fails.append("run | head -1")
os.makedirs(f"{W}/junk"); open(f"{W}/junk/a.jpg", 'wb').write(b"not a jpeg")
run("loop folder nothing decodable", ["run", "--loop", "--source", f"{W}/junk"], must="whole pass")
open(f"{W}/junk.mjpeg", 'wb').write(b"\xff\xd8garbage\xff\xd9" * 10)
run("loop mjpeg nothing decodable", ["run", "--loop", "--source", f"{W}/junk.mjpeg"], must="whole pass")
os.mkfifo(f"{W}/junk/b.png")
run("fifo in folder", ["run", "--loop", "--source", f"{W}/junk"], must="whole pass")
for cmd in (["run", "--max-frames", "2"], ["classify", "--json", f"{repo}/Tests/Fixtures/photos/chelsea.png"], ["bench", "--frames", "3", "--json"], ["inspect"]):
    run(f"/dev/full {cmd[0]}", cmd, stdout=open("/dev/full", "w"))
run("metrics in missing dir", ["run", "--max-frames", "1", "--metrics-file", "/nonexistent/x.prom"])
run("logits to /dev/null", ["classify", "--logits", "/dev/null", f"{repo}/Tests/Fixtures/photos/chelsea.png"], expect_error=False)
if os.path.isfile("/dev/null"): fails.append("/dev/null replaced"); print("FAIL /dev/null was replaced by a file")
run("quantize --out == --weights", ["quantize", "--weights", f"{repo}/Models/generated/tf_efficientnet_lite0.safetensors", "--out", f"{repo}/Models/generated/tf_efficientnet_lite0.safetensors", "--calibration", f"{repo}/Tests/Fixtures/photos"])
run("quantize --out == --report", ["quantize", "--weights", f"{repo}/Models/generated/tf_efficientnet_lite0.safetensors", "--out", f"{W}/x", "--report", f"{W}/x", "--calibration", f"{repo}/Tests/Fixtures/photos"])
def gemm3(h, m, g):
    n = next(x for x in g['nodes'] if x['op'] == 'linear'); n['attributes']['kernel'] = 3
run("linear kernel 3", ["inspect", "--model", edited("lin3", gemm3)])
def arch(h, m, g): m['arch'] = 'x"} 1\nevil_metric 1\n#'
run("arch injection", ["run", "--max-frames", "1", "--model", edited("arch", arch), "--metrics-file", f"{W}/m.prom"], expect_error=False)
if any(l.startswith("evil_metric") for l in open(f"{W}/m.prom")): fails.append("metric injection"); print("FAIL metric line injected")
# signals while waiting
for sig, src in ((signal.SIGTERM, "-"), (signal.SIGINT, "-"), (signal.SIGHUP, "-")):
    p = subprocess.Popen([exe, "run", "--source", src], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5); p.send_signal(sig); out, err = p.communicate(timeout=20); p.stdin.close() if p.stdin else None
    ok = p.returncode == 0 and b"summary" in err
    print(f"{'ok  ' if ok else 'FAIL'} {sig.name} waiting on stdin: exit {p.returncode}")
    if not ok: fails.append(sig.name)
def selfloop(h, m, g):
    n = next(x for x in g['nodes'] if x['op'] == 'depthwise'); n['output'] = n['inputs'][0]
run("node writes its own input", ["inspect", "--model", edited("loop", selfloop)])
tiny = f"{repo}/Tests/Fixtures/tiny/efficientnet_b0_tiny.safetensors"
opts = ["--arch-option", "channel_multiplier=0.25", "--arch-option", "depth_multiplier=0.3", "--arch-option", "num_classes=100"]
h2, d2 = rd(tiny); d2 = bytearray(d2); a = h2['conv_stem.weight']['data_offsets'][0]; d2[a:a+4] = struct.pack('<f', 3e38)
wr(f"{W}/w3e38.safetensors", h2, bytes(d2))
run("quantize 3e38 weight", ["quantize", "--weights", f"{W}/w3e38.safetensors"] + opts + ["--calibration", f"{repo}/Tests/Fixtures/photos", "--out", f"{W}/q.safetensors"], expect_error=None)
run("classify 3e38 weight", ["classify", "--model", f"{W}/w3e38.safetensors"] + opts + [f"{repo}/Tests/Fixtures/photos/chelsea.png"], expect_error=None)
shutil.rmtree(W, ignore_errors=True)
print(f"{len(fails)} failed" + (": " + ", ".join(fails) if fails else ""))
sys.exit(1 if fails else 0)
