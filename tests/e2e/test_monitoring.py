"""Watching it as operators do: the metrics a Prometheus server scrapes,
read with the official parser (Debian's python3-prometheus-client) and
checked with promtool, the shipped alerting rules tested with promtool,
and a real Prometheus server scraping the daemon and evaluating a rule.
"""
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from conftest import ROOT, Proc, netstring, raw_connect, read_netstring, wait_for

parser = pytest.importorskip("prometheus_client.parser",
                             reason="python3-prometheus-client (scripts/install-deps.sh)")

P = "postfix_aws_cassandra_"
KIT = ROOT / "packaging" / "monitoring"
RULES = KIT / "postfix-aws-cassandra.rules.yml"
DASHBOARD = KIT / "grafana-dashboard.json"
# Series the kit uses that the daemon does not export (none: every alert
# and panel watches a series the daemon has).
ELSEWHERE = set()


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool (Debian's prometheus package, scripts/install-deps.sh)")
    return path


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


def test_promtool_accepts_the_daemons_metrics(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, METRICS_LISTEN="127.0.0.1:0")
    text, _ = scrape(metrics_url(daemon))
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    # Non-zero, or any line, is a problem promtool found (naming, HELP, TYPE, units).
    assert (r.returncode, r.stdout + r.stderr) == (0, ""), r


def test_shipped_rules_pass_promtool_check_and_unit_tests():
    r = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "SUCCESS: 8 rules found" in r.stdout, r
    # Every alert has series that fire it and series that do not (tests/monitoring).
    test_file = ROOT / "tests" / "monitoring" / "rules.test.yml"
    tested = {t["alertname"] for g in yaml.safe_load(test_file.read_text())["tests"]
              for t in g["alert_rule_test"]}
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert tested == alerts
    r = subprocess.run([promtool(), "test", "rules", str(test_file)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def metric_names(expr):
    """Metric names in a PromQL expression (ours, and Prometheus' process_*)."""
    return set(re.findall(r"\b((?:postfix_aws_cassandra|process)_[a-z_]+?)(?:_bucket)?\b(?=[{\[ )]|$)",
                          expr))


def test_rules_and_dashboard_name_only_series_the_daemon_exports(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, METRICS_LISTEN="127.0.0.1:0")
    text, _ = scrape(metrics_url(daemon))
    exported = {fam.name for fam in parser.text_string_to_metric_families(text)}
    exported |= {n + "_total" for n in exported} | {P + "aws_credentials_expiry_seconds",
                                                    P + "aws_credentials_source"}   # SigV4 only
    dash = json.loads(DASHBOARD.read_text())
    dash_used = set().union(*(metric_names(t["expr"]) for p in dash["panels"] for t in p["targets"]))
    rules_used = set().union(*(metric_names(r["expr"]) for g in yaml.safe_load(RULES.read_text())["groups"]
                               for r in g["rules"]))
    assert (dash_used | rules_used) - exported - ELSEWHERE == set()
    assert P + "clients_refused_total" in dash_used and "process_resident_memory_bytes" in dash_used
    # The dashboard shows what every alert watches.
    assert rules_used - dash_used == set()


def test_make_install_ships_the_kit(tmp_path):
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "install", f"DESTDIR={tmp_path}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    kit = tmp_path / "usr/share/postfix-aws-cassandra/monitoring"
    assert sorted(p.name for p in kit.iterdir()) == ["grafana-dashboard.json",
                                                    "postfix-aws-cassandra.rules.yml"]
    assert "%{_datadir}/%{name}/" in (ROOT / "packaging/rpm/postfix-aws-cassandra.spec").read_text()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]


def test_a_real_prometheus_scrapes_the_daemon_and_the_rules_fire(tmp_path, procs, start_daemon):
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.skip("prometheus (Debian's prometheus package, scripts/install-deps.sh)")
    # The database is down: lookups answer TEMP and no node is up.
    daemon = start_daemon(free_port(), wait_ready=False, METRICS_LISTEN="127.0.0.1:0")
    mport = int(metrics_url(daemon).split(":")[2].split("/")[0])
    # The shipped rules, without their `for:` (minutes of waiting) but otherwise as shipped.
    rules = yaml.safe_load(RULES.read_text())
    for g in rules["groups"]:
        for r in g["rules"]:
            r.pop("for", None)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "scrape_configs": [{"job_name": "pac", "static_configs": [{"targets": [f"127.0.0.1:{mport}"]}]}],
    }))
    port = free_port()
    prom = Proc("prometheus", [exe, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'data'}",
                               f"--web.listen-address=127.0.0.1:{port}"], tmp_path)
    procs.append(prom)
    prom.start()

    def ready():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            assert prom.proc.poll() is None, prom.log_text()
            return False
    wait_for(ready, timeout=30, what="prometheus ready")
    wait_for(lambda: any(t["health"] == "up" for t in
                         prometheus_api(port, "targets")["activeTargets"]),
             timeout=30, what="the daemon scraped")

    def firing():
        return {a["labels"]["alertname"] for a in prometheus_api(port, "alerts")["alerts"]
                if a["state"] == "firing"}

    def lookups_until_temp_fires():
        s = raw_connect(daemon.port)
        s.sendall(netstring(b"users alice@example.com"))
        assert read_netstring(s, timeout=10).startswith(b"TEMP ")
        s.close()
        return "PostfixAwsCassandraLookupsTemp" in firing()
    wait_for(lambda: "PostfixAwsCassandraNoNodeUp" in firing(), timeout=30,
             what="PostfixAwsCassandraNoNodeUp firing")
    wait_for(lookups_until_temp_fires, timeout=30, interval=0.3,
             what="PostfixAwsCassandraLookupsTemp firing on real TEMP answers")
    # Evaluated on the same data, the others stay silent.
    rules_state = {r["name"]: r for g in prometheus_api(port, "rules")["groups"] for r in g["rules"]}
    assert rules_state["PostfixAwsCassandraClientsRefused"]["health"] == "ok"
    assert rules_state["PostfixAwsCassandraClientsRefused"]["state"] == "inactive"
    assert firing() <= {"PostfixAwsCassandraNoNodeUp", "PostfixAwsCassandraLookupsTemp"}
