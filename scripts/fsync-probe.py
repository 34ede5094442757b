#!/usr/bin/env python3
# The raw fsync ceiling as `heard-bench` measures it (1 KB write + fdatasync, one at a time and
# 64 at a time, in a new file in DIR), plus the median time of one call.
# Usage: fsync-probe.py DIR [--busy]; with --busy a second process keeps a CPU busy meanwhile
# (on the 2 vCPU VM an idle CPU takes about one 4 ms tick to wake for the fdatasync's completion).
import os, time, sys, uuid, json
d = sys.argv[1]
def measure(batch, seconds=2.0):
    p = os.path.join(d, "probe-" + uuid.uuid4().hex)
    fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    block = b"\x5a" * 1024
    lat = []
    t = time.monotonic(); n = 0
    while time.monotonic() - t < seconds or n < 64:
        s = time.monotonic()
        for _ in range(batch):
            os.write(fd, block)
        os.fdatasync(fd)
        lat.append(time.monotonic() - s)
        n += batch
    r = n / (time.monotonic() - t)
    os.close(fd); os.remove(p)
    lat.sort()
    return r, lat[len(lat)//2] * 1000
import subprocess
spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if "--busy" in sys.argv else None
try:
    seq, seq_p50 = measure(1)
    b64, b64_p50 = measure(64)
finally:
    if spinner:
        spinner.kill()
print(json.dumps({"probe_sequential_per_sec": round(seq), "probe_sequential_p50_ms": round(seq_p50, 3),
                  "probe_batch64_events_per_sec": round(b64), "probe_batch64_p50_ms": round(b64_p50, 3)}))
