#!/usr/bin/python3
"""pyimport - scenario 6's baseline: the same import written by the DataStax Python driver.

Reads a Postfix table source of "key<TAB>value" lines (what bench/run.py
generates) and writes every row into mailion.virtual_aliases with a prepared
INSERT at LOCAL_QUORUM, through cassandra.concurrent.execute_concurrent_with_args
at the given concurrency: the driver's documented way to run many writes
with a bounded number in flight. It does only the writes (no parsing rules,
no reading of the current rows, no retries beyond the driver's own policy).
Prints a RESULT line as the other tools; cpu_s is this process's CPU from
the first write to the last answer.

    /usr/bin/python3 bench/pyimport.py [--concurrency N] FILE HOST:PORT
"""
import argparse
import resource
import socket
import sys
import time

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import RoundRobinPolicy


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("file")
    ap.add_argument("addr")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    rows = []
    with open(a.file) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            rows.append((k, v))
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(),
                               consistency_level=ConsistencyLevel.LOCAL_QUORUM,
                               request_timeout=10.0)
    cluster = Cluster([host], port=int(port), protocol_version=4,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      schema_metadata_enabled=False, token_metadata_enabled=False,
                      sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    session = cluster.connect()
    stmt = session.prepare("INSERT INTO mailion.virtual_aliases (alias, destination) VALUES (?, ?)")
    t0, c0 = time.monotonic(), cpu_seconds()
    results = execute_concurrent_with_args(session, stmt, rows, concurrency=a.concurrency,
                                           raise_on_first_error=False)
    t1, c1 = time.monotonic(), cpu_seconds()
    errors = sum(1 for ok, _ in results if not ok)
    cluster.shutdown()
    secs, cpu = t1 - t0, c1 - c0
    n = len(rows) - errors
    print(f"RESULT tool=python-driver rows={n} errors={errors} seconds={secs:.3f} "
          f"rps={n / secs:.1f} cpu_s={cpu:.3f}", flush=True)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
