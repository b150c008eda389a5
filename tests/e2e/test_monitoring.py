"""Watching it as operators do: the metrics a Prometheus server scrapes,
read with the official parser (Debian's python3-prometheus-client) and
checked with promtool, the shipped alerting rules tested with promtool,
and a real Prometheus server scraping the daemon and evaluating a rule.
"""
import re
import socket
import time
import urllib.request

import pytest

from conftest import netstring, raw_connect, read_netstring, wait_for

parser = pytest.importorskip("prometheus_client.parser",
                             reason="python3-prometheus-client (scripts/install-deps.sh)")

P = "postfix_aws_cassandra_"


def metrics_url(daemon):
    m = wait_for(lambda: re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", daemon.log_text()),
                 what="the metrics endpoint log line")
    return m.group(1)


def scrape(url):
    """{name: {labels tuple: value}} through prometheus_client's parser, which
    raises on anything the text format does not allow."""
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for fam in parser.text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return text, out


def one(samples, name, **labels):
    return samples[name][tuple(sorted(labels.items()))]


def test_clients_latency_and_process_metrics(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, METRICS_LISTEN="127.0.0.1:0", MAX_CLIENTS=2, CACHE="off")
    url = metrics_url(daemon)
    # Two Postfix connections held open, a third closed at MAX_CLIENTS.
    held = [raw_connect(daemon.port) for _ in range(2)]
    for s in held:
        s.sendall(netstring(b"users alice@example.com"))
        assert read_netstring(s) == b"OK example.com/alice/"
    third = raw_connect(daemon.port)
    third.settimeout(10)
    assert third.recv(1) == b""                       # closed at once
    third.close()
    _, m = scrape(url)
    assert one(m, P + "clients_connected") == 2
    assert one(m, P + "clients_refused_total") == 1
    # Latency in microseconds: a whole-millisecond clock makes every sum a multiple of 1 ms
    # (and puts a 0.3 ms read in the 0 ms bucket). Each more read makes an exact multiple
    # a 1-in-1000 chance again, so try a few.
    for _ in range(4):
        count = one(m, P + "cql_read_duration_seconds_count")
        total_us = one(m, P + "cql_read_duration_seconds_sum") * 1e6
        assert count >= 2 and total_us > 0
        if abs(total_us / 1000 - round(total_us / 1000)) > 1e-3:
            break
        held[0].sendall(netstring(b"users bob@example.com"))
        read_netstring(held[0])
        _, m = scrape(url)
    else:
        raise AssertionError(f"latency sum {total_us} us is whole milliseconds: not measured in us")
    # Prometheus' process collector names.
    now = time.time()
    assert now - 600 < one(m, "process_start_time_seconds") <= now + 1
    assert one(m, "process_open_fds") >= 5              # listeners, 3 clients' worth, CQL
    assert one(m, "process_resident_memory_bytes") > 1_000_000
    assert one(m, "process_cpu_seconds_total") >= 0
    for s in held:
        s.close()
    wait_for(lambda: one(scrape(url)[1], P + "clients_connected") == 0, what="clients gone")
