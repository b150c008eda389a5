"""End-to-end tests of cqld, the in-memory CQL test server.

cqld stands in for Cassandra in every other test, so here the real DataStax
Python driver (python3-cassandra) must connect, negotiate, prepare, execute
and read rows from it exactly as from Cassandra.  A second group speaks the
native protocol by hand to check framing corner cases (bad versions,
pipelining, partial frames, malformed bodies), and a third drives the
control socket (exec, counts, fail, delay, stall, drop, refuse).  The
password exchange and the peers tables are checked at the frame level here;
tests/e2e/test_cqld_drivers.py runs three real drivers over TLS and
authentication.

Run:  /usr/bin/python3 -m pytest -q tests/e2e/test_cqld_python_driver.py

Environment:
  CQLD          path of the cqld binary (default $PAC_BUILD/cqld, build/cqld)
  CQLD_WRAPPER  command prefix, e.g. "valgrind --error-exitcode=99 -q"
  CQLD_DATA     CQL file loaded at startup (default tests/e2e/data/driver.cql)

No driver option is required: schema and token metadata stay enabled
(cqld serves system.local, system.peers, system.peers_v2, which the driver
reads first, and system_schema.*).  Tests pass
a RoundRobinPolicy (in an execution profile) only to silence the driver's
warning about contact points without a load balancing policy.
"""

import os
import shlex
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest
from cassandra import (InvalidRequest, ReadTimeout, Unavailable,
                       ConsistencyLevel)
from cassandra.cluster import (Cluster, NoHostAvailable, ExecutionProfile,
                               EXEC_PROFILE_DEFAULT)
from cassandra.policies import (RoundRobinPolicy, FallthroughRetryPolicy,
                                ConstantReconnectionPolicy)
from cassandra.protocol import SyntaxException
from cassandra.query import SimpleStatement

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("PAC_BUILD", "build")
CQLD = Path(os.environ.get("CQLD", BUILD / "cqld"))
WRAPPER = shlex.split(os.environ.get("CQLD_WRAPPER", ""))
DATA = Path(os.environ.get("CQLD_DATA",
                           ROOT / "tests" / "e2e" / "data" / "driver.cql"))
DEMO = ROOT / "examples" / "demo.cql"
START_TIMEOUT = 30 if WRAPPER else 10     # seconds to wait for the port file

# native protocol opcodes and codes used by the raw tests
OP_ERROR, OP_STARTUP, OP_READY, OP_OPTIONS, OP_SUPPORTED = 0, 1, 2, 5, 6
OP_QUERY, OP_RESULT, OP_PREPARE, OP_EXECUTE, OP_REGISTER = 7, 8, 9, 10, 11
OP_BATCH, OP_AUTHENTICATE, OP_AUTH_RESPONSE, OP_AUTH_SUCCESS = 13, 3, 15, 16
ERR_BAD_CREDENTIALS = 0x0100
ERR_PROTOCOL, ERR_INVALID, ERR_SYNTAX, ERR_UNPREPARED = (0x000A, 0x2200,
                                                         0x2000, 0x2500)


class Cqld:
    """One cqld process on ephemeral ports, with its control socket."""

    def __init__(self, tmp, args=(), loads=(DATA,)):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        pf = self.tmp / "cqld.port"
        cpf = self.tmp / "cqld.control"
        for f in (pf, cpf):
            if f.exists():
                f.unlink()
        cmd = WRAPPER + [str(CQLD), "--listen", "127.0.0.1:0",
                         "--port-file", str(pf),
                         "--control", "127.0.0.1:0",
                         "--control-port-file", str(cpf)]
        for f in loads:
            cmd += ["--load", str(f)]
        cmd += list(args)
        self.stderr_path = self.tmp / "cqld.stderr"
        self.stderr = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.stderr)
        deadline = time.monotonic() + START_TIMEOUT
        while not pf.exists():
            if self.proc.poll() is not None:
                raise RuntimeError("cqld exited %d: %s" % (
                    self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("cqld did not start: " + self.log())
            time.sleep(0.01)
        self.port = int(pf.read_text())
        self.control_port = int(cpf.read_text())

    def log(self):
        if not self.stderr.closed:
            self.stderr.flush()
        return self.stderr_path.read_text()

    def control(self, line):
        """Send one control command, return its reply line."""
        with socket.create_connection(("127.0.0.1", self.control_port),
                                      timeout=10) as s:
            s.sendall(line.encode() + b"\n")
            f = s.makefile("rb")
            return f.readline().decode().rstrip("\n")

    def stop(self):
        """SIGTERM, then SIGKILL if it lingers; return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15 if WRAPPER else 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode


def cluster_for(srv, **kw):
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    kw.setdefault("execution_profiles", {EXEC_PROFILE_DEFAULT: profile})
    kw.setdefault("connect_timeout", 10)
    return Cluster(["127.0.0.1"], port=srv.port, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Cqld(tmp_path_factory.mktemp("cqld"))
    try:
        yield srv
    finally:
        rc = srv.stop()
        # a clean SIGTERM exit; under ASan/valgrind also "no errors"
        assert rc == 0, "cqld exit status %d\n%s" % (rc, srv.log())


@pytest.fixture(autouse=True)
def reset_control(request):
    """Leave the shared server as found: no faults, no delay."""
    yield
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        if srv.proc.poll() is None:
            for cmd in ("fail off", "delay 0", "stall off", "refuse off",
                        "paging off"):
                srv.control(cmd)


@pytest.fixture(scope="module")
def cluster(server):
    c = cluster_for(server, protocol_version=4)
    try:
        yield c
    finally:
        c.shutdown()


@pytest.fixture(scope="module")
def session(cluster):
    return cluster.connect()


# ---- the driver ----------------------------------------------------------

def test_connect_v4_and_metadata(cluster, session):
    assert cluster.protocol_version == 4
    host = cluster.metadata.all_hosts()[0]
    assert host.release_version.startswith("3.11")
    assert host.datacenter == "datacenter1"
    ks = cluster.metadata.keyspaces["mailion"]
    assert set(ks.tables) >= {"domains", "users", "relay_domains",
                              "virtual_aliases", "transport_maps",
                              "access_maps", "mailboxes"}
    mb = ks.tables["mailboxes"]
    assert [c.name for c in mb.partition_key] == ["domain"]
    assert [c.name for c in mb.clustering_key] == ["localpart"]
    assert mb.columns["aliases"].cql_type == "set<text>"


def test_prepared_select_text_boolean(session):
    ps = session.prepare("SELECT domain, active FROM mailion.domains "
                         "WHERE domain = ?")
    assert ps.routing_key_indexes == [0]
    assert [c.name for c in ps.column_metadata] == ["domain"]
    row = session.execute(ps, ["example.com"]).one()
    assert row.domain == "example.com" and row.active is True
    row = session.execute(ps, ["inactive.example"]).one()
    assert row.active is False
    assert session.execute(ps, ["missing.example"]).one() is None

    ps = session.prepare("SELECT destination FROM mailion.virtual_aliases "
                         "WHERE alias = ?")
    assert session.execute(ps, ["o'brien@example.com"]).one().destination \
        == "bob@example.com"


def test_clustering_set_int_bigint(session):
    ps = session.prepare("SELECT * FROM mailion.mailboxes WHERE domain = ?")
    rows = list(session.execute(ps, ["example.com"]))
    assert [r.localpart for r in rows] == ["alice", "bob", "carol"]
    alice, bob, carol = rows
    assert set(alice.aliases) == {"postmaster", "abuse", "al"}
    assert list(alice.aliases) == ["abuse", "al", "postmaster"]  # sorted
    assert alice.quota == 5368709120 and alice.msgs == -3
    assert bob.aliases is None                 # empty set reads as null
    assert carol.quota == 1073741824 and carol.msgs == 7

    ps = session.prepare("SELECT msgs FROM mailion.mailboxes "
                         "WHERE domain = ? AND localpart = ?")
    assert session.execute(ps, ["example.com", "carol"]).one().msgs == 7
    rows = session.execute("SELECT localpart FROM mailion.mailboxes WHERE "
                           "domain = 'example.com' ORDER BY localpart DESC")
    assert [r.localpart for r in rows] == ["carol", "bob", "alice"]
    rows = session.execute("SELECT localpart FROM mailion.mailboxes WHERE "
                           "domain = 'example.com' AND localpart > 'alice'")
    assert [r.localpart for r in rows] == ["bob", "carol"]


def test_prepared_insert_roundtrip(session):
    ins = session.prepare("INSERT INTO mailion.mailboxes "
                          "(domain, localpart, aliases, quota, msgs) "
                          "VALUES (?, ?, ?, ?, ?)")
    assert ins.routing_key_indexes == [0]
    session.execute(ins, ["new.example", "dave", {"d2", "d1", "d1"},
                          2 ** 40, -2 ** 31])
    row = session.execute(
        "SELECT * FROM mailion.mailboxes WHERE domain = %s AND "
        "localpart = %s", ["new.example", "dave"]).one()
    assert list(row.aliases) == ["d1", "d2"]
    assert row.quota == 2 ** 40 and row.msgs == -2 ** 31

    # upsert over the same key, then UPDATE and DELETE
    session.execute(ins, ["new.example", "dave", None, 1, 1])
    row = session.execute("SELECT aliases, quota FROM mailion.mailboxes "
                          "WHERE domain = 'new.example'").one()
    assert row.aliases is None and row.quota == 1
    upd = session.prepare("UPDATE mailion.domains SET active = ? "
                          "WHERE domain = ?")
    session.execute(upd, [False, "upd.example"])
    assert session.execute("SELECT active FROM mailion.domains WHERE "
                           "domain = 'upd.example'").one().active is False
    session.execute("DELETE FROM mailion.domains WHERE domain = "
                    "'upd.example'")
    assert session.execute("SELECT * FROM mailion.domains WHERE domain = "
                           "'upd.example'").one() is None


def test_use_keyspace_and_lwt(cluster):
    s = cluster.connect("mailion")
    try:
        assert s.execute("SELECT count(*) FROM users").one().count == 2
        r = s.execute("INSERT INTO users (email, active) VALUES "
                      "('alice@example.com', false) IF NOT EXISTS").one()
        assert r.applied is False and r.active is True
        r = s.execute("INSERT INTO users (email, active) VALUES "
                      "('lwt@example.com', true) IF NOT EXISTS").one()
        assert r.applied is True
    finally:
        s.shutdown()


def test_paging(session):
    s = session
    ins = s.prepare("INSERT INTO mailion.access_maps (sender, action) "
                    "VALUES (?, ?)")
    for i in range(7):
        s.execute(ins, ["page%d@example" % i, "OK"])
    st = SimpleStatement("SELECT sender FROM mailion.access_maps",
                         fetch_size=3)
    rs = s.execute(st)
    assert rs.has_more_pages
    senders = [r.sender for r in rs]           # fetches the other pages
    assert len(senders) == len(set(senders)) >= 7
    rows = list(s.execute("SELECT * FROM mailion.access_maps LIMIT 2"))
    assert len(rows) == 2


def test_batch(session):
    from cassandra.query import BatchStatement
    ins = session.prepare("INSERT INTO mailion.relay_domains (domain, active) "
                          "VALUES (?, ?)")
    b = BatchStatement()
    b.add(ins, ["b1.example", True])
    b.add(ins, ["b2.example", False])
    b.add("UPDATE mailion.relay_domains SET active = true WHERE domain = "
          "'b2.example'")
    session.execute(b)
    rows = session.execute("SELECT active FROM mailion.relay_domains WHERE "
                           "domain = 'b2.example'")
    assert rows.one().active is True
    b = BatchStatement()
    b.add("SELECT * FROM mailion.relay_domains")
    with pytest.raises(InvalidRequest, match="Invalid statement in batch"):
        session.execute(b)


def test_errors(session):
    with pytest.raises(InvalidRequest, match="unconfigured table nope"):
        session.execute("SELECT * FROM mailion.nope")
    with pytest.raises(InvalidRequest, match="Keyspace 'nokeyspace' does "
                                             "not exist"):
        session.execute("SELECT * FROM nokeyspace.t")
    with pytest.raises(InvalidRequest, match="No keyspace has been"):
        session.execute("SELECT * FROM domains")
    with pytest.raises(InvalidRequest, match="Undefined column name bogus"):
        session.execute("SELECT bogus FROM mailion.domains")
    with pytest.raises(InvalidRequest, match="Undefined column name bogus"):
        session.prepare("SELECT * FROM mailion.domains WHERE bogus = ?")
    with pytest.raises(SyntaxException):
        session.execute("this is not CQL")
    with pytest.raises(SyntaxException):
        session.prepare("SELECT * FROM")
    with pytest.raises(InvalidRequest, match="bind variables"):
        session.execute(SimpleStatement(
            "SELECT * FROM mailion.domains WHERE domain = ?"))
    with pytest.raises(InvalidRequest, match="Invalid STRING constant"):
        session.execute("INSERT INTO mailion.mailboxes (domain, localpart, "
                        "msgs) VALUES ('a', 'b', 'seven')")
    with pytest.raises(InvalidRequest, match="ALLOW FILTERING"):
        session.execute("SELECT * FROM mailion.domains WHERE active = true")
    rows = session.execute("SELECT * FROM mailion.domains WHERE active = "
                           "false ALLOW FILTERING")
    assert {r.domain for r in rows} >= {"inactive.example"}
    with pytest.raises(InvalidRequest, match="partition key parts are "
                                             "missing"):
        session.execute("INSERT INTO mailion.domains (active) VALUES (true)")
    with pytest.raises(InvalidRequest, match="Key may not be empty"):
        session.execute("INSERT INTO mailion.domains (domain) VALUES ('')")
    # after all that the session is still healthy
    assert session.execute("SELECT * FROM system.local").one().key == "local"


def test_ddl_through_driver(cluster, session):
    session.execute("CREATE KEYSPACE ddl WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE ddl.t (k int, c smallint, v tinyint, "
                    "l list<text>, PRIMARY KEY (k, c)) "
                    "WITH CLUSTERING ORDER BY (c DESC)")
    assert "t" in cluster.metadata.keyspaces["ddl"].tables
    ins = session.prepare("INSERT INTO ddl.t (k, c, v, l) VALUES (?, ?, ?, ?)")
    for c in (1, 3, 2):
        session.execute(ins, [7, c, c * 10, ["b", "a", "b"]])
    rows = list(session.execute("SELECT c, v, l FROM ddl.t WHERE k = 7"))
    assert [r.c for r in rows] == [3, 2, 1]
    assert rows[0].v == 30 and rows[0].l == ["b", "a", "b"]
    with pytest.raises(Exception):      # AlreadyExists
        session.execute("CREATE TABLE ddl.t (k int PRIMARY KEY)")
    session.execute("CREATE TABLE IF NOT EXISTS ddl.t (k int PRIMARY KEY)")
    session.execute("TRUNCATE ddl.t")
    assert session.execute("SELECT * FROM ddl.t").one() is None
    session.execute("DROP TABLE ddl.t")
    session.execute("DROP KEYSPACE ddl")
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM ddl.t")


def test_protocol_v3(server):
    c = cluster_for(server, protocol_version=3)
    try:
        s = c.connect()
        assert c.protocol_version == 3
        ps = s.prepare("SELECT email, active FROM mailion.users "
                       "WHERE email = ?")
        row = s.execute(ps, ["alice@example.com"]).one()
        assert row.active is True
        rows = s.execute("SELECT aliases FROM mailion.mailboxes WHERE "
                         "domain = 'example.com' AND localpart = 'carol'")
        assert list(rows.one().aliases) == ["c", "carol.x"]
    finally:
        c.shutdown()


def test_negotiates_down_to_v4(server):
    c = cluster_for(server)             # no protocol_version: starts high
    try:
        c.connect().execute("SELECT * FROM mailion.domains")
        assert c.protocol_version == 4
    finally:
        c.shutdown()


def test_max_protocol_3_negotiation(tmp_path):
    srv = Cqld(tmp_path, args=["--max-protocol", "3"])
    try:
        c = cluster_for(srv)
        try:
            s = c.connect()
            assert c.protocol_version == 3
            ps = s.prepare("SELECT active FROM mailion.domains "
                           "WHERE domain = ?")
            assert s.execute(ps, ["example.com"]).one().active is True
        finally:
            c.shutdown()
        c = cluster_for(srv, protocol_version=4)    # explicit v4 refused
        try:
            with pytest.raises(NoHostAvailable):
                c.connect()
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0


def test_demo_schema_loads(tmp_path):
    if not DEMO.exists():
        pytest.skip("examples/demo.cql does not exist yet")
    srv = Cqld(tmp_path, loads=(DEMO,))
    try:
        c = cluster_for(srv, protocol_version=4)
        try:
            c.connect()
            ks = c.metadata.keyspaces["mailion"]
            assert "domains" in ks.tables
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0


# ---- the control socket -----------------------------------------------------

def read_pages(rs):
    """Every page of a result, fetched one by one (ResultSet iteration in
    python3-cassandra 3.25 stops at an empty page that is not the last:
    apache/cassandra-python-driver#1110, fixed in 3.26)."""
    pages = [list(rs.current_rows)]
    while rs.has_more_pages:
        rs.fetch_next_page()
        pages.append(list(rs.current_rows))
    return pages


def test_paging_cut_by_data_budget_with_empty_pages(server, session):
    """cqld pages as Keyspaces does (a data budget per page, pages of zero
    rows that still carry a paging state); the real driver reads the whole
    result across them, by EXECUTE and by QUERY."""
    s = session
    s.execute("CREATE TABLE IF NOT EXISTS mailion.paged "
              "(k text, c int, v text, PRIMARY KEY (k, c))")
    ins = s.prepare("INSERT INTO mailion.paged (k, c, v) VALUES (?, ?, ?)")
    want = ["dest%02d@example.com" % i for i in range(9)]
    for i, v in enumerate(want):
        s.execute(ins, ["list@example.com", i, v])
    sel = s.prepare("SELECT v FROM mailion.paged WHERE k = ?")
    sel.fetch_size = 4
    # About two rows' worth of cells per page; every page with rows comes
    # after an empty one, the first page included.
    assert server.control("paging 30 empty") == "ok paging 30 empty"
    rs = s.execute(sel, ["list@example.com"])
    assert rs.current_rows == [] and rs.has_more_pages   # an empty first page
    pages = read_pages(rs)
    assert [r.v for p in pages for r in p] == want
    assert len(pages) == 10 and [] in pages[1:-1]        # empty middle pages
    assert max(len(p) for p in pages) == 2                # the budget cuts
    st = SimpleStatement("SELECT v FROM mailion.paged WHERE k = "
                         "'list@example.com'", fetch_size=3)
    pages = read_pages(s.execute(st))
    assert [r.v for p in pages for r in p] == want and [] in pages[1:-1]
    # Without empty pages, iteration fetches on by itself.
    assert server.control("paging 30") == "ok paging 30"
    assert [r.v for r in s.execute(sel, ["list@example.com"])] == want
    # The page size still cuts when the budget would not.
    assert server.control("paging 100000") == "ok paging 100000"
    rs = s.execute(st)
    assert len(rs.current_rows) == 3 and rs.has_more_pages
    assert [r.v for r in rs] == want
    assert server.control("paging off") == "ok paging off"
    assert server.control("paging lots").startswith("error usage")


def test_control_exec_then_read(server, session):
    assert server.control("exec INSERT INTO mailion.transport_maps "
                          "(address, transport) VALUES ('ctl.example', "
                          "'smtp:[relay.example]:25')") == "ok"
    row = session.execute("SELECT transport FROM mailion.transport_maps "
                          "WHERE address = 'ctl.example'").one()
    assert row.transport == "smtp:[relay.example]:25"
    assert server.control("exec SELECT * FROM mailion.transport_maps "
                          "WHERE address = 'ctl.example'") == "ok 1 rows"
    assert server.control("exec SELECT * FROM nope").startswith("error ")
    assert server.control("exec garbage").startswith("error line 1:0")
    assert server.control("bogus").startswith("error unknown command")


def test_control_counts(server, session):
    assert server.control("reset-counts") == "ok"
    ps = session.prepare("SELECT * FROM mailion.relay_domains "
                         "WHERE domain = ?")
    for _ in range(3):
        session.execute(ps, ["relay.example"])
    session.execute("SELECT * FROM mailion.users")
    session.execute("SELECT * FROM system.local")   # not counted
    assert server.control("counts") == \
        "ok mailion.relay_domains=3 mailion.users=1"
    server.control("reset-counts")
    assert server.control("counts") == "ok"


def test_control_fail_read_timeout(server, session):
    ps = session.prepare("SELECT * FROM mailion.domains WHERE domain = ?")
    assert server.control("fail read_timeout 1") == "ok fail read_timeout 1"
    with pytest.raises(ReadTimeout) as ei:
        session.execute(ps, ["example.com"])
    assert ei.value.received_responses == 0
    assert ei.value.required_responses == 1
    # only one was failed; system tables were never affected
    assert session.execute(ps, ["example.com"]).one().active is True


def test_control_fail_unavailable_and_others(server, session):
    stmt = SimpleStatement("SELECT * FROM mailion.users",
                           consistency_level=ConsistencyLevel.LOCAL_QUORUM,
                           retry_policy=FallthroughRetryPolicy())
    server.control("fail unavailable")
    for _ in range(2):                  # until "fail off"
        with pytest.raises(Unavailable) as ei:
            session.execute(stmt)
        assert ei.value.consistency == ConsistencyLevel.LOCAL_QUORUM
        assert ei.value.required_replicas == 1
        assert ei.value.alive_replicas == 0
    assert session.execute("SELECT * FROM system.local").one() is not None
    server.control("fail off")
    session.execute(stmt)
    server.control("fail invalid 1")
    with pytest.raises(InvalidRequest, match="injected"):
        session.execute(stmt)
    server.control("fail syntax 1")
    with pytest.raises(SyntaxException):
        session.execute(stmt)
    assert server.control("fail nonsense").startswith("error usage")


def test_control_fail_unprepared_reprepares(server, session):
    ps = session.prepare("SELECT * FROM mailion.virtual_aliases "
                         "WHERE alias = ?")
    server.control("reset-counts")
    server.control("fail unprepared 1")
    row = session.execute(ps, ["postmaster@example.com"]).one()
    assert row.destination == "alice@example.com"
    # the driver re-prepared and executed again
    assert server.control("counts") == "ok mailion.virtual_aliases=2"


def test_control_delay(server, session):
    ps = session.prepare("SELECT * FROM mailion.domains WHERE domain = ?")
    assert server.control("delay 300") == "ok delay 300"
    t0 = time.monotonic()
    session.execute(ps, ["example.com"])
    assert time.monotonic() - t0 >= 0.29
    server.control("delay 0")
    t0 = time.monotonic()
    session.execute(ps, ["example.com"])
    assert time.monotonic() - t0 < 0.25
    assert server.control("delay -1").startswith("error")


def test_control_drop_and_driver_recovers(server):
    c = cluster_for(server, protocol_version=4,
                    reconnection_policy=ConstantReconnectionPolicy(0.2))
    try:
        s = c.connect()
        s.execute("SELECT * FROM mailion.domains")
        assert server.control("drop").startswith("ok dropped ")
        deadline = time.monotonic() + 20
        while True:
            try:
                s.execute("SELECT * FROM mailion.domains")
                break
            except (NoHostAvailable, Exception):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        c.shutdown()


# ---- raw protocol -----------------------------------------------------------

def frame(opcode, body=b"", stream=0, version=4, flags=0):
    return struct.pack(">BBhBi", version, flags, stream, opcode,
                       len(body)) + body


def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def long_string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def startup_body():
    return struct.pack(">H", 1) + string("CQL_VERSION") + string("3.0.0")


def query_body(q, consistency=1, flags=0, extra=b""):
    return long_string(q) + struct.pack(">HB", consistency, flags) + extra


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed after %d bytes" % len(data))
        data += chunk
    return data


def read_frame(sock):
    version, flags, stream, opcode, length = struct.unpack(
        ">BBhBi", recv_exact(sock, 9))
    return version, flags, stream, opcode, recv_exact(sock, length)


def error_of(body):
    code, n = struct.unpack(">iH", body[:6])
    return code, body[6:6 + n].decode()


def raw_conn(srv, startup=True):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    if startup:
        s.sendall(frame(OP_STARTUP, startup_body()))
        assert read_frame(s)[3] == OP_READY
    return s


def test_raw_unsupported_versions(server):
    for v, reply_v in ((5, 4), (0x42, 4), (1, 1), (2, 2)):
        with socket.create_connection(("127.0.0.1", server.port),
                                      timeout=5) as s:
            if v < 3:   # 8-byte v1/v2 header with a one-byte stream id
                s.sendall(struct.pack(">BBbBi", v, 0, 9, OP_OPTIONS, 0))
                hv, flags, stream, op, n = struct.unpack(
                    ">BBbBi", recv_exact(s, 8))
                body = recv_exact(s, n)
            else:
                s.sendall(frame(OP_OPTIONS, stream=9, version=v))
                hv, flags, stream, op, body = read_frame(s)
            assert hv == 0x80 | reply_v and stream == 9 and op == OP_ERROR
            code, msg = error_of(body)
            assert code == ERR_PROTOCOL
            assert msg == ("Invalid or unsupported protocol version (%d); "
                           "supported versions are (3/v3, 4/v4)" % v)
            assert s.recv(1) == b""             # then closed


def test_raw_pipelined_and_partial(server):
    s = raw_conn(server, startup=False)
    with s:
        reqs = (frame(OP_OPTIONS, stream=1) +
                frame(OP_STARTUP, startup_body(), stream=2) +
                frame(OP_QUERY, query_body("SELECT * FROM mailion.domains"),
                      stream=3) +
                frame(OP_REGISTER, struct.pack(">H", 1) +
                      string("SCHEMA_CHANGE"), stream=4) +
                frame(OP_QUERY, query_body("USE mailion"), stream=5) +
                frame(OP_QUERY, query_body("SELECT * FROM users"), stream=6))
        s.sendall(reqs)
        got = {}
        for _ in range(6):
            _, _, stream, op, body = read_frame(s)
            got[stream] = (op, body)
        assert got[1][0] == OP_SUPPORTED and b"CQL_VERSION" in got[1][1]
        assert got[2][0] == OP_READY and got[4][0] == OP_READY
        assert got[3][0] == OP_RESULT and got[6][0] == OP_RESULT
        assert struct.unpack(">i", got[5][1][:4])[0] == 3    # SetKeyspace
        # one frame dribbled byte by byte
        for b in frame(OP_OPTIONS, stream=77):
            s.sendall(bytes([b]))
            time.sleep(0.001)
        assert read_frame(s)[2:4] == (77, OP_SUPPORTED)


def test_raw_errors_keep_connection(server):
    with raw_conn(server, startup=False) as s:
        s.sendall(frame(OP_QUERY, query_body("SELECT * FROM system.local"),
                        stream=1))
        _, _, stream, op, body = read_frame(s)
        assert (stream, op) == (1, OP_ERROR)
        assert error_of(body)[0] == ERR_PROTOCOL     # STARTUP first
    with raw_conn(server) as s:
        cases = [
            (OP_QUERY, b"\x00\x00"),                     # truncated
            (OP_QUERY, b"\x7f\xff\xff\xff"),             # huge string len
            (OP_QUERY, query_body("SELECT * FROM mailion.domains",
                                  flags=0x01, extra=b"\x00\x05")),
            (OP_EXECUTE, b"\x00\x10" + b"x" * 16 + b"\x00\x01\x00"),
            (OP_PREPARE, b"\xff\xff\xff\xff"),
            (OP_BATCH, b"\x00\x00\x01\x07"),
            (OP_STARTUP, b""),                           # again
            (0x42, b""),                                 # unknown opcode
            (OP_QUERY, query_body("SELECT * FROM mailion.domains",
                                  flags=0x01,
                                  extra=b"\x00\x01\xff\xff\xff\xf0")),
        ]
        for i, (op, body) in enumerate(cases):
            s.sendall(frame(op, body, stream=100 + i))
            _, _, stream, rop, rbody = read_frame(s)
            assert (stream, rop) == (100 + i, OP_ERROR), (op, body)
        code, msg = error_of(rbody)
        assert code == ERR_PROTOCOL
        # still alive
        s.sendall(frame(OP_OPTIONS, stream=5))
        assert read_frame(s)[3] == OP_SUPPORTED


def test_raw_unprepared_and_bad_values(server):
    with raw_conn(server) as s:
        qid = b"\x01\x02\x03\x04" * 4
        s.sendall(frame(OP_EXECUTE, struct.pack(">H", 16) + qid +
                        struct.pack(">HB", 1, 0), stream=3))
        _, _, _, op, body = read_frame(s)
        code, msg = error_of(body)
        assert (op, code) == (OP_ERROR, ERR_UNPREPARED)
        n = 6 + len(msg.encode())
        assert body[n:] == struct.pack(">H", 16) + qid
        # prepare, then bind a 3-byte value to an int column
        s.sendall(frame(OP_PREPARE, long_string(
            "SELECT * FROM mailion.mailboxes WHERE domain = 'x' AND "
            "localpart = 'y' AND msgs = ? ALLOW FILTERING"), stream=4))
        _, _, _, op, body = read_frame(s)
        assert op == OP_RESULT and struct.unpack(">i", body[:4])[0] == 4
        idlen = struct.unpack(">H", body[4:6])[0]
        pid = body[6:6 + idlen]
        params = struct.pack(">HBH", 1, 0x01, 1) + struct.pack(">i", 3) + \
            b"abc"
        s.sendall(frame(OP_EXECUTE, struct.pack(">H", idlen) + pid + params,
                        stream=5))
        _, _, _, op, body = read_frame(s)
        assert op == OP_ERROR and error_of(body)[0] == ERR_INVALID
        # text that is not UTF-8
        s.sendall(frame(OP_QUERY, query_body(
            "SELECT * FROM mailion.domains WHERE domain = ?", flags=0x01,
            extra=struct.pack(">Hi", 1, 2) + b"\xff\xfe"), stream=6))
        _, _, _, op, body = read_frame(s)
        assert op == OP_ERROR and error_of(body)[0] == ERR_INVALID


def test_raw_oversized_and_compressed(server):
    with raw_conn(server) as s:
        s.sendall(struct.pack(">BBhBi", 4, 0, 1, OP_QUERY, 0x7FFFFFFF))
        _, _, _, op, body = read_frame(s)
        assert op == OP_ERROR and error_of(body)[0] == ERR_PROTOCOL
        assert s.recv(1) == b""
    with raw_conn(server) as s:
        s.sendall(frame(OP_OPTIONS, stream=2, flags=0x01))
        _, _, _, op, body = read_frame(s)
        assert op == OP_ERROR and error_of(body)[0] == ERR_PROTOCOL


def test_raw_garbage_never_kills_server(server):
    import random
    rnd = random.Random(4242)
    for i in range(300):
        try:
            with raw_conn(server, startup=(i % 2 == 0)) as s:
                op = rnd.choice([OP_STARTUP, OP_OPTIONS, OP_QUERY,
                                 OP_PREPARE, OP_EXECUTE, OP_REGISTER,
                                 OP_BATCH, rnd.randrange(256)])
                body = bytes(rnd.randrange(256)
                             for _ in range(rnd.randrange(40)))
                s.sendall(frame(op, body, stream=rnd.randrange(-1, 300),
                                version=rnd.choice([3, 4]),
                                flags=rnd.choice([0, 0, 2, 4, 8])))
                s.settimeout(2)
                read_frame(s)
        except (EOFError, ConnectionError):
            pass
    with raw_conn(server) as s:
        s.sendall(frame(OP_OPTIONS, stream=1))
        assert read_frame(s)[3] == OP_SUPPORTED


def test_control_stall_and_refuse(server):
    with raw_conn(server) as s:
        assert server.control("stall on") == "ok stall on"
        s.sendall(frame(OP_OPTIONS, stream=1))
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(1)
        server.control("stall off")
        s.settimeout(5)
        s.sendall(frame(OP_OPTIONS, stream=2))
        assert read_frame(s)[2:4] == (2, OP_SUPPORTED)   # 1 was dropped
    assert server.control("refuse on") == "ok refuse on"
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=5) as s:
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
    server.control("refuse off")
    with raw_conn(server) as s:
        s.sendall(frame(OP_OPTIONS, stream=3))
        assert read_frame(s)[3] == OP_SUPPORTED


def bytes_value(b):
    return struct.pack(">i", len(b)) + b


def test_raw_password_auth(tmp_path):
    """The exchange as Cassandra's PasswordAuthenticator runs it."""
    srv = Cqld(tmp_path, args=["--auth", "password:cassandra:s3:cret"])
    try:
        with raw_conn(srv, startup=False) as s:
            s.sendall(frame(OP_STARTUP, startup_body(), stream=1))
            _, _, stream, op, body = read_frame(s)
            assert (stream, op) == (1, OP_AUTHENTICATE)
            assert body == string("org.apache.cassandra.auth."
                                  "PasswordAuthenticator")
            # nothing but OPTIONS and AUTH_RESPONSE until authenticated
            s.sendall(frame(OP_QUERY, query_body("SELECT * FROM "
                                                 "system.local"), stream=2))
            _, _, stream, op, body = read_frame(s)
            assert (stream, op) == (2, OP_ERROR)
            assert error_of(body) == (ERR_PROTOCOL, "Unexpected message "
                                      "QUERY, expecting SASL_RESPONSE")
            s.sendall(frame(OP_OPTIONS, stream=3))
            assert read_frame(s)[3] == OP_SUPPORTED
            # wrong password, then malformed tokens: Bad credentials, and
            # the connection stays for another try
            for token, msg in (
                    (b"\0cassandra\0s3", "Provided username cassandra "
                     "and/or password are incorrect"),
                    (b"\0nobody\0s3:cret", "Provided username nobody "
                     "and/or password are incorrect"),
                    (b"no separator", "Password must not be null"),
                    (b"\0\0s3:cret", "Authentication ID must not be null")):
                s.sendall(frame(OP_AUTH_RESPONSE, bytes_value(token),
                                stream=4))
                _, _, stream, op, body = read_frame(s)
                assert (stream, op) == (4, OP_ERROR)
                assert error_of(body) == (ERR_BAD_CREDENTIALS, msg)
            # SASL PLAIN with an authorization id, and a ':' in the password
            s.sendall(frame(OP_AUTH_RESPONSE,
                            bytes_value(b"authz\0cassandra\0s3:cret"),
                            stream=5))
            _, _, stream, op, body = read_frame(s)
            assert (stream, op, body) == (5, OP_AUTH_SUCCESS,
                                          struct.pack(">i", -1))
            s.sendall(frame(OP_QUERY, query_body("SELECT key FROM "
                                                 "system.local"), stream=6))
            assert read_frame(s)[3] == OP_RESULT
            s.sendall(frame(OP_AUTH_RESPONSE, bytes_value(b"\0a\0b"),
                            stream=7))
            _, _, stream, op, body = read_frame(s)
            assert op == OP_ERROR and error_of(body)[0] == ERR_PROTOCOL
        # "user\0pass" without the leading NUL is PLAIN too
        with raw_conn(srv, startup=False) as s:
            s.sendall(frame(OP_STARTUP, startup_body()))
            assert read_frame(s)[3] == OP_AUTHENTICATE
            s.sendall(frame(OP_AUTH_RESPONSE,
                            bytes_value(b"cassandra\0s3:cret")))
            assert read_frame(s)[3] == OP_AUTH_SUCCESS
    finally:
        assert srv.stop() == 0


def test_driver_password_auth(tmp_path):
    from cassandra.auth import PlainTextAuthProvider
    srv = Cqld(tmp_path, args=["--auth", "password:cassandra:s3cret"])
    try:
        c = cluster_for(srv, protocol_version=4, auth_provider=
                        PlainTextAuthProvider("cassandra", "s3cret"))
        try:
            row = c.connect().execute("SELECT active FROM mailion.domains "
                                      "WHERE domain = 'example.com'").one()
            assert row.active is True
        finally:
            c.shutdown()
        c = cluster_for(srv, protocol_version=4, auth_provider=
                        PlainTextAuthProvider("cassandra", "wrong"))
        try:
            with pytest.raises(NoHostAvailable, match="Provided username "
                               "cassandra and/or password are incorrect"):
                c.connect()
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0


def test_peers_tables(tmp_path):
    """system.local and both peers tables agree on who is who."""
    srv = Cqld(tmp_path, args=["--dc", "dc-a", "--peers",
                               "127.0.0.1:9101,127.0.0.1:9102@dc-b,"
                               "[::1]:9103"])
    try:
        c = cluster_for(srv, protocol_version=4)
        try:
            s = c.connect()
            local = s.execute("SELECT * FROM system.local").one()
            assert (local.data_center, local.rack) == ("dc-a", "rack1")
            assert local.release_version == "3.11.16"
            v2 = {(str(r.peer), r.peer_port): r for r in
                  s.execute("SELECT * FROM system.peers_v2")}
            assert set(v2) == {("127.0.0.1", 9101), ("127.0.0.1", 9102),
                               ("::1", 9103)}
            assert v2["127.0.0.1", 9102].data_center == "dc-b"
            assert v2["::1", 9103].data_center == "dc-a"
            for (addr, port), r in v2.items():
                assert (r.native_address, r.native_port) == (addr, port)
                assert r.rack == "rack1" and len(r.tokens) == 1
                assert r.schema_version == local.schema_version
            ids = {r.host_id for r in v2.values()} | {local.host_id}
            assert len(ids) == 4
            # system.peers is keyed by address: one row per address
            v1 = {str(r.peer): r for r in s.execute("SELECT * FROM "
                                                     "system.peers")}
            assert set(v1) == {"127.0.0.1", "::1"}
            assert v1["127.0.0.1"].host_id == v2["127.0.0.1", 9102].host_id
            # the driver read peers_v2 and knows every node by its port
            ports = {h.endpoint.port for h in c.metadata.all_hosts()}
            assert ports == {srv.port, 9101, 9102, 9103}
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0


# ---- process behaviour ------------------------------------------------------

def run_cqld(*args, timeout=10):
    return subprocess.run(WRAPPER + [str(CQLD)] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def test_load_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.cql"
    bad.write_text("CREATE KEYSPACE k WITH replication = {'class': 'x'};\n"
                   "\n"
                   "CREATE TABLE k.t (a text PRIMARY KEY) ;\n"
                   "INSERT INTO k.t (a) VALUES (1);\n")
    r = run_cqld("--listen", "127.0.0.1:0", "--load", str(bad))
    assert r.returncode == 2
    assert r.stderr.startswith("cqld: %s:4: Invalid INTEGER constant" % bad)
    bad.write_text("-- comment\nCREATE KEYSPACE k WITH replication = {;\n")
    r = run_cqld("--listen", "127.0.0.1:0", "--load", str(bad))
    assert r.returncode == 2
    assert r.stderr.startswith("cqld: %s:2: line 2:" % bad)
    r = run_cqld("--listen", "127.0.0.1:0", "--load", str(tmp_path / "no"))
    assert r.returncode == 2


def test_bad_options():
    for args in (["--bogus"], ["--max-protocol", "5"], ["--listen", "nope"],
                 ["--delay-ms", "x"], ["extra"], ["--tls-cert", "x.pem"],
                 ["--peers", "localhost:9042"], ["--peers", "127.0.0.1:0"],
                 ["--peers", "127.0.0.1:1@bad dc"], ["--dc", "a'b"],
                 ["--release-version", ""]):
        r = run_cqld(*args)
        assert r.returncode == 2 and "usage: cqld" in r.stderr, args


def test_auth_and_tls_startup_errors(tmp_path):
    for spec, msg in (
            ("kerberos:x", "cqld: --auth: unknown authentication mode "
             "'kerberos'"),
            ("password:nopass", "cqld: --auth: bad --auth password:"
             "USER:PASS")):
        r = run_cqld("--listen", "127.0.0.1:0", "--auth", spec)
        assert r.returncode == 2 and r.stderr.startswith(msg), r.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    r = run_cqld("--listen", "127.0.0.1:0", "--tls-cert",
                 str(tmp_path / "missing.pem"), "--tls-key", str(junk))
    assert r.returncode == 2
    assert r.stderr.startswith("cqld: cannot load TLS certificate from %s: "
                               % (tmp_path / "missing.pem")), r.stderr
    r = run_cqld("--listen", "127.0.0.1:0", "--tls-cert", str(junk),
                 "--tls-key", str(junk))
    assert r.returncode == 2
    assert r.stderr.startswith("cqld: cannot load TLS certificate from "
                               "%s" % junk), r.stderr


def test_delay_ms_option_and_wrong_direction(tmp_path):
    srv = Cqld(tmp_path, args=["--delay-ms", "200"])
    try:
        with raw_conn(srv, startup=False) as s:
            t0 = time.monotonic()
            s.sendall(frame(OP_OPTIONS, stream=1) + frame(OP_OPTIONS,
                                                          stream=2))
            assert {read_frame(s)[2], read_frame(s)[2]} == {1, 2}
            assert 0.19 <= time.monotonic() - t0 < 2
            # a response frame sent to the server: error at once, close
            t0 = time.monotonic()
            s.sendall(frame(OP_OPTIONS, stream=3, version=0x84))
            _, _, stream, op, body = read_frame(s)
            assert (stream, op) == (3, OP_ERROR)
            assert error_of(body)[0] == ERR_PROTOCOL
            assert time.monotonic() - t0 < 0.19
            assert s.recv(1) == b""
    finally:
        assert srv.stop() == 0


def test_sigterm_exits_zero(tmp_path):
    srv = Cqld(tmp_path)
    with raw_conn(srv):
        t0 = time.monotonic()
        assert srv.stop() == 0
        assert time.monotonic() - t0 < (10 if WRAPPER else 2)
    assert "cqld: listening on 127.0.0.1:%d" % srv.port in srv.log()
