#!/usr/bin/python3
"""pydriver - cqlbench's workload on the DataStax Python driver.

A prepared SELECT by key with N requests in flight: N callback chains on
execute_async (each answer's callback sends the next request, which is the
driver's own recommended way to keep a fixed concurrency), keys drawn
uniformly, every row read. Prints the same RESULT line as build/cqlbench;
cpu_s is this process's user+system CPU over the measured interval.

    /usr/bin/python3 bench/pydriver.py [--inflight N] [--duration S] HOST:PORT
"""
import argparse
import random
import resource
import socket
import sys
import threading
import time

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import RoundRobinPolicy


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--query", default="SELECT email, active FROM mailion.users WHERE email = ?")
    ap.add_argument("--key-format", default="user{}@bench.example")
    ap.add_argument("addr")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)

    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(),
                               consistency_level=ConsistencyLevel.LOCAL_ONE,
                               request_timeout=2.0)
    # TCP_NODELAY as the driver's documentation suggests (gocql has it from
    # Go's default, our client sets it): without it a request written while
    # another is unacknowledged waits for a delayed ACK.
    cluster = Cluster([host], port=int(port), protocol_version=4,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    session = cluster.connect()
    stmt = session.prepare(a.query)

    state = {"phase": 0, "done": 0, "errors": 0, "rows": 0, "live": a.inflight}
    lock = threading.Lock()
    finished = threading.Event()

    def issue():
        key = a.key_format.format(random.randrange(a.keys))
        f = session.execute_async(stmt, (key,))
        f.add_callbacks(on_rows, on_error)

    def next_or_stop():
        if state["phase"] < 2:
            issue()
        else:
            with lock:
                state["live"] -= 1
                if state["live"] == 0:
                    finished.set()

    def on_rows(rows):
        n = sum(1 for _ in rows)
        with lock:
            state["rows"] += n
            if state["phase"] == 1:
                state["done"] += 1
        next_or_stop()

    def on_error(exc):
        with lock:
            state["errors"] += 1
        next_or_stop()

    for _ in range(a.inflight):
        issue()
    time.sleep(1.0)  # warm-up
    with lock:
        state["errors"] = 0
        state["phase"] = 1
    t0, c0 = time.monotonic(), cpu_seconds()
    time.sleep(a.duration)
    with lock:
        state["phase"] = 2
        n = state["done"]
    t1, c1 = time.monotonic(), cpu_seconds()
    finished.wait(10)
    cluster.shutdown()
    secs, cpu = t1 - t0, c1 - c0
    per = cpu / n * 1e5 if n else 0.0
    print(f"pydriver: {a.inflight} in flight, {secs:.2f} s: {n} requests, {state['errors']} errors: "
          f"{n / secs:.0f}/s, {cpu:.3f} CPU s ({per:.3f} s per 100k)", file=sys.stderr)
    print(f"RESULT tool=python-driver inflight={a.inflight} requests={n} errors={state['errors']} "
          f"seconds={secs:.3f} rps={n / secs:.1f} cpu_s={cpu:.3f} cpu_per_100k={per:.3f} "
          f"rows={state['rows']}", flush=True)
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
