"""Region failover: a standby group in another region takes the reads while the
primary region cannot serve, and gives them back after a hold-down.

Two cqld servers play two Amazon Keyspaces regions of one Multi-Region
keyspace: TLS, SigV4 verified for their own region (us-east-1 and us-west-2),
the same rows, plus one row that tells them apart (transport_maps
`region.example`). The daemon's primary group is us-east-1 (CASSANDRA_HOSTS,
AWS_REGION), its standby us-west-2 (CASSANDRA_FAILOVER_HOSTS, `@us-west-2`);
a group that signed for the wrong region would be refused by its server.

The story an operator tells: lookups are answered by us-east-1; us-east-1
goes away under load and lookups go on from us-west-2 (never a NOTFOUND for a
row that exists, at most a few TEMP during the switch); us-east-1 comes back
and, after the hold-down, answers again; a standby with wrong credentials is
named in the log and by --check while the primary serves on.
"""
import re
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import DAEMON, ROOT, netstring, raw_connect, read_netstring, wait_for
from tls_certs import session_pki

PRIMARY, STANDBY = "us-east-1", "us-west-2"
KEY_ID, SECRET = "AKIAFAILOVERTEST0001", "failover-secret-key"
HOLDDOWN_MS = 2000
EXISTING = [("users", "alice@example.com"), ("users", "bob@example.com"),
            ("domains", "example.com"), ("virtual_aliases", "info@example.com")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


def region_rows(tmp_path, region):
    """The row only this region's copy has (written before replication caught up)."""
    path = tmp_path / f"region-{region}.cql"
    path.write_text("INSERT INTO mailion.transport_maps (address, transport) VALUES "
                    f"('region.example', 'smtp:[mx.{region}.example]');\n")
    return path


def keyspaces_region(start_cqld, pki, tmp_path, region, port=0, key_id=KEY_ID, secret=SECRET):
    """One region's endpoint, as cqld --keyspaces REGION plays it (TLS and
    SigV4 for that region only, Keyspaces' consistency levels and paging):
    the demo rows and the region's own row, on one address (so that a
    restart can take the same port again)."""
    return start_cqld(ROOT / "examples" / "demo.cql", region_rows(tmp_path, region), port=port,
                      extra=["--keyspaces", region, "--endpoint-addresses", "1",
                             "--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                             "--auth", f"sigv4:{key_id}:{secret}:{region}"])


def failover_env(pki, tmp_path, primary, standby, **more):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(AWS_REGION=PRIMARY, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
               CASSANDRA_HOSTS=f"localhost:{primary.port}",
               CASSANDRA_FAILOVER_HOSTS=f"localhost:{standby.port}@{STANDBY}",
               CASSANDRA_FAILBACK_HOLDDOWN_MS=HOLDDOWN_MS, CASSANDRA_TLS="on",
               CASSANDRA_TLS_CA_FILE=pki.ca_cert, CACHE="off", HOME=str(home),
               AWS_EC2_METADATA_DISABLED="true", CASSANDRA_RECONNECT_MAX_MS="300",
               CASSANDRA_DISCOVERY="off", METRICS_LISTEN="127.0.0.1:0")
    env.update(more)
    return {k: str(v) for k, v in env.items()}


def lookup(port, name, key):
    """One socketmap lookup: (status, data)."""
    with raw_connect(port) as s:
        s.sendall(netstring(f"{name} {key}".encode()))
        reply = read_netstring(s, timeout=30).decode()
    status, _, data = reply.partition(" ")
    return status, data


def active_group(daemon):
    url = re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", daemon.log_text()).group(1)
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return int(re.search(r"^postfix_aws_cassandra_cql_active_group (\d+)$", text, re.M).group(1))


def region_answer(daemon):
    st, data = lookup(daemon.port, "transport_maps", "region.example")
    return data if st == "OK" else st


class Load:
    """Lookups of existing rows, one connection, as fast as answers come."""

    def __init__(self, port):
        self.port, self.stop, self.replies = port, threading.Event(), []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        s, i = raw_connect(self.port), 0
        try:
            while not self.stop.is_set():
                name, key = EXISTING[i % len(EXISTING)]
                i += 1
                s.sendall(netstring(f"{name} {key}".encode()))
                reply = read_netstring(s, timeout=30).decode()
                self.replies.append((time.monotonic(), key, reply.split(" ", 1)[0]))
        finally:
            s.close()

    def finish(self):
        self.stop.set()
        self.thread.join(60)
        return self.replies


def test_primary_region_stops_under_load_and_comes_back(pki, start_cqld, start_daemon, tmp_path):
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY)
    daemon = start_daemon(east.port, **failover_env(pki, tmp_path, east, west))
    wait_for(lambda: daemon.log_text().count(" is up") >= 2, timeout=20,
             what="both groups up")
    assert region_answer(daemon) == f"smtp:[mx.{PRIMARY}.example]"
    assert active_group(daemon) == 0

    load = Load(daemon.port)
    wait_for(lambda: len(load.replies) > 50, timeout=20, what="lookups under load")
    east.stop()
    wait_for(lambda: region_answer(daemon) == f"smtp:[mx.{STANDBY}.example]", timeout=20,
             what="reads from the standby region")
    assert active_group(daemon) == 1
    n = len(load.replies)
    wait_for(lambda: len(load.replies) > n + 50, timeout=20, what="lookups from the standby")

    # us-east-1 back on its address: reads return to it after the hold-down.
    back = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY, port=east.port)
    t0 = time.monotonic()
    wait_for(lambda: region_answer(daemon) == f"smtp:[mx.{PRIMARY}.example]", timeout=30,
             what="reads back on the primary region")
    assert time.monotonic() - t0 >= HOLDDOWN_MS / 1000 * 0.9, "failback before the hold-down"
    replies = load.finish()
    assert active_group(daemon) == 0
    assert back.proc.poll() is None

    statuses = [st for _, _, st in replies]
    assert "NOTFOUND" not in statuses and "PERM" not in statuses, statuses
    assert statuses.count("OK") > 100
    # A read in flight on the primary when it went is retried on the standby:
    # the switch costs at most a handful of TEMP answers.
    assert statuses.count("TEMP") <= 5, statuses.count("TEMP")
    log = daemon.log_text()
    assert log.count("cql: failover: primary group (us-east-1) cannot serve") == 1, log
    assert "reads go to standby group 1 (us-west-2)" in log
    assert log.count("cql: failback: primary group (us-east-1) answered for 2000 ms") == 1, log
    assert "authentication failed" not in log, log


@pytest.mark.parametrize("fault", ["unavailable", "stall"])
def test_every_read_failing_on_the_primary_moves_reads_and_probes_bring_them_back(
        pki, start_cqld, start_daemon, tmp_path, fault):
    """Connections to us-east-1 stay up but every read answers Unavailable,
    or never answers (a region that accepts connections and cannot read):
    reads move to us-west-2; each failed read is retried there within its
    lookup deadline, so no lookup sees it. When us-east-1 reads again, the
    reads copied to it prove it and, after the hold-down, traffic returns."""
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY)
    daemon = start_daemon(east.port, **failover_env(pki, tmp_path, east, west))
    wait_for(lambda: daemon.log_text().count(" is up") >= 2, timeout=20,
             what="both groups up")
    load = Load(daemon.port)
    wait_for(lambda: len(load.replies) > 20, timeout=20, what="lookups under load")
    east.control("fail unavailable" if fault == "unavailable" else "stall on")
    wait_for(lambda: region_answer(daemon) == f"smtp:[mx.{STANDBY}.example]", timeout=20,
             what="reads from the standby region")
    assert active_group(daemon) == 1
    n = len(load.replies)
    wait_for(lambda: len(load.replies) > n + 50, timeout=20, what="lookups from the standby")
    # Still failing: the reads copied to the primary keep it from coming back.
    time.sleep(HOLDDOWN_MS / 1000 * 1.5)
    assert active_group(daemon) == 1
    east.control("fail off" if fault == "unavailable" else "stall off")
    wait_for(lambda: region_answer(daemon) == f"smtp:[mx.{PRIMARY}.example]", timeout=30,
             what="reads back on the primary region")
    statuses = [st for _, _, st in load.finish()]
    assert set(statuses) == {"OK"}, {st: statuses.count(st) for st in set(statuses)}
    log = daemon.log_text()
    assert log.count("cql: failover: primary group (us-east-1) cannot serve (its last 3 reads "
                     f"failed: 127.0.0.1:{east.port}: ") == 1, log
    assert log.count("cql: failback:") == 1, log


def test_reads_return_to_the_primary_while_every_answer_is_cached(
        pki, start_cqld, start_daemon, tmp_path):
    """With the cache answering everything no read reaches the database, yet
    the primary must still be proven and get the reads back: the daemon
    copies the last read to it on its own, failing over and back with no
    lookup at all. systemd's STATUS= names the group that serves."""
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(0.5)
    statuses, done = [], threading.Event()

    def drain():
        # Read all the time: sd_notify blocks the daemon once the queue is full.
        while not done.is_set():
            try:
                statuses.append(notify.recv(4096).decode(errors="replace"))
            except socket.timeout:
                pass
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()

    def status_has(text):
        return any(text in m for m in statuses[-6:])
    # WATCHDOG_USEC makes the daemon send STATUS= every 200 ms instead of 5 s.
    daemon = start_daemon(east.port, **failover_env(pki, tmp_path, east, west, CACHE="on",
                                                    NOTIFY_SOCKET=tmp_path / "notify",
                                                    WATCHDOG_USEC=400000))
    wait_for(lambda: daemon.log_text().count(" is up") >= 2, timeout=20,
             what="both groups up")
    assert region_answer(daemon) == f"smtp:[mx.{PRIMARY}.example]"
    east.stop()
    wait_for(lambda: active_group(daemon) == 1, timeout=20, what="failover without lookups")
    wait_for(lambda: status_has("STATUS=cassandra: active: standby group 1 (us-west-2); "
                                "primary group (us-east-1): no node up"), timeout=10,
             what="STATUS= naming the standby")
    keyspaces_region(start_cqld, pki, tmp_path, PRIMARY, port=east.port)
    wait_for(lambda: active_group(daemon) == 0, timeout=30, what="failback without lookups")
    assert "cql: failback: primary group (us-east-1)" in daemon.log_text()
    wait_for(lambda: status_has("STATUS=cassandra: active: primary group (us-east-1);"),
             timeout=10, what="STATUS= naming the primary")
    daemon.stop()
    done.set()
    reader.join(5)
    notify.close()


def run_check(env):
    e = {"PATH": "/usr/bin:/bin", "KEYSPACE_NAME": "mailion", **env}
    return subprocess.run([str(DAEMON), "--check"], env=e, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("fault", ["secret", "region"])
def test_standby_that_cannot_sign_in_is_named_and_the_primary_serves(
        pki, start_cqld, start_daemon, tmp_path, fault):
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    if fault == "secret":
        west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY, secret="another-secret")
        env = failover_env(pki, tmp_path, east, west)
    else:   # the standby's endpoint is in eu-west-1, but the list says us-west-2
        west = keyspaces_region(start_cqld, pki, tmp_path, "eu-west-1")
        env = failover_env(pki, tmp_path, east, west)
    daemon = start_daemon(east.port, **env)
    wait_for(lambda: "standby group 1 (us-west-2) cannot serve" in daemon.log_text(),
             timeout=20, what="the standby named in the log")
    log = daemon.log_text()
    assert re.search(rf"127\.0\.0\.1:{west.port}: authentication failed: .*", log), log
    for name, key in EXISTING:
        assert lookup(daemon.port, name, key)[0] == "OK"
    assert region_answer(daemon) == f"smtp:[mx.{PRIMARY}.example]"
    assert active_group(daemon) == 0
    assert "failover:" not in daemon.log_text()

    r = run_check(env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "group 0      primary (active), region us-east-1: ready" in r.stdout, r.stdout
    assert "WARNING: standby group 1 (us-west-2) cannot serve" in r.stdout, r.stdout


def test_check_reports_both_groups(pki, start_cqld, tmp_path):
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY)
    r = run_check(failover_env(pki, tmp_path, east, west))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "group 0      primary (active), region us-east-1: ready" in r.stdout, r.stdout
    assert "group 1      standby, region us-west-2: ready" in r.stdout, r.stdout
    assert "WARNING" not in r.stdout

    # With the primary region gone, --check reads through the standby.
    east.stop()
    r = run_check(failover_env(pki, tmp_path, east, west))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "group 1      standby (active), region us-west-2: ready" in r.stdout, r.stdout


def test_standby_without_a_table_is_a_warning_and_temp_never_perm(pki, start_cqld,
                                                                   start_daemon, tmp_path):
    """A standby region whose keyspace lacks a table (replication not set up
    for it) refuses that map's query: --check warns, and while the standby
    serves, that map answers TEMP (an outage to wait out), not PERM; the
    other maps answer from the standby."""
    east = keyspaces_region(start_cqld, pki, tmp_path, PRIMARY)
    west = keyspaces_region(start_cqld, pki, tmp_path, STANDBY)
    west.control("exec DROP TABLE mailion.access_maps")
    env = failover_env(pki, tmp_path, east, west)
    r = run_check(env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING: standby group 1 (us-west-2) refuses map access_maps:" in r.stdout, r.stdout

    daemon = start_daemon(east.port, **env)
    wait_for(lambda: daemon.log_text().count(" is up") >= 2, timeout=20,
             what="both groups up")
    assert lookup(daemon.port, "access_maps", "bad.example")[0] == "OK"
    east.stop()
    wait_for(lambda: active_group(daemon) == 1, timeout=20, what="failover")
    assert lookup(daemon.port, "access_maps", "bad.example")[0] == "TEMP"
    assert lookup(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")


def test_failover_settings_are_checked_at_startup(tmp_path):
    base = {"AWS_REGION": PRIMARY, "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET, "HOME": str(tmp_path)}
    for env, message in [
        ({"CASSANDRA_FAILOVER_HOSTS": "h@US-WEST-2"},
         "CASSANDRA_FAILOVER_HOSTS='h@US-WEST-2': bad region in 'h@US-WEST-2'"),
        ({"AWS_FAILOVER_REGIONS": "us-west-2", "CASSANDRA_FAILOVER_HOSTS": "h"},
         "set CASSANDRA_FAILOVER_HOSTS or AWS_FAILOVER_REGIONS, not both"),
        ({"AWS_FAILOVER_REGIONS": "us-west-2", "CASSANDRA_HOSTS": "h:9042"},
         "AWS_FAILOVER_REGIONS names Amazon Keyspaces endpoints, which need TLS"),
        ({"CASSANDRA_FAILBACK_HOLDDOWN_MS": "-1"}, "CASSANDRA_FAILBACK_HOLDDOWN_MS"),
    ]:
        r = run_check({**base, **env})
        assert r.returncode == 2, (env, r.stdout, r.stderr)
        assert message in r.stderr, (env, r.stderr)
