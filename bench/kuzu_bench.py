#!/usr/bin/env python3
"""The Kuzu side of the benchmark: the same workloads, inputs and result format as
bench/src/driver.rs, through the `kuzu` Python package. run.sh drives it.

Kuzu loads from the CSV files `graphdb-bench gen` writes (COPY FROM, its fastest path);
every other query goes through prepared statements, as on the other systems. Timings are
wall clock in this process, so they include the Python binding's per-call cost (a few µs).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

import kuzu

READERS_MIXED = 8
WRITERS_MIXED = 2
MANY_WRITERS = 8
CHECKS = 5

LOOKUP = "MATCH (u:User {id: $id}) RETURN u.age"
TWO_HOP = "MATCH (a:User {id: $id})-[:FOLLOWS]->()-[:FOLLOWS]->() RETURN count(*)"
SCAN_JOIN = "MATCH (a:User)-[:FOLLOWS]->(b:User) WHERE a.age < b.age RETURN count(*)"
CREATE_NODE = "CREATE (:User {id: $id, name: $name, age: $age})"
CREATE_REL = ("MATCH (a:User {id: $a}), (b:User {id: $b}) "
              "CREATE (a)-[:FOLLOWS {since: $since}]->(b)")


class Report:
    def __init__(self):
        self.doc = {"system": "kuzu", "version": f"Kuzu {kuzu.__version__} (Python)",
                    "metrics": {}, "checks": {}, "notes": []}

    def add(self, name, unit, higher, v):
        m = self.doc["metrics"].setdefault(
            name, {"unit": unit, "higher_is_better": higher, "values": []})
        m["values"].append(v)
        print(f"  [kuzu] {name} = {v:.3f} {unit}", file=sys.stderr, flush=True)

    def note(self, s):
        print(f"  [kuzu] note: {s}", file=sys.stderr, flush=True)
        self.doc["notes"].append(s)


def scalar(res):
    row = res.get_next()
    return row[0]


class Worker:
    """One connection. With `write_lock`, write statements take it first: Kuzu refuses a
    second concurrent write transaction at once ("Only one write transaction at a time"),
    so an application with several writer threads must queue them itself; this is that
    queue, the counterpart of SQLite's busy_timeout and libgraphdb's busy_timeout_ms."""

    def __init__(self, db, write_lock=None):
        self.c = kuzu.Connection(db)
        self.stmts = {}
        self.lock = write_lock

    def write(self, q, params=None):
        if self.lock is None:
            return self.run(q, params)
        with self.lock:
            return self.run(q, params)

    def run(self, q, params=None):
        st = self.stmts.get(q)
        if st is None:
            st = self.stmts[q] = self.c.prepare(q)
        return self.c.execute(st, params or {})

    def lookup(self, i):
        return scalar(self.run(LOOKUP, {"id": i}))

    def two_hop(self, i):
        return scalar(self.run(TWO_HOP, {"id": i}))

    def scan_join(self):
        return scalar(self.run(SCAN_JOIN))

    def create_node(self, i):
        self.write(CREATE_NODE, {"id": i, "name": f"new{i}", "age": 30})

    def create_rel(self, a, b, since):
        self.write(CREATE_REL, {"a": a, "b": b, "since": since})


def timed_loop(budget, min_ops, max_ops, op):
    start = time.perf_counter()
    i = 0
    while i < max_ops and (i < min_ops or time.perf_counter() - start < budget):
        op(i)
        i += 1
    return (time.perf_counter() - start) / max(i, 1), i


def pct(lat, q):
    if not lat:
        return float("nan")
    s = sorted(lat)
    return s[min(len(s) - 1, int(q * len(s)))]


def run_threads(kinds, dur, make):
    """Runs one thread per entry of `kinds` for `dur` seconds; returns per kind
    (ops, errors, first_error, latencies in µs)."""
    stop = threading.Event()
    nk = max(kinds) + 1
    out = [[0, 0, None, []] for _ in range(nk)]
    lock = threading.Lock()

    def body(t, kind):
        try:
            op = make(t)
        except Exception as e:  # noqa: BLE001 - reported as a failure of the phase
            with lock:
                out[kind][1] += 1
                out[kind][2] = out[kind][2] or f"setup: {e}"
            return
        ops, errs, first, lat = 0, 0, None, []
        i = 0
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                op(i)
                ops += 1
                lat.append((time.perf_counter() - t0) * 1e6)
            except Exception as e:  # noqa: BLE001 - counted, first one kept
                errs += 1
                first = first or str(e)
            i += 1
        with lock:
            o = out[kind]
            o[0] += ops
            o[1] += errs
            o[2] = o[2] or first
            o[3].extend(lat)

    ths = [threading.Thread(target=body, args=(t, k)) for t, k in enumerate(kinds)]
    for th in ths:
        th.start()
    time.sleep(dur)
    stop.set()
    for th in ths:
        th.join()
    return out


def create_db(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    db = kuzu.Database(os.path.join(path, "db.kuzu"))
    c = kuzu.Connection(db)
    c.execute("CREATE NODE TABLE User(id INT64, name STRING, age INT64, PRIMARY KEY(id))")
    c.execute("CREATE REL TABLE FOLLOWS(FROM User TO User, since INT64)")
    return db, c


def cold_open(a, dbdir, inp, rep):
    """Opens the database in fresh processes (a.reps times) and records open time and RSS."""
    for _ in range(a.reps):
        out = subprocess.run([sys.executable, __file__, "open", "--db", dbdir,
                              "--id", str(inp["lookup_ids"][0])],
                             capture_output=True, text=True, check=True)
        v = json.loads(out.stdout)
        rep.add("cold_open", "ms", False, v["open_ms"])
        rep.add("rss_opened", "MiB", False, v["rss_open_kib"] / 1024)
        rep.add("rss_peak_queries", "MiB", False, v["rss_peak_kib"] / 1024)


def note_errors(rep, what, o):
    if o[1]:
        rep.note(f"{what}: {o[1]} failed operations, first: {o[2]}")


def main_run(a):
    rep = Report()
    rep.note("kuzu: loads with COPY FROM the generated CSV files (parsing included in the "
             "load time); has a primary-key index on User.id; default buffer pool and threads; "
             "timed from Python, so each call includes the binding's overhead")
    with open(os.path.join(a.data, "inputs.json")) as f:
        inp = json.load(f)
    users_csv = os.path.join(a.data, "users.csv")
    follows_csv = os.path.join(a.data, "follows.csv")
    n_rels = sum(1 for _ in open(follows_csv))
    dbdir = os.path.join(a.work, "kuzu-db")
    db = None
    for _ in range(a.load_reps):
        db = c = None
        db, c = create_db(dbdir)
        t = time.perf_counter()
        c.execute(f"COPY User FROM '{users_csv}' (HEADER=false)")
        rep.add("load_nodes", "nodes/s", True, a.nodes / (time.perf_counter() - t))
        t = time.perf_counter()
        c.execute(f"COPY FOLLOWS FROM '{follows_csv}' (HEADER=false)")
        rep.add("load_rels", "rels/s", True, n_rels / (time.perf_counter() - t))
        del c
    # Cold open and RSS of the loaded database, in a fresh process, before any timed write
    # grows it (as the Rust driver does for the other systems).
    db.close()
    db = None
    cold_open(a, dbdir, inp, rep)
    db = kuzu.Database(os.path.join(dbdir, "db.kuzu"))
    w = Worker(db)
    rep.doc["checks"]["lookup_ages"] = [w.lookup(i) for i in inp["lookup_ids"][:CHECKS]]
    rep.doc["checks"]["two_hop_counts"] = [w.two_hop(i) for i in inp["two_hop_ids"][:CHECKS]]
    budget, phase = a.budget_ms / 1000, a.phase_ms / 1000
    for _ in range(a.reps):
        ids = inp["lookup_ids"]
        s, _ = timed_loop(budget, 3, len(ids), lambda i: w.lookup(ids[i]))
        rep.add("point_lookup", "µs", False, s * 1e6)
    for _ in range(a.reps):
        ids = inp["two_hop_ids"]
        s, _ = timed_loop(budget, 3, len(ids), lambda i: w.two_hop(ids[i]))
        rep.add("two_hop_count", "µs", False, s * 1e6)
    count = None
    for _ in range(a.reps):
        t = time.perf_counter()
        count = w.scan_join()
        rep.add("scan_join_filter", "ms", False, (time.perf_counter() - t) * 1e3)
    rep.doc["checks"]["scan_join_count"] = count

    next_id = [a.nodes + 1_000_000_000]
    id_lock = threading.Lock()

    def fresh_id():
        with id_lock:
            next_id[0] += 1
            return next_id[0]

    for _ in range(a.reps):
        s, _ = timed_loop(budget, 3, 10**9, lambda i: w.create_node(fresh_id()))
        rep.add("create_node_1t", "commits/s", True, 1 / s)
    wlock = threading.Lock()
    for _ in range(a.reps):
        def make(t):
            ww = Worker(db, wlock)
            return lambda i: ww.create_node(fresh_id())
        o = run_threads([0] * MANY_WRITERS, phase, make)[0]
        rep.add("create_node_8t", "commits/s", True, o[0] / phase)
        note_errors(rep, "create_node_8t", o)
    pairs = inp["rel_pairs"]
    for _ in range(a.reps):
        s, _ = timed_loop(budget, 3, len(pairs),
                          lambda i: w.create_rel(pairs[i][0], pairs[i][1], 2025))
        rep.add("create_rel_1t", "commits/s", True, 1 / s)

    ids = inp["two_hop_ids"]

    def reader(t):
        ww = Worker(db)
        return lambda i: ww.two_hop(ids[(t * 7919 + i * 31) % len(ids)])

    for _ in range(a.reps):
        o = run_threads([0] * READERS_MIXED, phase, reader)[0]
        rep.add("mixed_read_alone", "reads/s", True, o[0] / phase)
        alone_p99 = pct(o[3], 0.99)
        rep.add("mixed_read_alone_p99", "µs", False, alone_p99)
        note_errors(rep, "mixed readers alone", o)

        def make(t):
            if t < READERS_MIXED:
                return reader(t)
            ww = Worker(db, wlock)

            def op(i):
                p = pairs[(t * 4099 + i) % len(pairs)]
                ww.create_rel(p[0], p[1], 2026)
            return op
        r, wr = run_threads([0] * READERS_MIXED + [1] * WRITERS_MIXED, phase, make)
        rep.add("mixed_read", "reads/s", True, r[0] / phase)
        for q in (50, 95, 99):
            rep.add(f"mixed_read_p{q}", "µs", False, pct(r[3], q / 100))
        rep.add("mixed_write", "commits/s", True, wr[0] / phase)
        for q in (50, 95, 99):
            rep.add(f"mixed_write_p{q}", "µs", False, pct(wr[3], q / 100))
        rep.add("mixed_read_p99_vs_alone", "×", False, pct(r[3], 0.99) / max(alone_p99, 1))
        note_errors(rep, "mixed readers", r)
        note_errors(rep, "mixed writers", wr)
    del w
    db = None

    # No waiting: Kuzu refuses the second writer; waiting: the application's write lock.
    for name, lock in (("counter_nowait", None), ("counter_wait", threading.Lock())):
        for _ in range(a.reps):
            cdir = os.path.join(a.work, "kuzu-counter")
            shutil.rmtree(cdir, ignore_errors=True)
            os.makedirs(cdir)
            cdb = kuzu.Database(os.path.join(cdir, "db.kuzu"))
            c = kuzu.Connection(cdb)
            c.execute("CREATE NODE TABLE Counter(id INT64, v INT64, PRIMARY KEY(id))")
            c.execute("CREATE (:Counter {id: 1, v: 0})")

            def make(t, lock=lock):
                ww = Worker(cdb, lock)
                return lambda i: ww.write("MATCH (c:Counter) SET c.v = c.v + 1")
            o = run_threads([0] * MANY_WRITERS, phase, make)[0]
            v = scalar(c.execute("MATCH (c:Counter) RETURN c.v"))
            if v != o[0]:
                rep.note(f"{name}: counter is {v} but {o[0]} increments were acknowledged")
            rep.add(name, "commits/s", True, o[0] / phase)
            rep.add(f"{name}_failed", "failures/s", False, o[1] / phase)
            if o[2]:
                rep.doc["checks"][f"{name}_first_error"] = o[2]
            del c
            cdb = None
            shutil.rmtree(cdir, ignore_errors=True)

    rep.note("kuzu: RSS includes the Python interpreter (about 10-20 MiB)")
    rep.doc["nodes"] = a.nodes
    with open(a.out, "w") as f:
        json.dump(rep.doc, f, indent=2)


def vm_hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main_open(a):
    t = time.perf_counter()
    db = kuzu.Database(os.path.join(a.db, "db.kuzu"))
    w = Worker(db)
    w.run("RETURN 1")
    open_ms = (time.perf_counter() - t) * 1e3
    rss_open = vm_hwm()
    w.lookup(a.id)
    w.two_hop(a.id)
    w.scan_join()
    print(json.dumps({"open_ms": open_ms, "rss_open_kib": rss_open,
                      "rss_peak_kib": vm_hwm()}))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--data", required=True)
    r.add_argument("--nodes", type=int, required=True)
    r.add_argument("--reps", type=int, default=3)
    r.add_argument("--load-reps", type=int, default=3)
    r.add_argument("--budget-ms", type=int, default=2000)
    r.add_argument("--phase-ms", type=int, default=3000)
    r.add_argument("--work", required=True)
    r.add_argument("--out", required=True)
    o = sub.add_parser("open")
    o.add_argument("--db", required=True)
    o.add_argument("--id", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "run":
        main_run(a)
    else:
        main_open(a)


if __name__ == "__main__":
    main()
