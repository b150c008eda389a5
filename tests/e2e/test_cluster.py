"""A cluster of Cassandra nodes loses one, gets it back, then loses all.

Three cqld nodes hold the same data; the daemon knows all three. Postfix
lookups run all the time, over persistent socketmap connections as smtpd
keeps them and through postmap. Stopping one node costs at most the lookups
in flight at that moment (here: none, since a read that loses its connection
is retried on another node); once the daemon has noticed, every answer is
right. The node restarted on its port is used again. With every node gone,
lookups answer TEMP within the lookup deadline, never NOTFOUND.
"""
import socket
import threading
import time

import pytest

from conftest import (DEMO_CQL, cqld_counts, netstring, raw_connect, read_netstring,
                      wait_for)
from test_hostile_server import HostileNode

REQUEST_TIMEOUT_MS = 300
LOOKUP_TIMEOUT_MS = 1000

KEYS = [
    ("domains", "example.com", "OK example.com"),
    ("users", "alice@example.com", "OK example.com/alice/"),
    ("virtual_aliases", "info@example.com", "OK alice@example.com"),
    ("transport_maps", "example.net", "OK smtp:[relay.example.net]:587"),
    ("users", "nobody@example.com", "NOTFOUND "),
]


class Lookups:
    """Client threads asking KEYS in a loop; every answer is recorded as
    (time sent, time answered, key, expected, reply)."""

    def __init__(self, port, postmap=None, clients=3):
        self.port = port
        self.postmap = postmap
        self.clients = clients
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.threads = []

    def record(self, sent, key, expected, reply):
        with self.lock:
            self.log.append((sent, time.monotonic(), key, expected, reply))

    def socketmap_client(self):
        s = None
        i = 0
        while not self.stop_flag.is_set():
            name, key, expected = KEYS[i % len(KEYS)]
            i += 1
            if s is None:
                s = raw_connect(self.port)
            sent = time.monotonic()
            try:
                s.sendall(netstring(f"{name} {key}".encode()))
                reply = read_netstring(s, timeout=10).decode()
            except (OSError, EOFError) as e:
                reply = f"client error: {e}"
                s.close()
                s = None
            self.record(sent, key, expected, reply)
        if s:
            s.close()

    def postmap_client(self):
        i = 0
        while not self.stop_flag.is_set():
            name, key, expected = KEYS[i % len(KEYS)]
            i += 1
            sent = time.monotonic()
            status, value = self.postmap.query(self.port, name, key)
            reply = f"{status} {value}" if status in ("OK", "NOTFOUND") else status
            self.record(sent, key, expected, reply)

    def __enter__(self):
        targets = [self.socketmap_client] * self.clients
        if self.postmap:
            targets.append(self.postmap_client)
        self.threads = [threading.Thread(target=t, daemon=True) for t in targets]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)

    def since(self, t):
        with self.lock:
            return [e for e in self.log if e[0] >= t]

    def wait_answers(self, n, after, timeout=10):
        wait_for(lambda: len(self.since(after)) >= n, timeout=timeout,
                 what=f"{n} answers")

    def notfound_for_existing(self):
        with self.lock:
            return [e for e in self.log if e[4].startswith("NOTFOUND") and
                    not e[3].startswith("NOTFOUND")]


def up_hosts(daemon):
    return {line.split("cql: ", 1)[1].split(" is up")[0]
            for line in daemon.log_text().splitlines() if " is up" in line}


def log_time(daemon, text, timeout=5):
    """Wait until the daemon logs text; return the time it was seen."""
    wait_for(lambda: text in daemon.log_text(), timeout=timeout, interval=0.01,
             what=repr(text))
    return time.monotonic()


@pytest.fixture
def cluster(start_cqld, start_daemon):
    nodes = [start_cqld() for _ in range(3)]
    hosts = ",".join(f"127.0.0.1:{n.port}" for n in nodes)
    daemon = start_daemon(nodes[0].port, wait_ready=True, CACHE="off",
                          CASSANDRA_HOSTS=hosts, CASSANDRA_DISCOVERY="off",
                          CASSANDRA_REQUEST_TIMEOUT_MS=REQUEST_TIMEOUT_MS,
                          CASSANDRA_LOOKUP_TIMEOUT_MS=LOOKUP_TIMEOUT_MS,
                          CASSANDRA_RECONNECT_MAX_MS=300)
    wait_for(lambda: len(up_hosts(daemon)) == 3, what="three nodes up")
    return daemon, nodes


def test_losing_a_node_costs_nothing_and_it_comes_back(cluster, start_cqld, postmap):
    daemon, nodes = cluster
    a, b, c = nodes
    with Lookups(daemon.port, postmap) as lookups:
        t0 = time.monotonic()
        lookups.wait_answers(50, t0)
        for n in nodes:
            assert sum(cqld_counts(n).values()) > 0, "every node takes a share"

        # One node goes away while lookups run.
        t_stop = time.monotonic()
        b.stop()
        t_noticed = log_time(daemon, f"lost connection to 127.0.0.1:{b.port}")
        lookups.wait_answers(100, t_noticed)
        in_flight = lookups.clients + 1
        during = lookups.since(t_stop - 1)
        bad = [e for e in during if e[4] != e[3]]
        assert len(bad) <= in_flight, bad
        assert all(e[0] < t_noticed for e in bad), bad
        after = lookups.since(t_noticed)
        assert [e for e in after if e[4] != e[3]] == []
        for n in (a, c):
            n.control("reset-counts")
        lookups.wait_answers(30, time.monotonic())
        assert sum(cqld_counts(a).values()) > 0 and sum(cqld_counts(c).values()) > 0

        # It comes back on its port and is used again.
        b2 = start_cqld(port=b.port)
        wait_for(lambda: sum(cqld_counts(b2).values()) > 10, timeout=10,
                 what="the restarted node in use")
        t_back = time.monotonic()
        lookups.wait_answers(50, t_back)
        assert [e for e in lookups.since(t_back) if e[4] != e[3]] == []

        # All nodes go: TEMP, within the lookup deadline, never NOTFOUND.
        for n in (a, b2, c):
            n.stop()
        t_all = time.monotonic()
        time.sleep(1.5)
        lookups.wait_answers(20, t_all + 1.5)
        late = lookups.since(t_all + 1.5)
        assert {e[4] for e in late} <= {"TEMP cassandra: not connected", "TEMP"}, \
            {e[4] for e in late}
        # Every lookup sent while nodes were failing was answered in time.
        slow = [e for e in lookups.since(t_all) if e[1] - e[0] > LOOKUP_TIMEOUT_MS / 1000 + 1]
        assert slow == []
    assert lookups.notfound_for_existing() == []
    assert [e for e in lookups.log if e[4].startswith("client error")] == []
    assert daemon.stop() == 0, daemon.log_text()[-3000:]


def free_ports(n):
    """n distinct free loopback ports (each node must know the others' ports
    before it starts)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_peers(start_cqld, dcs):
    """Nodes that list each other in system.peers(_v2); dcs[i] is node i's
    data center."""
    ports = free_ports(len(dcs))
    nodes = []
    for i, (port, dc) in enumerate(zip(ports, dcs)):
        others = ",".join(f"127.0.0.1:{p}@{d}" for j, (p, d) in enumerate(zip(ports, dcs))
                          if j != i)
        nodes.append(start_cqld(port=port, extra=["--dc", dc, "--peers", others]))
    return nodes


def reads(node):
    return sum(cqld_counts(node).values())


def ask_many(port, n=30):
    s = raw_connect(port)
    try:
        for i in range(n):
            name, key, expected = KEYS[i % len(KEYS)]
            s.sendall(netstring(f"{name} {key}".encode()))
            assert read_netstring(s).decode() == expected, (name, key)
    finally:
        s.close()


def test_one_contact_host_finds_the_whole_cluster(start_cqld, start_daemon):
    a, b, c = start_peers(start_cqld, ["dc1", "dc1", "dc1"])
    daemon = start_daemon(a.port, CACHE="off")
    for n in (b, c):
        log_time(daemon, f"discovered node 127.0.0.1:{n.port}")
    wait_for(lambda: len(up_hosts(daemon)) == 3, what="three nodes up")
    ask_many(daemon.port)
    assert all(reads(n) > 0 for n in (a, b, c)), [cqld_counts(n) for n in (a, b, c)]
    # The contact goes: the discovered nodes carry on.
    a.stop()
    log_time(daemon, f"lost connection to 127.0.0.1:{a.port}")
    ask_many(daemon.port)


def peer_node(start_cqld, port, *peers):
    """A node on port whose system.peers lists the nodes on the peers ports."""
    return start_cqld(port=port, extra=["--peers", ",".join(f"127.0.0.1:{p}" for p in peers)])


def changing_cluster(start_cqld, start_daemon):
    """Nodes a and b listing each other, a free port for a third node, and a
    daemon that knows only a, refreshes every 300 ms, has discovered b and
    is connected to it."""
    pa, pb, pc = free_ports(3)
    a = peer_node(start_cqld, pa, pb)
    b = peer_node(start_cqld, pb, pa)
    daemon = start_daemon(a.port, CACHE="off", CASSANDRA_REFRESH_MS=300)
    log_time(daemon, f"discovered node 127.0.0.1:{b.port}")
    # Discovered is not yet connected: a node whose connections never came
    # up is "cannot connect", never "is down", when it stops.
    log_time(daemon, f"cql: 127.0.0.1:{b.port} is up", timeout=10)
    return a, b, pc, daemon


def test_nodes_that_join_later_are_found(start_cqld, start_daemon):
    # c joins: a lists it when restarted on its port. Reconnecting to a
    # does not read the peers again (discovery runs on the first usable
    # connection); CASSANDRA_REFRESH_MS does.
    a, b, pc, daemon = changing_cluster(start_cqld, start_daemon)
    c = peer_node(start_cqld, pc, a.port, b.port)
    a.stop()
    a = peer_node(start_cqld, a.port, b.port, c.port)
    log_time(daemon, f"discovered node 127.0.0.1:{c.port}")
    wait_for(lambda: len(up_hosts(daemon)) == 3, what="three nodes up")
    c.control("reset-counts")
    ask_many(daemon.port)
    assert reads(c) > 0, cqld_counts(c)
    # Known nodes are not added twice however often the peers are read.
    time.sleep(1)
    assert daemon.log_text().count(f"discovered node 127.0.0.1:{b.port}") == 1


def test_nodes_that_leave_are_forgotten(start_cqld, start_daemon):
    a, b, pc, daemon = changing_cluster(start_cqld, start_daemon)
    # Down but still listed: kept, and tried again with backoff.
    b.stop()
    log_time(daemon, f"127.0.0.1:{b.port} is down")
    time.sleep(2)
    assert "forgetting" not in daemon.log_text()
    # Down and no longer listed (c replaced it): forgotten.
    c = peer_node(start_cqld, pc, a.port)
    a.stop()
    a = peer_node(start_cqld, a.port, c.port)
    log_time(daemon, f"discovered node 127.0.0.1:{c.port}")
    log_time(daemon, f"forgetting node 127.0.0.1:{b.port}: down, and no longer listed by "
                     "system.peers", timeout=10)
    ask_many(daemon.port)
    assert "forgetting node 127.0.0.1:" + str(a.port) not in daemon.log_text()
    assert "forgetting node 127.0.0.1:" + str(c.port) not in daemon.log_text()


def test_a_node_behind_on_the_schema_is_avoided(tmp_path, start_cqld, start_daemon):
    # b has not seen the CREATE TABLE of virtual_aliases yet: it refuses that
    # map's PREPARE, which a accepted. That is b's problem, not the query's:
    # reads go to a (never PERM), and b serves once it has caught up. (When
    # b's refusal came first, b is up with the other maps; an alias read
    # sent there meets the refusal again and goes to a.)
    statements = DEMO_CQL.read_text().split(";")
    lagging = tmp_path / "lagging.cql"
    lagging.write_text(";".join(st for st in statements if "mailion.virtual_aliases" not in st))
    a = start_cqld()
    b = start_cqld(lagging)
    daemon = start_daemon(a.port, CACHE="off", CASSANDRA_DISCOVERY="off",
                          CASSANDRA_HOSTS=f"127.0.0.1:{a.port},127.0.0.1:{b.port}",
                          CASSANDRA_RECONNECT_MAX_MS=300)
    log_time(daemon, f"cql: 127.0.0.1:{a.port} is up")
    for _ in range(3):
        ask_many(daemon.port, 20)          # each alias lookup OK, none PERM
        time.sleep(0.3)                    # b's connections retry meanwhile
    assert f"cql: 127.0.0.1:{b.port} refuses \"SELECT" in daemon.log_text()
    # b catches up: it serves too.
    for st in statements:
        if "mailion.virtual_aliases" in st:
            cql = " ".join(line for line in st.splitlines() if not line.startswith("--"))
            b.control("exec " + " ".join(cql.split()))
    log_time(daemon, f"cql: 127.0.0.1:{b.port} is up", timeout=10)
    b.control("reset-counts")
    ask_many(daemon.port, 40)
    assert cqld_counts(b).get("mailion.virtual_aliases", 0) > 0, cqld_counts(b)


def test_discovery_falls_back_to_system_peers(start_cqld, start_daemon):
    # A node without system.peers_v2 (Cassandra 3, Keyspaces, Scylla): the
    # HostileNode relay answers that query with Invalid, as they do.
    a = start_cqld()
    node = HostileNode(a.port, refuse_peers_v2=True)
    try:
        daemon = start_daemon(node.port, CACHE="off", LOG_LEVEL="debug")
        log_time(daemon, "no system.peers_v2 (unconfigured table peers_v2); reading system.peers")
        ask_many(daemon.port, 5)
        assert "cannot read system.peers" not in daemon.log_text()
    finally:
        node.close()


def test_local_datacenter_first_the_others_when_it_is_gone(start_cqld, start_daemon):
    a, b, c = start_peers(start_cqld, ["east", "east", "west"])
    daemon = start_daemon(c.port, CACHE="off", CASSANDRA_LOCAL_DC="east",
                          CASSANDRA_REQUEST_TIMEOUT_MS=REQUEST_TIMEOUT_MS,
                          CASSANDRA_LOOKUP_TIMEOUT_MS=LOOKUP_TIMEOUT_MS)
    wait_for(lambda: len(up_hosts(daemon)) == 3, what="three nodes up")
    for n in (a, b, c):
        n.control("reset-counts")
    ask_many(daemon.port)
    # The contact c is in the remote datacenter: it learnt so from system.local.
    assert reads(c) == 0 and reads(a) > 0 and reads(b) > 0
    a.stop()
    b.stop()
    ask_many(daemon.port)
    assert reads(c) > 0
