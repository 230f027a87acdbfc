#!/usr/bin/env python3
"""Helpers for bench/compare: the workload writer, the replica watcher,
process sampling, timing, lag analysis and the report.

Only the standard library is used. Each subcommand is a small tool that
bench/compare calls; see `helper.py -h`.
"""
import argparse
import ctypes
import json
import os
import random
import signal
import sqlite3
import struct
import subprocess
import sys
import time

# --------------------------------------------------------------------------
# Workload

SCHEMA = ("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, "
          "ts REAL NOT NULL, payload TEXT NOT NULL)")


def marker(rid):
    # '<' and '>' never occur in the hex filler, so a marker found in a
    # page image belongs to exactly one row.
    return "<%010d>" % rid


def payload(rng, rid, size):
    m = marker(rid)
    n = max(0, size - len(m))
    # Hex of random bytes: about 2:1 compressible, like typical text data.
    return m + rng.randbytes((n + 1) // 2).hex()[:n]


def connect(db):
    c = sqlite3.connect(db, isolation_level=None, timeout=30)
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def cmd_init(a):
    c = connect(a.db)
    mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        sys.exit("helper: %s: journal_mode is %s, not wal" % (a.db, mode))
    c.execute(SCHEMA)
    c.close()


def sleep_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def cmd_write(a):
    """Bulk phase (a.rows rows, a.batch per transaction, a.bulk_tps
    transactions per second), then the steady phase (one row per commit,
    a.rate commits per second for a.seconds). Every steady commit is
    logged as "id commit_time" (time.time() right after COMMIT returned)."""
    rng = random.Random(a.seed)
    c = connect(a.db)
    if a.autocheckpoint is not None:
        c.execute("PRAGMA wal_autocheckpoint = %d" % a.autocheckpoint)
    log = open(a.log, "w")
    rid = 1
    t0 = bulk_start = time.time()
    ntx = (a.rows + a.batch - 1) // a.batch
    for i in range(ntx):
        if a.bulk_tps > 0:
            sleep_until(t0 + i / a.bulk_tps)
        n = min(a.batch, a.rows - (rid - 1))
        rows = [(rid + k, time.time(), payload(rng, rid + k, a.payload))
                for k in range(n)]
        c.execute("BEGIN")
        c.executemany("INSERT INTO t(id, ts, payload) VALUES (?, ?, ?)",
                      rows)
        c.execute("COMMIT")
        rid += n
    bulk_end = time.time()
    t0 = bulk_end + 0.5
    nsteady = int(round(a.rate * a.seconds))
    late = 0
    for i in range(nsteady):
        due = t0 + i / a.rate
        if time.time() > due + 0.5 / a.rate:
            late += 1
        sleep_until(due)
        p = payload(rng, rid, a.payload)
        c.execute("BEGIN")
        c.execute("INSERT INTO t(id, ts, payload) VALUES (?, ?, ?)",
                  (rid, time.time(), p))
        c.execute("COMMIT")
        log.write("%d %.6f\n" % (rid, time.time()))
        rid += 1
    log.close()
    total = c.execute("SELECT count(*) FROM t").fetchone()[0]
    c.close()
    json.dump({"rows": total, "bulk_rows": a.rows, "steady_commits": nsteady,
               "bulk_seconds": round(bulk_end - bulk_start, 3),
               "late_commits": late}, open(a.summary, "w"))


# --------------------------------------------------------------------------
# Replica watcher (inotify through ctypes; polling if that is unavailable)

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_ISDIR = 0x40000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000


def is_object(name):
    return name.endswith(".lz4") and not name.startswith(".")


class Stop(Exception):
    pass


def _stop(signo, frame):
    raise Stop()


def cmd_watch(a):
    """Appends "time relpath" to a.out for each replica object, the moment
    it appears (rename into place or close after write)."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    root = os.path.abspath(a.root)
    out = open(a.out, "a", buffering=1)
    seen = set()

    def record(path, t):
        rel = os.path.relpath(path, root)
        if rel in seen:
            return
        seen.add(rel)
        out.write("%.6f %s\n" % (t, rel))

    def scan(d, t):
        for dp, dns, fns in os.walk(d):
            for f in fns:
                if is_object(f):
                    record(os.path.join(dp, f), t)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
    except (OSError, AttributeError) as e:
        fd = -1
        sys.stderr.write("helper: watch: inotify unavailable (%s), "
                         "polling every 5 ms\n" % e)
    try:
        if fd < 0:
            while True:
                scan(root, time.time())
                time.sleep(0.005)
        wds = {}
        mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE

        def add(d):
            wd = libc.inotify_add_watch(fd, os.fsencode(d), mask)
            if wd < 0:
                return
            wds[wd] = d
            # Catch what was created before the watch existed.
            for ent in os.scandir(d):
                if ent.is_dir(follow_symlinks=False):
                    add(ent.path)
                elif is_object(ent.name):
                    record(ent.path, time.time())

        add(root)
        hdr = struct.calcsize("iIII")
        while True:
            buf = os.read(fd, 65536)
            t = time.time()
            i = 0
            while i + hdr <= len(buf):
                wd, m, _, ln = struct.unpack_from("iIII", buf, i)
                name = buf[i + hdr:i + hdr + ln].split(b"\0", 1)[0]
                i += hdr + ln
                if m & IN_Q_OVERFLOW:
                    sys.stderr.write("helper: watch: inotify queue "
                                     "overflow; rescanning\n")
                    scan(root, t)
                    continue
                d = wds.get(wd)
                if d is None or not name:
                    continue
                p = os.path.join(d, os.fsdecode(name))
                if m & IN_ISDIR:
                    if m & (IN_CREATE | IN_MOVED_TO):
                        add(p)
                elif m & (IN_CLOSE_WRITE | IN_MOVED_TO):
                    if is_object(os.path.basename(p)):
                        record(p, t)
    except Stop:
        pass
    out.close()


# --------------------------------------------------------------------------
# LZ4 frame decoder (format: lz4 Frame Format Description 1.6)

def lz4_block(src, out):
    i, n = 0, len(src)
    while i < n:
        tok = src[i]
        i += 1
        ln = tok >> 4
        if ln == 15:
            while True:
                b = src[i]
                i += 1
                ln += b
                if b != 255:
                    break
        out += src[i:i + ln]
        i += ln
        if i >= n:
            break
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = tok & 15
        if ml == 15:
            while True:
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        if off == 0 or off > len(out):
            raise ValueError("lz4: bad match offset")
        s = len(out) - off
        if off >= ml:
            out += out[s:s + ml]
        else:
            pat = bytes(out[s:])
            out += (pat * (ml // off + 1))[:ml]


def lz4_frames(data):
    out = bytearray()
    i = 0
    while i < len(data):
        magic = struct.unpack_from("<I", data, i)[0]
        if 0x184D2A50 <= magic <= 0x184D2A5F:  # skippable frame
            i += 8 + struct.unpack_from("<I", data, i + 4)[0]
            continue
        if magic != 0x184D2204:
            raise ValueError("lz4: bad magic")
        flg = data[i + 4]
        i += 6
        if flg & 0x08:
            i += 8
        if flg & 0x01:
            i += 4
        i += 1  # header checksum
        while True:
            sz = struct.unpack_from("<I", data, i)[0]
            i += 4
            if sz == 0:
                break
            raw = sz & 0x80000000
            sz &= 0x7FFFFFFF
            blk = data[i:i + sz]
            i += sz
            if raw:
                out += blk
            else:
                lz4_block(blk, out)
            if flg & 0x10:
                i += 4
        if flg & 0x04:
            i += 4
    return bytes(out)


# --------------------------------------------------------------------------
# Lag analysis


def pct(v, p):
    """Nearest-rank percentile of a sorted list."""
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def cmd_lag(a):
    """Lag of each steady commit to the replica, two ways:

    content: the first replica object (in order of appearance) whose
      decompressed bytes hold the row's marker; lag = its appearance time
      minus the commit time. This is exact: it needs no assumption about
      which object carries which commit.
    first-after: the first object that appeared after the commit, whatever
      it holds (cheaper; can be early if an object cut before the commit
      lands just after it).
    """
    commits = []
    for line in open(a.commits):
        rid, t = line.split()
        commits.append((int(rid), float(t)))
    events = []
    for line in open(a.events):
        t, rel = line.split(" ", 1)
        events.append((float(t), rel.strip()))
    events.sort()
    res = {"commits": len(commits), "objects": len(events)}
    if not commits:
        json.dump(res, open(a.out, "w"), indent=1)
        return
    first_t = commits[0][1]
    # Content method: decode every object that appeared after the first
    # steady commit (and a margin), in order of appearance.
    pending = {marker(rid).encode(): (rid, t) for rid, t in commits}
    found = {}
    bad = []
    for t, rel in events:
        if t < first_t - 5 or not pending:
            continue
        try:
            data = lz4_frames(open(os.path.join(a.root, rel), "rb").read())
        except (OSError, ValueError, IndexError, struct.error) as e:
            bad.append("%s: %s" % (rel, e))
            continue
        if b"<" not in data:
            continue
        hit = [m for m in pending if m in data]
        for m in hit:
            rid, ct = pending.pop(m)
            found[rid] = t - ct
    lags = sorted(found.values())
    res["content"] = summarize(lags)
    res["content"]["missing"] = len(pending)
    res["content"]["missing_ids"] = sorted(r for r, _ in pending.values())[:20]
    res["content"]["negative"] = sum(1 for x in lags if x < 0)
    res["unreadable_objects"] = bad[:20]
    # First-after method.
    ts = [t for t, _ in events]
    import bisect
    fa = []
    nomatch = 0
    for rid, ct in commits:
        k = bisect.bisect_right(ts, ct)
        if k < len(ts):
            fa.append(ts[k] - ct)
        else:
            nomatch += 1
    fa.sort()
    res["first_after"] = summarize(fa)
    res["first_after"]["missing"] = nomatch
    if a.detail:
        with open(a.detail, "w") as f:
            for rid, ct in commits:
                f.write("%d %.6f %s\n" % (rid, ct, "%.6f" % found[rid]
                                          if rid in found else "-"))
    json.dump(res, open(a.out, "w"), indent=1)


def summarize(v):
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": pct(v, 50), "p90": pct(v, 90),
            "p99": pct(v, 99), "max": v[-1], "min": v[0],
            "mean": sum(v) / len(v)}


# --------------------------------------------------------------------------
# Waiting


def cmd_wait_object(a):
    """Waits until the events file shows an object that appeared after
    time T (read from a.after: the last line's second field). Exit 0, or
    99 on timeout."""
    last = None
    for line in open(a.after):
        if line.strip():
            last = float(line.split()[1])
    if last is None:
        return
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        for line in open(a.events):
            t = float(line.split(" ", 1)[0])
            if t > last:
                return
        time.sleep(0.05)
    sys.exit(99)


# --------------------------------------------------------------------------
# Process sampling

TCK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    """cpu: seconds on CPU, summed over the live threads' schedstat (ns
    resolution); cpu_ticks: utime+stime from /proc/PID/stat (every thread,
    dead ones too, but in clock ticks); context switches (voluntary and
    involuntary, summed over live threads); VmHWM in KiB."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    ticks = (int(fields[11]) + int(fields[12])) / TCK
    vcs = ivcs = 0
    run_ns = 0
    tids = os.listdir("/proc/%d/task" % pid)
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "schedstat") as f:
                run_ns += int(f.read().split()[0])
            with open(base + "status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vcs += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        ivcs += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    io = {"rchar": 0, "wchar": 0}
    try:
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                k, v = line.split(":")
                if k in io:
                    io[k] = int(v)
    except OSError:
        pass
    return {"cpu": run_ns / 1e9, "cpu_ticks": ticks, "vcs": vcs,
            "ivcs": ivcs, "hwm_kb": hwm, "threads": len(tids),
            "rchar": io["rchar"], "wchar": io["wchar"]}


def cmd_sample(a):
    """Prints one JSON object: per pid samples and their sum."""
    per = {}
    tot = {"cpu": 0.0, "cpu_ticks": 0.0, "vcs": 0, "ivcs": 0, "hwm_kb": 0,
           "threads": 0, "rchar": 0, "wchar": 0}
    for p in a.pids:
        s = proc_sample(int(p))
        per[p] = s
        for k in tot:
            tot[k] += s[k]
    tot["time"] = time.time()
    tot["per"] = per
    print(json.dumps(tot))


# --------------------------------------------------------------------------
# Timing and verification


def cmd_timeit(a):
    """Runs the command; prints "SECONDS STATUS". SIGTERM stops both."""
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=open(a.stderr, "a") if a.stderr else None)

    def term(signo, frame):
        p.terminate()
        p.wait()
        sys.exit(128 + signo)

    signal.signal(signal.SIGTERM, term)
    signal.signal(signal.SIGINT, term)
    rc = p.wait()
    print("%.6f %d" % (time.perf_counter() - t, rc))


def cmd_count(a):
    """Prints "ROWS DIGEST" for table t (DIGEST: SHA-256 of every id and
    payload in id order, 16 hex digits) after PRAGMA quick_check, or one
    word starting with "error:" or "corrupt:"."""
    import hashlib
    try:
        c = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
        chk = c.execute("PRAGMA quick_check").fetchone()[0]
        h = hashlib.sha256()
        n = 0
        for rid, p in c.execute("SELECT id, payload FROM t ORDER BY id"):
            h.update(b"%d:" % rid)
            h.update(p.encode())
            n += 1
        c.close()
    except sqlite3.Error as e:
        print("error:%s" % str(e).replace(" ", "_"))
        return
    if chk != "ok":
        print("corrupt:%s" % chk.replace(" ", "_"))
        return
    print("%d %s" % (n, h.hexdigest()[:16]))


# --------------------------------------------------------------------------
# Report


def median(v):
    v = sorted(v)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def cmd_report(a):
    """Reads OUT/results.json (written piecewise by compare) and prints
    the table."""
    r = json.load(open(a.results))
    rows = []

    def fmt(x, unit):
        if x is None:
            return "n/a"
        if unit == "MiB":
            return "%.1f" % x
        if unit == "ms":
            return "%.0f" % x
        if unit == "n":
            return "%d" % x
        return "%.3f" % x

    def row(name, unit, ls, lt, target=None, check=None):
        ratio = None
        if ls is not None and lt is not None and lt > 0:
            ratio = ls / lt
        elif ls is not None and lt is not None and lt == 0 and ls == 0:
            ratio = 1.0
        verdict = ""
        if check and ratio is not None:
            verdict = "ok" if check(ratio, ls, lt) else "MISS"
        rows.append((name + (" (%s)" % unit if unit else ""),
                     fmt(ls, unit), fmt(lt, unit),
                     "n/a" if ratio is None else "%.3f" % ratio,
                     target or "", verdict))

    g = lambda *k: dig(r, k)
    row("workload CPU user+sys", "s", g("ls", "work", "cpu"),
        g("lt", "work", "cpu"), "<= 0.25x", lambda q, x, y: q <= 0.25)
    row("workload bytes read", "MiB", kib2mib(b2k(g("ls", "work", "rchar"))),
        kib2mib(b2k(g("lt", "work", "rchar"))))
    row("workload bytes written", "MiB",
        kib2mib(b2k(g("ls", "work", "wchar"))),
        kib2mib(b2k(g("lt", "work", "wchar"))))
    row("peak RSS, summed", "MiB", kib2mib(g("ls", "hwm_kb")),
        kib2mib(g("lt", "hwm_kb")), "<= 0.2x", lambda q, x, y: q <= 0.2)
    for m in ("content", "first_after"):
        tag = "lag" if m == "content" else "lag, first object after"
        for p in ("p50", "p99"):
            row("%s %s" % (tag, p), "ms", ms(g("ls", "lag", m, p)),
                ms(g("lt", "lag", m, p)),
                "<= 0.5x" if p == "p99" and m == "content" else None,
                (lambda q, x, y: q <= 0.5) if p == "p99" and
                m == "content" else None)
    idle = g("idle_seconds")
    row("idle %ss CPU user+sys" % idle, "s", g("ls", "idle", "cpu"),
        g("lt", "idle", "cpu"), "~ 0 (ls <= 0.05 s)",
        lambda q, x, y: x <= 0.05)
    row("idle %ss wake-ups (ctx sw)" % idle, "n", g("ls", "idle", "cs"),
        g("lt", "idle", "cs"))
    nr = g("restore_runs")
    for (name, lsk, ltk, target) in (
            ("restore own replica, median of %s" % nr, ("restore", "ls_ls"),
             ("restore", "lt_lt"), "<= 0.5x"),
            ("restore Litestream's replica", ("restore", "ls_lt"),
             ("restore", "lt_lt"), None),
            ("restore this project's replica", ("restore", "ls_ls"),
             ("restore", "lt_ls"), None)):
        row(name, "s", g(*lsk), g(*ltk), target,
            (lambda q, x, y: q <= 0.5) if target else None)
    for (name, lsk, ltk, target) in (
            ("restore s3, own replica, median of %s" % nr,
             ("restore_s3", "ls_ls"), ("restore_s3", "lt_lt"), "<= 0.5x"),
            ("restore s3, Litestream's replica", ("restore_s3", "ls_lt"),
             ("restore_s3", "lt_lt"), None),
            ("restore s3, this project's replica", ("restore_s3", "ls_ls"),
             ("restore_s3", "lt_ls"), None)):
        row(name, "s", g(*lsk), g(*ltk), target,
            (lambda q, x, y: q <= 0.5) if target else None)
    w = [max(len(x[i]) for x in rows + [HDR]) for i in range(len(HDR))]
    lines = []
    for x in [HDR] + rows:
        lines.append("  ".join(
            (x[i].ljust(w[i]) if i == 0 else x[i].rjust(w[i]))
            for i in range(len(x))).rstrip())
    print("\n".join(lines))


HDR = ("metric", "this project", "litestream", "ratio", "target", "")


def dig(r, keys):
    for k in keys:
        if not isinstance(r, dict) or k not in r:
            return None
        r = r[k]
    return r


def kib2mib(x):
    return None if x is None else x / 1024.0


def b2k(x):
    return None if x is None else x / 1024.0


def ms(x):
    return None if x is None else x * 1000.0


def cmd_put(a):
    """Sets a value in the results file: KEY.PATH JSON-VALUE."""
    try:
        r = json.load(open(a.results))
    except FileNotFoundError:
        r = {}
    d = r
    keys = a.key.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    try:
        v = json.loads(a.value)
    except ValueError:
        v = a.value
    d[keys[-1]] = v
    tmp = a.results + ".tmp"
    json.dump(r, open(tmp, "w"), indent=1, sort_keys=True)
    os.rename(tmp, a.results)


def cmd_delta(a):
    """Prints the difference of two sample JSONs as {"cpu", "cs",
    "vcs", "ivcs", "seconds"}."""
    x = json.load(open(a.before))
    y = json.load(open(a.after))
    print(json.dumps({
        "cpu": round(y["cpu"] - x["cpu"], 6),
        "cpu_ticks": round(y["cpu_ticks"] - x["cpu_ticks"], 3),
        "vcs": y["vcs"] - x["vcs"], "ivcs": y["ivcs"] - x["ivcs"],
        "cs": (y["vcs"] + y["ivcs"]) - (x["vcs"] + x["ivcs"]),
        "rchar": y["rchar"] - x["rchar"], "wchar": y["wchar"] - x["wchar"],
        "seconds": round(y["time"] - x["time"], 3)}))


def cmd_median(a):
    """Reads "SECONDS STATUS" lines; prints the median of those with
    status 0, or nothing if any run failed."""
    v = []
    for line in open(a.file):
        s, rc = line.split()
        if int(rc) != 0:
            return
        v.append(float(s))
    m = median(v)
    if m is not None:
        print("%.6f" % m)


def main():
    p = argparse.ArgumentParser(prog="helper.py")
    sub = p.add_subparsers(dest="sub", required=True)

    s = sub.add_parser("init")
    s.add_argument("db")
    s.set_defaults(f=cmd_init)

    s = sub.add_parser("write")
    s.add_argument("db")
    s.add_argument("--log", required=True)
    s.add_argument("--summary", required=True)
    s.add_argument("--rows", type=int, default=20000)
    s.add_argument("--batch", type=int, default=100)
    s.add_argument("--bulk-tps", type=float, default=20)
    s.add_argument("--rate", type=float, default=20)
    s.add_argument("--seconds", type=float, default=30)
    s.add_argument("--payload", type=int, default=1024)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--autocheckpoint", type=int)
    s.set_defaults(f=cmd_write)

    s = sub.add_parser("watch")
    s.add_argument("root")
    s.add_argument("out")
    s.set_defaults(f=cmd_watch)

    s = sub.add_parser("lag")
    s.add_argument("--commits", required=True)
    s.add_argument("--events", required=True)
    s.add_argument("--root", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--detail")
    s.set_defaults(f=cmd_lag)

    s = sub.add_parser("wait-object")
    s.add_argument("--events", required=True)
    s.add_argument("--after", required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.set_defaults(f=cmd_wait_object)

    s = sub.add_parser("sample")
    s.add_argument("pids", nargs="+")
    s.set_defaults(f=cmd_sample)

    s = sub.add_parser("delta")
    s.add_argument("before")
    s.add_argument("after")
    s.set_defaults(f=cmd_delta)

    s = sub.add_parser("timeit")
    s.add_argument("--stderr")
    s.add_argument("argv", nargs=argparse.REMAINDER)
    s.set_defaults(f=cmd_timeit)

    s = sub.add_parser("count")
    s.add_argument("db")
    s.set_defaults(f=cmd_count)

    s = sub.add_parser("median")
    s.add_argument("file")
    s.set_defaults(f=cmd_median)

    s = sub.add_parser("put")
    s.add_argument("results")
    s.add_argument("key")
    s.add_argument("value")
    s.set_defaults(f=cmd_put)

    s = sub.add_parser("report")
    s.add_argument("results")
    s.set_defaults(f=cmd_report)

    a = p.parse_args()
    a.f(a)


if __name__ == "__main__":
    main()
