"""Throttling as Amazon Keyspaces does it, and the daemon riding it out.

Keyspaces serves at most 3000 CQL requests per second on one connection and
throttles a table that exceeds its capacity; either way the client sees a
ReadTimeout ("Troubleshooting capacity management errors", Amazon Keyspaces
developer guide). cqld models both: --rate-limit N per connection, and the
control command "throttle KS.TABLE SECONDS". The daemon retries a throttled
read after a backoff with full jitter inside CASSANDRA_LOOKUP_TIMEOUT_MS, so
Postfix gets the right answer, never NOTFOUND, and TEMP only when the
throttling outlasts the deadline; and a node that keeps throttling gets more
connections, up to CASSANDRA_CONNECTIONS_PER_HOST_MAX.

The rates are small (20 requests/s) so that a sequential client on a loaded
two-core machine still exceeds them.
"""
import os
import re
import socket
import subprocess
import time
import urllib.request

from conftest import DAEMON, netstring, raw_connect, read_netstring, wait_for

RATE = 20               # cqld's --rate-limit and the daemon's CASSANDRA_CONNECTION_RATE_LIMIT
LOOKUP_TIMEOUT_MS = 3000
MAX_THROTTLE_RETRIES = 16   # the README: "up to 16 times"
PREFIX = "postfix_aws_cassandra_"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(mport):
    """The daemon's metrics as {name{labels}: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) (\S+)$", line)
        if m and not line.startswith("#"):
            out[m.group(1)] = float(m.group(2))
    return out


def lookups(port, name, key, n):
    """n lookups in a row on one socketmap connection, as a busy smtpd
    makes them; returns the replies."""
    s = raw_connect(port)
    replies = []
    try:
        for _ in range(n):
            s.sendall(netstring(f"{name} {key}".encode()))
            replies.append(read_netstring(s, timeout=30).decode())
    finally:
        s.close()
    return replies


def throttled(cqld):
    """cqld's refusals: (by the connection rate, by a table throttle)."""
    reply = cqld.control("throttled")
    m = re.match(r"ok throttled connection=(\d+) table=(\d+)", reply)
    assert m, reply
    return int(m.group(1)), int(m.group(2))


def start(start_cqld, start_daemon, extra=(), **env):
    cqld = start_cqld(extra=extra)
    mport = free_port()
    settings = dict(CACHE="off", CASSANDRA_DISCOVERY="off",
                    CASSANDRA_CONNECTIONS_PER_HOST=1,
                    CASSANDRA_CONNECTIONS_PER_HOST_MAX=3,
                    CASSANDRA_CONNECTION_RATE_LIMIT=RATE,
                    CASSANDRA_REQUEST_TIMEOUT_MS=1000,
                    CASSANDRA_LOOKUP_TIMEOUT_MS=LOOKUP_TIMEOUT_MS,
                    METRICS_LISTEN=f"127.0.0.1:{mport}")
    settings.update(env)
    daemon = start_daemon(cqld.port, wait_ready=True, **settings)
    return cqld, daemon, mport


def test_connection_rate_throttling_is_retried_and_adds_connections(start_cqld, start_daemon):
    """Past cqld's 20 requests/s on the one connection, reads are throttled:
    every lookup still answers OK (retried after a backoff, on another
    connection once there is one), the node gets connections up to the
    ceiling, and the metric counts the throttled answers."""
    cqld, daemon, mport = start(start_cqld, start_daemon, extra=("--rate-limit", str(RATE)))
    host = f'{{host="127.0.0.1:{cqld.port}"}}'
    assert scrape(mport)[PREFIX + "cql_host_connections" + host] == 1

    replies = lookups(daemon.port, "domains", "example.com", 150)
    assert set(replies) == {"OK example.com"}, sorted(set(replies))

    by_conn, _ = throttled(cqld)
    assert by_conn > 0, "cqld never throttled: the test did not exceed the rate"
    m = scrape(mport)
    assert m[PREFIX + "cql_throttled_total"] == by_conn
    assert m[PREFIX + "cql_throttle_retries_total"] >= 1

    def grown():
        # Keep the load on: a slow machine may need more than one round.
        assert set(lookups(daemon.port, "domains", "example.com", 30)) == {"OK example.com"}
        return scrape(mport)[PREFIX + "cql_host_connections" + host] == 3
    wait_for(grown, timeout=60, interval=0.1,
             what="connections grown to CASSANDRA_CONNECTIONS_PER_HOST_MAX")
    assert "opening one more (at most 3)" in daemon.log_text()
    # The ceiling holds however hard the node throttles.
    assert lookups(daemon.port, "domains", "example.org", 60) == ["OK example.org"] * 60
    assert scrape(mport)[PREFIX + "cql_host_connections" + host] == 3


def test_table_throttle_shorter_than_the_deadline_answers_ok(start_cqld, start_daemon):
    """A table throttled for a second (less than the lookup deadline): the
    lookup waits it out with backoff and answers OK, not TEMP, not NOTFOUND;
    other tables are not affected."""
    cqld, daemon, mport = start(start_cqld, start_daemon)
    cqld.control("throttle mailion.domains 1")
    assert lookups(daemon.port, "domains", "example.com", 1) == ["OK example.com"]
    assert lookups(daemon.port, "domains", "no-such.example", 1) == ["NOTFOUND "]
    _, by_table = throttled(cqld)
    assert by_table >= 2, "the read was not retried"
    m = scrape(mport)
    assert m[PREFIX + "cql_throttled_total"] == by_table
    assert m[PREFIX + "cql_throttle_retries_total"] >= by_table
    assert lookups(daemon.port, "transport_maps", "example.net", 1) == \
        ["OK smtp:[relay.example.net]:587"]


def test_table_throttle_past_the_deadline_is_temp_never_notfound(start_cqld, start_daemon):
    """A table throttled for longer than the lookup deadline: a key that
    exists and one that does not both answer TEMP (the database never said
    "no row"), after several retries; once the throttle is lifted they
    answer OK and NOTFOUND again."""
    cqld, daemon, mport = start(start_cqld, start_daemon)
    cqld.control("throttle mailion.domains 60")
    for key in ("example.com", "no-such.example"):
        retried = scrape(mport)[PREFIX + "cql_throttle_retries_total"]
        t0 = time.monotonic()
        reply = lookups(daemon.port, "domains", key, 1)[0]
        elapsed = time.monotonic() - t0
        assert reply.startswith("TEMP "), reply
        retried = scrape(mport)[PREFIX + "cql_throttle_retries_total"] - retried
        # Not given up early: retried until less than half a request
        # timeout (0.5 s) was left, or until the 16 retries the README
        # promises at most were spent (full jitter can spend them in under
        # 2 s: seen in CI). Lower bounds only, safe on a loaded machine.
        assert 1 <= retried <= MAX_THROTTLE_RETRIES, retried
        assert elapsed >= (LOOKUP_TIMEOUT_MS - 1000) / 1000 or \
            retried == MAX_THROTTLE_RETRIES, (elapsed, retried)
    _, by_table = throttled(cqld)
    assert by_table >= 4, f"only {by_table} reads: not retried with backoff"
    cqld.control("throttle mailion.domains 0")
    assert lookups(daemon.port, "domains", "example.com", 1) == ["OK example.com"]
    assert lookups(daemon.port, "domains", "no-such.example", 1) == ["NOTFOUND "]


def test_python_driver_sees_keyspaces_read_timeout(start_cqld):
    """What cqld answers past --rate-limit is what a real driver reports for
    a Keyspaces throttle: cassandra.ReadTimeout with Cassandra's message,
    the consistency asked for and no replica answering; AWS's retry policies
    act on exactly that."""
    from cassandra import ConsistencyLevel, ReadTimeout
    from cassandra.cluster import Cluster
    from cassandra.query import SimpleStatement

    cqld = start_cqld(extra=("--rate-limit", "40"))
    cluster = Cluster(["127.0.0.1"], port=cqld.port, protocol_version=4, connect_timeout=10)
    try:
        session = cluster.connect("mailion")
        stmt = SimpleStatement("SELECT domain FROM domains WHERE domain = 'example.com'",
                               consistency_level=ConsistencyLevel.LOCAL_QUORUM)
        errors = []
        for _ in range(150):
            try:
                session.execute(stmt)
            except ReadTimeout as e:
                errors.append(e)
    finally:
        cluster.shutdown()
    assert errors, "150 requests in a row never exceeded 40/s"
    e = errors[0]
    assert "Operation timed out - received only 0 responses." in str(e)
    assert e.consistency == ConsistencyLevel.LOCAL_QUORUM
    assert e.received_responses == 0 and e.required_responses == 2
    assert throttled(cqld)[0] == len(errors)


def test_check_shows_connections_per_node(start_cqld):
    """--check (and STATUS=) name each node up with its connections."""
    cqld = start_cqld()
    env = {"PATH": os.environ["PATH"], "KEYSPACE_NAME": "mailion",
           "CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}", "CASSANDRA_CONNECTIONS_PER_HOST": "1"}
    r = subprocess.run([str(DAEMON), "--check"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"1 of 1 nodes up (127.0.0.1:{cqld.port} x1)" in r.stdout, r.stdout


def test_stop_while_reads_wait_out_a_backoff(start_cqld, start_daemon):
    """SIGTERM while a read waits between throttled attempts and the lookup
    deadline is further off than the drain (5 s): the daemon exits cleanly,
    the waiting read answered and freed (no leak, no use after free under
    ASan: the procs fixture checks)."""
    cqld, daemon, _ = start(start_cqld, start_daemon, CASSANDRA_LOOKUP_TIMEOUT_MS=30000)
    cqld.control("throttle mailion.domains 60")
    s = raw_connect(daemon.port)
    try:
        s.sendall(netstring(b"domains example.com"))
        wait_for(lambda: throttled(cqld)[1] >= 2, what="the read retried after a backoff")
        assert daemon.stop() == 0, daemon.log_text()[-2000:]
    finally:
        s.close()
