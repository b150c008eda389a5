"""Faults injected into Cassandra nodes: the answer is right, or TEMP, in time.

Two cqld nodes hold the same data. Through cqld's control socket one node (or
both) is made slow, made to answer errors, made to stop answering, or has its
connections cut. A read that fails on one node for a reason another node may
not share is retried once on the other node, so Postfix still gets the right
answer; when every node fails, Postfix gets TEMP with a short reason, within
the lookup deadline, and never NOTFOUND. Errors that are about the query
itself (syntax, invalid, unauthorized) are not retried.

Every test runs with CACHE=off so that every lookup reaches a node.
"""
import time

import pytest

from conftest import (cqld_counts, netstring, proc_usage, raw_connect, read_netstring,
                      rss_bound_kb, wait_for)

REQUEST_TIMEOUT_MS = 300
LOOKUP_TIMEOUT_MS = 1000
# A lookup that fails everywhere answers by then (deadline plus the time
# postmap and the loop need on a busy two-core machine).
LATE_S = LOOKUP_TIMEOUT_MS / 1000 + 1.0

KEYS = [
    ("domains", "example.com", "example.com"),
    ("users", "alice@example.com", "example.com/alice/"),
    ("virtual_aliases", "info@example.com", "alice@example.com"),
    ("transport_maps", "example.net", "smtp:[relay.example.net]:587"),
]

RETRYABLE = {
    "overloaded": "overloaded",
    "unavailable": "unavailable",
    "read_timeout": "read timeout",
    "is_bootstrapping": "is bootstrapping",
    "server_error": "server error",
}
# How Keyspaces (ReadTimeout) and Cassandra (Overloaded) refuse load: retried
# after a backoff as long as the deadline allows (test_throttling.py), not once.
THROTTLED = {"overloaded", "read_timeout"}


def up_hosts(daemon):
    return {line.split("cql: ", 1)[1].split(" is up")[0]
            for line in daemon.log_text().splitlines() if " is up" in line}


@pytest.fixture
def cluster(start_cqld, start_daemon):
    """Two nodes and a daemon connected to both; returns (daemon, a, b)."""
    a, b = start_cqld(), start_cqld()
    daemon = start_daemon(a.port, wait_ready=True, CACHE="off",
                          CASSANDRA_HOSTS=f"127.0.0.1:{a.port},127.0.0.1:{b.port}",
                          CASSANDRA_DISCOVERY="off",
                          CASSANDRA_REQUEST_TIMEOUT_MS=REQUEST_TIMEOUT_MS,
                          CASSANDRA_LOOKUP_TIMEOUT_MS=LOOKUP_TIMEOUT_MS,
                          CASSANDRA_RECONNECT_MAX_MS=300,
                          # A fixed two connections per node: Overloaded and
                          # ReadTimeout would add some (test_throttling.py).
                          CASSANDRA_CONNECTIONS_PER_HOST_MAX=2)
    wait_for(lambda: len(up_hosts(daemon)) == 2, what="both nodes up")
    return daemon, a, b


def ask(port, name, key, timeout=10.0):
    """One socketmap lookup over a fresh connection: (reply bytes, seconds)."""
    t0 = time.monotonic()
    s = raw_connect(port)
    try:
        s.sendall(netstring(f"{name} {key}".encode()))
        reply = read_netstring(s, timeout=timeout)
    finally:
        s.close()
    return reply.decode(), time.monotonic() - t0


def counts(node):
    """cqld's counts once they stop moving: a lookup answers as soon as its
    best candidate allows, while reads of other candidates may still be on
    their way."""
    last = cqld_counts(node)
    while True:
        time.sleep(0.1)
        now = cqld_counts(node)
        if now == last:
            return now
        last = now


def total(*nodes):
    return sum(sum(counts(n).values()) for n in nodes)


def reads_per_round(postmap, daemon, a, b):
    """Reads (per table) that one healthy round of KEYS costs: a lookup
    reads every candidate of its map's search order."""
    a.control("reset-counts")
    b.control("reset-counts")
    assert_all_correct(postmap, daemon)
    ca, cb = counts(a), counts(b)
    return {t: ca.get(t, 0) + cb.get(t, 0) for t in set(ca) | set(cb)}


def assert_all_correct(postmap, daemon):
    for name, key, value in KEYS:
        assert postmap.query(daemon.port, name, key) == ("OK", value), (name, key)


def assert_all_temp_in_time(daemon, reason, also=()):
    for name, key, _ in KEYS:
        reply, took = ask(daemon.port, name, key)
        assert reply in [f"TEMP cassandra: {r}" for r in (reason, *also)], (name, key, reply)
        assert took < LATE_S, (name, key, took)


def test_latency_over_the_request_timeout_is_retried_on_the_other_node(cluster, postmap):
    daemon, a, b = cluster
    a.control(f"delay {REQUEST_TIMEOUT_MS * 3}")
    for _ in range(2):
        for name, key, value in KEYS:
            reply, took = ask(daemon.port, name, key)
            assert reply == f"OK {value}", (name, key, reply)
            assert took < LATE_S, (name, key, took)
    assert_all_correct(postmap, daemon)
    # Both slow: TEMP, after the request timeout of each attempt.
    b.control(f"delay {REQUEST_TIMEOUT_MS * 3}")
    assert_all_temp_in_time(daemon, "request timeout")
    a.control("delay 0")
    b.control("delay 0")
    wait_for(lambda: ask(daemon.port, "domains", "example.com")[0] == "OK example.com",
             timeout=5, what="answers once the nodes are fast again")


@pytest.mark.parametrize("code", sorted(RETRYABLE))
def test_retryable_error_is_retried_on_the_other_node(cluster, postmap, code):
    daemon, a, b = cluster
    reads = reads_per_round(postmap, daemon, a, b)
    a.control(f"fail {code}")
    a.control("reset-counts")
    b.control("reset-counts")
    assert_all_correct(postmap, daemon)
    # Every read was answered by b; the ones sent to a first were retried.
    assert counts(b) == reads
    assert total(a) > 0
    b.control(f"fail {code}")
    a.control("reset-counts")
    b.control("reset-counts")
    # A throttled read is retried until the deadline, which on a loaded
    # machine may answer before the last retry does.
    assert_all_temp_in_time(daemon, RETRYABLE[code],
                            also=("request timeout",) if code in THROTTLED else ())
    # At most one retry each: no read went twice to a node. The failing
    # first candidate of every lookup was tried on both nodes; reads of
    # lower candidates still waiting for their retry when the lookup
    # answered TEMP may be dropped, so a node can see fewer.
    ca, cb = counts(a), counts(b)
    for table, n in reads.items():
        most = float("inf") if code in THROTTLED else n
        assert 1 <= ca.get(table, 0) <= most, (table, ca, reads)
        assert 1 <= cb.get(table, 0) <= most, (table, cb, reads)
    assert f"TEMP cassandra: {RETRYABLE[code]}" in daemon.log_text()


@pytest.mark.parametrize("code,status", [("syntax", "PERM"), ("invalid", "PERM"),
                                         ("unauthorized", "TEMP")])
def test_error_about_the_query_is_not_retried(cluster, code, status):
    daemon, a, b = cluster
    healthy = {}
    for name, key, _ in KEYS:
        a.control("reset-counts")
        b.control("reset-counts")
        ask(daemon.port, name, key)
        healthy[key] = total(a, b)      # one read per search-order candidate
    for node in (a, b):
        node.control(f"fail {code}")
    for name, key, _ in KEYS:
        a.control("reset-counts")
        b.control("reset-counts")
        reply, took = ask(daemon.port, name, key)
        assert reply.split(" ")[0] == status, (name, key, reply)
        # No read was sent twice.
        assert total(a, b) == healthy[key], (name, key, cqld_counts(a), cqld_counts(b))
    if status == "TEMP":
        assert reply == "TEMP cassandra: unauthorized"
    for node in (a, b):
        node.control("fail off")
    assert ask(daemon.port, "domains", "example.com")[0] == "OK example.com"


def test_a_node_that_stops_answering_is_avoided(cluster, postmap):
    daemon, a, b = cluster
    a.control("stall on")
    slow = 0
    for _ in range(20):
        reply, took = ask(daemon.port, "domains", "example.com")
        assert reply == "OK example.com", reply
        assert took < LATE_S, took
        slow += took > REQUEST_TIMEOUT_MS / 1000
    # Each of a's two connections costs one request timeout, then reads
    # keep away from it while it stays silent (without that: every other
    # lookup, or all). The slack is for a busy machine.
    assert slow <= 5, slow
    for name, key, value in KEYS * 2:
        reply, took = ask(daemon.port, name, key)
        assert reply == f"OK {value}", (name, key, reply)
        assert took < LATE_S, (name, key, took)
    assert_all_correct(postmap, daemon)


def test_the_lookup_deadline_holds_even_over_a_longer_request_timeout(start_cqld, start_daemon):
    a, b = start_cqld(), start_cqld()
    daemon = start_daemon(a.port, wait_ready=True, CACHE="off",
                          CASSANDRA_HOSTS=f"127.0.0.1:{a.port},127.0.0.1:{b.port}",
                          CASSANDRA_REQUEST_TIMEOUT_MS=2000, CASSANDRA_LOOKUP_TIMEOUT_MS=400)
    wait_for(lambda: len(up_hosts(daemon)) == 2, what="both nodes up")
    a.control("stall on")
    b.control("stall on")
    for name, key, _ in KEYS:
        reply, took = ask(daemon.port, name, key)
        assert reply == "TEMP cassandra: request timeout", reply
        # The deadline, not the request timeout (2 s), ends it; the rest
        # is slack for a busy machine.
        assert 0.35 < took < 1.5, (name, key, took)
    a.control("stall off")
    b.control("stall off")
    # The requests cut short by the deadline are answered late and let go.
    wait_for(lambda: ask(daemon.port, "domains", "example.com")[0] == "OK example.com",
             timeout=10, what="answers after the stall")


def test_every_node_silent_gives_temp_within_the_deadline_then_recovers(cluster, postmap):
    daemon, a, b = cluster
    a.control("stall on")
    b.control("stall on")
    assert_all_temp_in_time(daemon, "request timeout")
    # Also over Postfix's own client, and never NOTFOUND for a missing key.
    assert postmap.query(daemon.port, "users", "nobody@example.com")[0] == "TEMP"
    a.control("stall off")
    b.control("stall off")
    wait_for(lambda: ask(daemon.port, "domains", "example.com")[0] == "OK example.com",
             timeout=10, what="answers after the stall")
    assert_all_correct(postmap, daemon)


def test_cut_connections_are_replaced(cluster, postmap):
    daemon, a, b = cluster
    for _ in range(3):
        a.control("drop")
        b.control("drop")
        # Right after the cut a lookup may find no connection yet: TEMP,
        # never NOTFOUND; shortly after, the right answer.
        for name, key, value in KEYS:
            reply, _ = ask(daemon.port, name, key)
            assert reply in (f"OK {value}", "TEMP cassandra: not connected",
                             "TEMP cassandra: connection lost"), reply
        wait_for(lambda: len(up_hosts(daemon)) >= 2 and
                 ask(daemon.port, "domains", "example.com")[0] == "OK example.com",
                 timeout=5, what="reconnection")
    # One node cut while the other stays: no lookup notices.
    a.control("drop")
    assert_all_correct(postmap, daemon)


def test_a_refusing_node_is_left_alone_while_the_other_serves(cluster, postmap):
    daemon, a, b = cluster
    a.control("refuse on")
    a.control("drop")
    time.sleep(0.3)
    a.control("reset-counts")
    for _ in range(3):
        assert_all_correct(postmap, daemon)
    assert total(a) == 0
    a.control("refuse off")
    wait_for(lambda: (assert_all_correct(postmap, daemon), total(a) > 0)[1],
             timeout=10, what="the node back in use")


def test_memory_and_connections_stay_bounded_under_faults(cluster):
    daemon, a, b = cluster
    faults = ["delay 600", "fail overloaded", "stall on", "drop", "fail read_timeout 3",
              "fail syntax 2", "fail server_error"]
    clears = ["delay 0", "fail off", "stall off"]

    def round_of_faults():
        for fault in faults:
            a.control(fault)
            for name, key, value in KEYS:
                reply, took = ask(daemon.port, name, key)
                # b is healthy: syntax is the only failure not retried.
                assert reply == f"OK {value}" or reply.startswith("PERM map "), reply
                assert took < LATE_S
            for clear in clears:
                a.control(clear)

    round_of_faults()                    # warm up: buffers, allocator arenas
    wait_for(lambda: len(up_hosts(daemon)) >= 2, what="nodes up")
    before = proc_usage(daemon.proc.pid)
    for _ in range(3):
        round_of_faults()
    time.sleep(0.5)                      # replaced connections settle
    after = proc_usage(daemon.proc.pid)
    assert after[0] <= before[0] + rss_bound_kb(1024), (before, after)
    # Two nodes, two connections each, listener, loop internals: no growth.
    assert after[1] <= before[1] + 2, (before, after)
    # A clean exit, with LeakSanitizer's blessing in a sanitized build.
    assert daemon.stop() == 0, daemon.log_text()[-3000:]

def test_a_silent_connection_is_found_by_its_heartbeat(start_cqld, start_daemon):
    node = start_cqld()
    daemon = start_daemon(node.port, wait_ready=True, CACHE="off",
                          CASSANDRA_HEARTBEAT_MS=300, CASSANDRA_REQUEST_TIMEOUT_MS=200,
                          CASSANDRA_CONNECT_TIMEOUT_MS=300)
    node.control("stall on")
    # No lookup runs: only the heartbeat can notice.
    wait_for(lambda: "heartbeat not answered" in daemon.log_text(), timeout=5,
             what="the missed heartbeat")
    assert ask(daemon.port, "domains", "example.com")[0].startswith("TEMP cassandra: ")
    node.control("stall off")
    wait_for(lambda: ask(daemon.port, "domains", "example.com")[0] == "OK example.com", timeout=10,
             what="a new connection")


def test_a_node_that_forgot_the_statement_gets_it_again(start_cqld, start_daemon):
    node = start_cqld()
    daemon = start_daemon(node.port, wait_ready=True, CACHE="off")
    node.control("fail unprepared 1")
    node.control("reset-counts")
    # Unprepared: PREPARE on that connection, EXECUTE again, answer.
    assert ask(daemon.port, "domains", "example.com")[0] == "OK example.com"
    assert counts(node) == {"mailion.domains": 2}
    # A node that keeps forgetting: one re-prepare per lookup, then TEMP.
    node.control("fail unprepared")
    node.control("reset-counts")
    assert ask(daemon.port, "domains", "example.com")[0] == "TEMP cassandra: unprepared"
    assert counts(node) == {"mailion.domains": 2}
