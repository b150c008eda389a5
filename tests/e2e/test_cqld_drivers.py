"""Three real drivers use cqld as they would Cassandra.

cqld's fidelity is earned by the drivers applications use: the DataStax
Python driver (Debian's python3-cassandra), gocql (Debian's
golang-github-gocql-gocql-dev, built offline by mk/drivers.mk) and the
DataStax Node.js driver (cassandra-driver 4.10.0 from the npm lock file).
Each one connects over TLS (verifying cqld's certificate against the test CA
of tls_certs.py, host name 127.0.0.1 against the IP SAN), authenticates with
PasswordAuthenticator, prepares and executes statements with bound values,
reads text, boolean, int, bigint and set<text> columns, and gets a proper
Invalid error (0x2200 "unconfigured table nope") for a bad query. Wrong
passwords and untrusted certificates must fail the way they fail against
Cassandra.

Then three cqld processes emulate a cluster (--peers): every node listens
on 127.0.0.1 with its own port, so the drivers can only find the others
through system.peers_v2, which carries native_port.

The Go and Node programs (tests/drivers/gocql/main.go,
tests/drivers/node/driver_check.js) take host, port, credentials and CA as
arguments and print one JSON object; the assertions are here. No driver
needs an option to accept cqld, with two exceptions, each commented where
it is used: gocql reads system.peers_v2 only from nodes claiming release 4.0
or later (--release-version 4.0.11 for the cluster), and the Node.js driver
4.10 never reads system.peers_v2 (it is left out of the cluster test).

Last, cqld --keyspaces plays the Amazon Keyspaces endpoint and each driver
is set up as AWS's developer guide sets it up for Keyspaces (the Node.js
driver with AWS's SigV4 plugin from npm; the Python driver and gocql with the
same SigV4 exchange in keyspaces_auth.py and main.go, as AWS publishes
those plugins on PyPI and GitHub only): they must see the endpoint's
addresses as peers, Keyspaces' consistency errors, and pages cut by data
read, with empty ones, followed to the end.

Missing go, gocql sources, node or node_modules make the tests FAIL (not
skip), naming scripts/install-deps.sh.

Run:  /usr/bin/python3 -m pytest -q tests/e2e/test_cqld_drivers.py
"""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from cassandra import InvalidRequest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (Cluster, ExecutionProfile, NoHostAvailable,
                               EXEC_PROFILE_DEFAULT)
from cassandra.policies import RoundRobinPolicy

from conftest import wait_for
from test_cqld_python_driver import Cqld
from tls_certs import session_pki

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("PAC_BUILD", "build")
GOCQL_SRC = Path("/usr/share/gocode/src/github.com/gocql/gocql")
NODE_DIR = ROOT / "tests" / "drivers" / "node"
NODE_CHECK = NODE_DIR / "driver_check.js"
USER, PASSWORD = "cassandra", "s3cret"
DRIVER_TIMEOUT = 120        # seconds for one driver program run
CLUSTER_SIZE = 3
INSTALL_HINT = "run scripts/install-deps.sh"


# ---- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


def tls_auth_args(pki):
    return ["--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
            "--auth", "password:%s:%s" % (USER, PASSWORD)]


@pytest.fixture(scope="module")
def secure(pki, tmp_path_factory):
    """One cqld with TLS and password authentication."""
    srv = Cqld(tmp_path_factory.mktemp("secure"), args=tls_auth_args(pki))
    try:
        yield srv
    finally:
        assert srv.stop() == 0, srv.log()


def free_ports(n):
    """n distinct ports the kernel just handed out on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture(scope="module")
def cluster3(pki, tmp_path_factory):
    """Three cqld nodes, each listing the other two in --peers.

    Ports must be known before the nodes start (each names the others), so
    they are taken from the kernel and released just before; a start that
    loses that race is retried with new ports.
    """
    for attempt in range(3):
        ports = free_ports(CLUSTER_SIZE)
        nodes = []
        try:
            for i, port in enumerate(ports):
                peers = ",".join("127.0.0.1:%d" % p for p in ports
                                 if p != port)
                # gocql reads system.peers_v2 only from a node whose
                # release_version is 4.0 or later; from a 3.11 node it
                # reads system.peers, which cannot give the ports
                nodes.append(Cqld(
                    tmp_path_factory.mktemp("node%d" % i),
                    args=tls_auth_args(pki) + [
                        "--listen", "127.0.0.1:%d" % port,
                        "--peers", peers, "--release-version", "4.0.11"]))
            break
        except RuntimeError:
            for n in nodes:
                n.stop()
            if attempt == 2:
                raise
    try:
        yield nodes
    finally:
        for n in nodes:
            assert n.stop() == 0, n.log()


@pytest.fixture(scope="module")
def gocql_check():
    """build/gocql-check, built by mk/drivers.mk (offline, GOPATH mode)."""
    if shutil.which("go") is None:
        pytest.fail("go is not installed: " + INSTALL_HINT)
    if not GOCQL_SRC.is_dir():
        pytest.fail("gocql sources missing (%s): %s" % (GOCQL_SRC,
                                                        INSTALL_HINT))
    r = subprocess.run(["make", "-s", "BUILD=%s" % BUILD, "gocql-check"],
                       cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, "make gocql-check failed:\n" + r.stdout + \
        r.stderr
    return BUILD / "gocql-check"


@pytest.fixture(scope="module")
def node_check():
    if shutil.which("node") is None:
        pytest.fail("node is not installed: " + INSTALL_HINT)
    if not (NODE_DIR / "node_modules" / "cassandra-driver").is_dir():
        pytest.fail("tests/drivers/node/node_modules is missing: " +
                    INSTALL_HINT)
    return ["node", str(NODE_CHECK)]


def run_driver(argv, port, ca=None, user=USER, password=PASSWORD,
               extra=()):
    """Run a driver program; return (exit status, its JSON)."""
    argv = list(argv) + ["--port" if "node" in argv[0] else "-port",
                         str(port)]
    dash = "--" if "node" in argv[0] else "-"
    if user is not None:
        argv += [dash + "user", user, dash + "password", password]
    if ca is not None:
        argv += [dash + "ca", ca]
    argv += list(extra)
    r = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True,
                       timeout=DRIVER_TIMEOUT)
    lines = r.stdout.strip().splitlines()
    assert lines, "no JSON from %s (exit %d):\n%s" % (argv, r.returncode,
                                                      r.stderr)
    return r.returncode, json.loads(lines[-1])


def assert_round_trip(res, tag):
    """What every driver must have seen on a healthy connection."""
    assert res["connected"] is True, res
    for step in ("insert_domain_error", "insert_mailbox_error"):
        assert res.get(step) is None, res
    assert res["domain"]["domain"] == tag + ".example"
    assert res["domain"]["active"] is True
    assert res["inactive"]["active"] is False
    written, fixture = res["mailbox_written"], res["mailbox_fixture"]
    # set<text> comes back sorted and deduplicated; bigint in full
    assert written["aliases"] == ["d1", "d2"]
    assert int(written["quota"]) == 2 ** 40
    assert written["msgs"] == -2 ** 31
    assert fixture["aliases"] == ["abuse", "al", "postmaster"]
    assert int(fixture["quota"]) == 5368709120 and fixture["msgs"] == -3
    assert res["bad_query_error"] == {"code": 0x2200,
                                      "message": "unconfigured table nope"}


# ---- the test PKI, served by cqld ----------------------------------------------

OPTIONS_FRAME = bytes([4, 0, 0, 1, 5, 0, 0, 0, 0])    # v4 OPTIONS, stream 1


@pytest.mark.parametrize("cert,trust,name,failure", [
    ("server", "ca_cert", "127.0.0.1", None),
    ("server", "ca_cert", "localhost", None),
    ("server", "other_ca_cert", "127.0.0.1", "unable to get local issuer"),
    ("expired", "ca_cert", "127.0.0.1", "certificate has expired"),
    ("wrong_host", "ca_cert", "127.0.0.1", "IP address mismatch"),
    ("wrong_host", "ca_cert", "localhost", "Hostname mismatch"),
])
def test_pki_served_by_cqld(pki, tmp_path, cert, trust, name, failure):
    """Each certificate of tls_certs.py fails (or not) as its name says."""
    srv = Cqld(tmp_path, args=["--tls-cert", getattr(pki, cert + "_cert"),
                               "--tls-key", getattr(pki, cert + "_key")])
    try:
        ctx = ssl.create_default_context(cafile=getattr(pki, trust))
        with socket.create_connection(("127.0.0.1", srv.port),
                                      timeout=10) as raw:
            if failure:
                with pytest.raises(ssl.SSLCertVerificationError,
                                   match=failure):
                    ctx.wrap_socket(raw, server_hostname=name)
                return
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                assert s.version() in ("TLSv1.2", "TLSv1.3")
                s.sendall(OPTIONS_FRAME)
                head = b""
                while len(head) < 9:
                    chunk = s.recv(9 - len(head))
                    assert chunk, "connection closed"
                    head += chunk
                assert head[0] == 0x84 and head[4] == 6     # SUPPORTED
    finally:
        assert srv.stop() == 0, srv.log()


# ---- DataStax Python driver -------------------------------------------------

def python_cluster(port, pki, ca=None, user=USER, password=PASSWORD,
                   contact=None, **kw):
    ctx = None
    if pki is not None:
        ctx = ssl.create_default_context(cafile=ca or pki.ca_cert)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    auth = PlainTextAuthProvider(user, password) if user else None
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    return Cluster(contact or ["127.0.0.1"], port=port, ssl_context=ctx,
                   auth_provider=auth, protocol_version=4,
                   connect_timeout=10,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **kw)


def server_error(exc):
    """Code and message of a server error the Python driver raised."""
    m = re.match(r'Error from server: code=([0-9a-f]{4}) \[[^]]*\] '
                 r'message="(.*)"$', str(exc))
    assert m, str(exc)
    return {"code": int(m.group(1), 16), "message": m.group(2)}


def test_python_driver_tls_password(secure, pki):
    c = python_cluster(secure.port, pki)
    try:
        s = c.connect()
        tag = "python"
        ins = s.prepare("INSERT INTO mailion.domains (domain, active) "
                        "VALUES (?, ?)")
        s.execute(ins, [tag + ".example", True])
        ins = s.prepare("INSERT INTO mailion.mailboxes (domain, localpart, "
                        "aliases, quota, msgs) VALUES (?, ?, ?, ?, ?)")
        s.execute(ins, [tag + ".example", "dave", {"d2", "d1"}, 2 ** 40,
                        -2 ** 31])
        dom = s.prepare("SELECT domain, active FROM mailion.domains "
                        "WHERE domain = ?")
        mb = s.prepare("SELECT aliases, quota, msgs FROM mailion.mailboxes "
                       "WHERE domain = ? AND localpart = ?")
        row = s.execute(dom, [tag + ".example"]).one()
        inactive = s.execute(dom, ["inactive.example"]).one()
        written = s.execute(mb, [tag + ".example", "dave"]).one()
        fixture = s.execute(mb, ["example.com", "alice"]).one()
        assert s.execute(dom, ["missing.example"]).one() is None
        with pytest.raises(InvalidRequest) as bad:
            s.execute("SELECT * FROM mailion.nope WHERE k = 'x'")
        res = {
            "connected": True,
            "domain": {"domain": row.domain, "active": row.active},
            "inactive": {"active": inactive.active},
            "mailbox_written": {"aliases": list(written.aliases),
                                "quota": written.quota,
                                "msgs": written.msgs},
            "mailbox_fixture": {"aliases": list(fixture.aliases),
                                "quota": fixture.quota,
                                "msgs": fixture.msgs},
            "bad_query_error": server_error(bad.value),
        }
        assert_round_trip(res, tag)
        assert c.protocol_version == 4
    finally:
        c.shutdown()


def test_python_driver_refusals(secure, pki):
    cases = (
        (dict(password="wrong"), "Provided username cassandra and/or "
                                 "password are incorrect"),
        (dict(user=None), "requires authentication"),
        (dict(ca=pki.other_ca_cert), "CERTIFICATE_VERIFY_FAILED"),
    )
    for kw, msg in cases:
        c = python_cluster(secure.port, pki, **kw)
        try:
            with pytest.raises(NoHostAvailable, match=msg):
                c.connect()
        finally:
            c.shutdown()
    # a client that does not speak TLS gets no CQL answer
    c = python_cluster(secure.port, None)
    try:
        with pytest.raises(NoHostAvailable):
            c.connect()
    finally:
        c.shutdown()


def test_python_driver_client_certificate(pki, tmp_path):
    """--tls-client-ca: a client certificate is required and verified."""
    srv = Cqld(tmp_path, args=tls_auth_args(pki) + ["--tls-client-ca",
                                                    pki.ca_cert])
    try:
        c = python_cluster(srv.port, pki)
        try:
            with pytest.raises(NoHostAvailable):
                c.connect()
        finally:
            c.shutdown()
        c = python_cluster(srv.port, pki)
        c.ssl_context.load_cert_chain(pki.client_cert, pki.client_key)
        try:
            assert c.connect().execute("SELECT key FROM system.local") \
                .one().key == "local"
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0, srv.log()


# ---- gocql -------------------------------------------------------------------

def test_gocql_tls_password(secure, pki, gocql_check):
    rc, res = run_driver([str(gocql_check)], secure.port, ca=pki.ca_cert,
                         extra=["-tag", "gocql"])
    assert rc == 0, res
    assert_round_trip(res, "gocql")
    assert res["missing_is_not_found"] is True
    assert res["hosts"] == ["127.0.0.1:%d" % secure.port]


def test_gocql_refusals(secure, pki, gocql_check):
    rc, res = run_driver([str(gocql_check)], secure.port, ca=pki.ca_cert,
                         password="wrong")
    assert rc == 1 and res["connected"] is False
    assert "Provided username cassandra and/or password are incorrect" \
        in res["error"]
    rc, res = run_driver([str(gocql_check)], secure.port,
                         ca=pki.other_ca_cert)
    assert rc == 1 and "certificate signed by unknown authority" \
        in res["error"]


# ---- DataStax Node.js driver -------------------------------------------------

def test_node_tls_password(secure, pki, node_check):
    rc, res = run_driver(node_check, secure.port, ca=pki.ca_cert,
                         extra=["--tag", "node"])
    assert rc == 0, res
    assert_round_trip(res, "node")
    assert res["missing_rows"] == 0
    # the driver starts at DSE_V2 (0x42) and settles on v4 after cqld's
    # "Invalid or unsupported protocol version" error, as with Cassandra
    assert res["protocol_version"] == 4
    assert res["hosts"] == ["127.0.0.1:%d" % secure.port]


def test_node_refusals(secure, pki, node_check):
    rc, res = run_driver(node_check, secure.port, ca=pki.ca_cert,
                         password="wrong")
    assert rc == 1 and res["connected"] is False
    assert res["error_kinds"] == ["AuthenticationError: Provided username "
                                  "cassandra and/or password are "
                                  "incorrect"]
    rc, res = run_driver(node_check, secure.port, ca=pki.other_ca_cert)
    assert rc == 1 and res["connected"] is False
    assert "unable to verify the first certificate" in res["error"]


# ---- an emulated cluster -----------------------------------------------------

def test_cluster_python_finds_peers_by_port(cluster3, pki):
    """The Python driver reads system.peers_v2 and uses every node."""
    ports = sorted(n.port for n in cluster3)
    for n in cluster3:
        n.control("reset-counts")
    c = python_cluster(cluster3[0].port, pki)
    try:
        s = c.connect()
        assert sorted(h.endpoint.port for h in c.metadata.all_hosts()) \
            == ports
        assert len({h.host_id for h in c.metadata.all_hosts()}) == 3
        # connect() returns with the contact point's pool; the pools of
        # the peers it found open in the background
        wait_for(lambda: len(s.get_pool_state()) == CLUSTER_SIZE and all(
            h.is_up for h in c.metadata.all_hosts()), what="3 pools")
        ps = s.prepare("SELECT active FROM mailion.domains WHERE domain = ?")
        for _ in range(3 * CLUSTER_SIZE):
            assert s.execute(ps, ["example.com"]).one().active is True
    finally:
        c.shutdown()
    # round robin over the three: every node served reads
    for n in cluster3:
        counts = n.control("counts")
        assert "mailion.domains=" in counts, counts


def test_cluster_gocql_finds_peers_by_port(cluster3, pki, gocql_check):
    rc, res = run_driver([str(gocql_check)], cluster3[0].port,
                         ca=pki.ca_cert,
                         extra=["-tag", "gocql-cluster", "-expect-hosts",
                                str(CLUSTER_SIZE)])
    assert rc == 0, res
    assert_round_trip(res, "gocql-cluster")
    assert res["hosts"] == sorted("127.0.0.1:%d" % n.port
                                  for n in cluster3)

# The Node.js driver 4.10 reads system.peers only and takes every peer's port
# from its own options, so it cannot reach nodes that share an address; it
# is not run against the cluster.


# ---- cqld --keyspaces: the drivers as AWS documents them for Keyspaces --------
#
# One cqld acts as the Keyspaces endpoint of KS_REGION: TLS, SigV4, release
# 3.11.2, its KS_ADDRESSES addresses (127.0.0.1 and up, one port) listed in
# system.peers, no system.peers_v2, reads at ONE/LOCAL_ONE/LOCAL_QUORUM only,
# pages cut at a data budget. Each driver is set up as AWS's developer guide
# sets it up for Keyspaces ("Using a Cassandra ... client driver to access
# Amazon Keyspaces programmatically"): TLS with the endpoint's CA, SigV4
# with the region, LOCAL_QUORUM, the region as local data center.

KS_REGION = "us-east-1"
KS_KEY_ID, KS_SECRET = "AKIDCQLDKEYSPACES", "cqld/keyspaces+secret"
KS_ADDRESSES = 10       # the public endpoint: itself and nine peers
KS_PAGED_DOMAIN = "paged.example"
KS_PAGED_ROWS = 25
KS_PAGE_BUDGET = 80     # bytes read per page: 4 rows of 20 (13 + 3 + 4 bytes)
KS_CONSISTENCY_MSG = ("Consistency level %s is not supported for this "
                      "operation. Supported consistency levels are: ONE, "
                      "LOCAL_QUORUM, LOCAL_ONE")
KS_WRITE_CONSISTENCY_MSG = ("Consistency level %s is not supported for this "
                            "operation. Supported consistency levels are: "
                            "LOCAL_QUORUM")


def ks_addresses(port):
    return ["127.0.0.%d:%d" % (i + 1, port) for i in range(KS_ADDRESSES)]


@pytest.fixture(scope="module")
def keyspaces(pki, tmp_path_factory):
    """cqld --keyspaces, with KS_PAGED_ROWS mailboxes in one partition."""
    srv = Cqld(tmp_path_factory.mktemp("keyspaces"), args=[
        "--keyspaces", KS_REGION, "--tls-cert", pki.server_cert,
        "--tls-key", pki.server_key,
        "--auth", "sigv4:%s:%s" % (KS_KEY_ID, KS_SECRET)])
    try:
        c = ks_python_cluster(srv.port, pki)
        try:
            s = c.connect()
            ins = s.prepare("INSERT INTO mailion.mailboxes (domain, "
                            "localpart, msgs) VALUES (?, ?, ?)")
            for i in range(KS_PAGED_ROWS):
                s.execute(ins, [KS_PAGED_DOMAIN, "u%02d" % i, i])
        finally:
            c.shutdown()
        yield srv
    finally:
        assert srv.stop() == 0, srv.log()


def ks_python_cluster(port, pki, **kw):
    from cassandra import ConsistencyLevel
    from cassandra.policies import DCAwareRoundRobinPolicy
    from keyspaces_auth import SigV4AuthProvider
    opts = dict({"protocol_version": 4}, **kw)   # None: the driver's own choice
    if opts["protocol_version"] is None:
        del opts["protocol_version"]
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # AWS's Python example verifies the chain; the peers are addresses the
    # endpoint's certificate does not name, so the name is not checked
    ctx.check_hostname = False
    profile = ExecutionProfile(
        consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        load_balancing_policy=DCAwareRoundRobinPolicy(local_dc=KS_REGION))
    return Cluster(["127.0.0.1"], port=port, ssl_context=ctx,
                   auth_provider=SigV4AuthProvider(KS_KEY_ID, KS_SECRET,
                                                   KS_REGION),
                   connect_timeout=10,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                   **opts)


def ks_read_pages(rs):
    """Every row of a result, fetching page after page."""
    got = [r.localpart for r in rs.current_rows]
    while rs.has_more_pages:
        rs.fetch_next_page()
        got += [r.localpart for r in rs.current_rows]
    return got


def test_keyspaces_python_driver(keyspaces, pki):
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement
    c = ks_python_cluster(keyspaces.port, pki)
    try:
        s = c.connect()
        hosts = c.metadata.all_hosts()
        assert sorted(str(h.endpoint) for h in hosts) == \
            sorted(ks_addresses(keyspaces.port))
        assert {(h.datacenter, h.rack) for h in hosts} == \
            {(KS_REGION, KS_REGION)}
        assert len({h.host_id for h in hosts}) == KS_ADDRESSES
        # the peers' pools open in the background
        wait_for(lambda: len(s.get_pool_state()) == KS_ADDRESSES and all(
            h.is_up for h in hosts), what="a pool per address")
        # each address reports itself in system.local, the others as peers
        for h in hosts[:3]:
            local = s.execute("SELECT rpc_address, release_version, "
                              "data_center FROM system.local", host=h).one()
            assert (local.rpc_address, local.release_version,
                    local.data_center) == (h.address, "3.11.2", KS_REGION)
            peers = sorted(r.rpc_address for r in s.execute(
                "SELECT rpc_address FROM system.peers", host=h))
            assert peers == sorted(a.split(":")[0] for a in
                                   ks_addresses(keyspaces.port)
                                   if a.split(":")[0] != h.address)
        with pytest.raises(InvalidRequest) as e:
            s.execute("SELECT * FROM system.peers_v2")
        assert server_error(e.value) == {
            "code": 0x2200, "message": "unconfigured table peers_v2"}
        sel = "SELECT active FROM mailion.domains WHERE domain = 'example.com'"
        for cl in (ConsistencyLevel.ONE, ConsistencyLevel.LOCAL_ONE):
            assert s.execute(SimpleStatement(sel, consistency_level=cl)) \
                .one().active is True
        for cl, name in ((ConsistencyLevel.QUORUM, "QUORUM"),
                         (ConsistencyLevel.ALL, "ALL")):
            with pytest.raises(InvalidRequest) as e:
                s.execute(SimpleStatement(sel, consistency_level=cl))
            assert server_error(e.value) == {
                "code": 0x2200, "message": KS_CONSISTENCY_MSG % name}
        # writes: LOCAL_QUORUM only
        ins = ("INSERT INTO mailion.domains (domain, active) "
               "VALUES ('python-ks.example', true)")
        for cl, name in ((ConsistencyLevel.ONE, "ONE"),
                         (ConsistencyLevel.LOCAL_ONE, "LOCAL_ONE")):
            with pytest.raises(InvalidRequest) as e:
                s.execute(SimpleStatement(ins, consistency_level=cl))
            assert server_error(e.value) == {
                "code": 0x2200, "message": KS_WRITE_CONSISTENCY_MSG % name}
        s.execute(ins)      # LOCAL_QUORUM, the profile's

        # pages cut by data, each page with rows preceded by an empty one
        keyspaces.control("paging %d empty" % KS_PAGE_BUDGET)
        try:
            st = SimpleStatement("SELECT localpart FROM mailion.mailboxes "
                                 "WHERE domain = %s", fetch_size=100)
            rs = s.execute(st, [KS_PAGED_DOMAIN])
            pages = [len(rs.current_rows)]
            got = [r.localpart for r in rs.current_rows]
            while rs.has_more_pages:
                rs.fetch_next_page()
                pages.append(len(rs.current_rows))
                got += [r.localpart for r in rs.current_rows]
            # A filtered read: pages hold the rows read, so the 20 rows
            # that do not match make empty pages of their own.
            keyspaces.control("paging %d" % KS_PAGE_BUDGET)
            st = SimpleStatement("SELECT localpart FROM mailion.mailboxes "
                                 "WHERE domain = %s AND msgs >= 20 "
                                 "ALLOW FILTERING", fetch_size=100)
            rs = s.execute(st, [KS_PAGED_DOMAIN])
            fpages = [len(rs.current_rows)]
            fgot = [r.localpart for r in rs.current_rows]
            while rs.has_more_pages:
                rs.fetch_next_page()
                fpages.append(len(rs.current_rows))
                fgot += [r.localpart for r in rs.current_rows]
            # LIMIT counts the rows returned, ORDER BY turns the rows read.
            # Page by page: the driver's own iteration (ResultSet.next)
            # stops at the second empty page in a row, taking it for the end.
            lim = ks_read_pages(s.execute(
                "SELECT localpart FROM mailion.mailboxes WHERE domain = %s "
                "AND msgs >= 20 LIMIT 2 ALLOW FILTERING", [KS_PAGED_DOMAIN]))
            desc = ks_read_pages(s.execute(
                "SELECT localpart FROM mailion.mailboxes WHERE domain = %s "
                "AND msgs >= 22 ORDER BY localpart DESC ALLOW FILTERING",
                [KS_PAGED_DOMAIN]))
        finally:
            keyspaces.control("paging 1048576")
        assert got == ["u%02d" % i for i in range(KS_PAGED_ROWS)]
        # zero rows, four, zero, four, ...: 7 pages of rows, 7 empty ones
        assert pages == [0, 4] * 6 + [0, 1], pages
        assert fgot == ["u%02d" % i for i in range(20, KS_PAGED_ROWS)]
        assert fpages == [0, 0, 0, 0, 0, 4, 1], fpages
        assert lim == ["u20", "u21"] and desc == ["u24", "u23", "u22"], \
            (lim, desc)
    finally:
        c.shutdown()


def run_ks_driver(argv, port, extra=()):
    """A driver program with the Keyspaces settings; the SigV4 key in its
    environment, as AWS's plugins take it. Returns (status, JSON)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KS_KEY_ID,
               AWS_SECRET_ACCESS_KEY=KS_SECRET)
    env.pop("AWS_SESSION_TOKEN", None)
    r = subprocess.run(list(argv) + ["--port" if "node" in argv[0] else
                                     "-port", str(port)] + list(extra),
                       cwd=ROOT, stdin=subprocess.DEVNULL, env=env,
                       capture_output=True, text=True, timeout=DRIVER_TIMEOUT)
    lines = r.stdout.strip().splitlines()
    assert lines, "no JSON from %s (exit %d):\n%s" % (argv, r.returncode,
                                                      r.stderr)
    return r.returncode, json.loads(lines[-1])


KS_PAGES = [0, 4] * 6 + [0, 1]     # KS_PAGED_ROWS at KS_PAGE_BUDGET, "empty"
# msgs >= 20 ALLOW FILTERING at KS_PAGE_BUDGET ("empty" too): the 20 rows
# read and dropped fill five pages of none, each after an empty one
KS_FILTERED_PAGES = [0] * 11 + [4, 0, 1]
KS_FILTERED_ROWS = ["u%02d" % i for i in range(20, KS_PAGED_ROWS)]


def test_keyspaces_gocql(keyspaces, pki, gocql_check):
    args = ["-ca", pki.ca_cert, "-keyspaces", KS_REGION, "-tag", "gocql-ks"]
    rc, res = run_ks_driver([str(gocql_check)], keyspaces.port, extra=args + [
        "-expect-hosts", str(KS_ADDRESSES)])
    assert rc == 0, res
    assert_round_trip(res, "gocql-ks")
    assert sorted(res["hosts"]) == sorted(ks_addresses(keyspaces.port))
    assert res["quorum_error"] == {"code": 0x2200,
                                   "message": KS_CONSISTENCY_MSG % "QUORUM"}
    # A second run pages. Not the first: gocql's Query.Scan takes an empty
    # first page for "not found" (checkErrAndNotFound looks at that page
    # only), which is why an application reading Keyspaces must iterate.
    keyspaces.control("paging %d empty" % KS_PAGE_BUDGET)
    try:
        rc, res = run_ks_driver([str(gocql_check)], keyspaces.port,
                                extra=args + ["-paged", KS_PAGED_DOMAIN])
    finally:
        keyspaces.control("paging 1048576")
    assert rc == 0, res
    assert res["paged_error"] is None
    assert res["paged_rows"] == ["u%02d" % i for i in range(KS_PAGED_ROWS)]
    assert res["pages"] == KS_PAGES
    assert res["filtered_error"] is None
    assert res["filtered_rows"] == KS_FILTERED_ROWS
    assert res["filtered_pages"] == KS_FILTERED_PAGES


def test_keyspaces_node_sigv4_plugin(keyspaces, pki, node_check):
    """The Node.js driver with AWS's own SigV4 plugin (npm)."""
    keyspaces.control("paging %d empty" % KS_PAGE_BUDGET)
    try:
        rc, res = run_ks_driver(
            ["node", str(NODE_DIR / "keyspaces_check.js")], keyspaces.port,
            extra=["--region", KS_REGION, "--ca", pki.ca_cert,
                   "--name", "localhost", "--paged", KS_PAGED_DOMAIN])
    finally:
        keyspaces.control("paging 1048576")
    assert rc == 0, res
    # v5 refused as Cassandra 3.11 refuses it; the driver settles on v4
    assert res["protocol_version"] == 4
    assert sorted(res["hosts"]) == sorted(
        [a, KS_REGION] for a in ks_addresses(keyspaces.port))
    assert res["quorum_error"] == {"code": 0x2200,
                                   "message": KS_CONSISTENCY_MSG % "QUORUM"}
    assert res.get("paged_error") is None, res
    assert res["paged_rows"] == ["u%02d" % i for i in range(KS_PAGED_ROWS)]
    assert res["pages"] == KS_PAGES
    assert res["filtered_rows"] == KS_FILTERED_ROWS
    assert res["filtered_pages"] == KS_FILTERED_PAGES


def test_keyspaces_protocol_tls_and_options(keyspaces, pki, tmp_path):
    """Only v3/v4 (a driver starting at v5 settles on v4), TLS only; and
    cqld refuses a --keyspaces without what Keyspaces always has."""
    c = ks_python_cluster(keyspaces.port, pki, protocol_version=None)
    try:
        c.connect()
        assert c.protocol_version == 4
    finally:
        c.shutdown()
    # a plain TCP client gets no CQL answer: the port speaks TLS only
    with socket.create_connection(("127.0.0.2", keyspaces.port), timeout=10) as raw:
        raw.sendall(OPTIONS_FRAME)
        raw.settimeout(10)
        try:
            head = raw.recv(9)
        except (ConnectionResetError, socket.timeout):
            head = b""
        assert not head.startswith(b"\x84"), head
    cqld = str(BUILD / "cqld")
    tls = ["--tls-cert", pki.server_cert, "--tls-key", pki.server_key]
    sig = ["--auth", "sigv4:%s:%s" % (KS_KEY_ID, KS_SECRET)]
    for args, msg in (
            (sig, "needs --tls-cert and --tls-key"),
            (tls + ["--auth", "password:u:p"], "needs --auth sigv4"),
            (tls + ["--auth", "sigv4:%s:%s:eu-west-1" % (KS_KEY_ID, KS_SECRET)],
             "signs for another region"),
            (tls + sig + ["--peers", "127.0.0.1:9"], "not --peers"),
            (tls + sig + ["--listen", "[::1]:0"], "must be one IPv4 address")):
        r = subprocess.run([cqld, "--keyspaces", KS_REGION] + args,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)
    # a port taken on one of the endpoint's later addresses: a fixed
    # port cannot move, so cqld says which addresses it could not hold
    with socket.socket() as busy:
        busy.bind(("127.0.0.2", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([cqld, "--keyspaces", KS_REGION, "--listen",
                            "127.0.0.1:%d" % port] + tls + sig,
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "cannot listen on 10 addresses from " \
        "127.0.0.1:%d: Address already in use" % port in r.stderr, r.stderr


def test_keyspaces_vpce_has_an_address_per_availability_zone(pki, tmp_path):
    """--keyspaces-vpce: an interface VPC endpoint, one address per AZ (3)."""
    srv = Cqld(tmp_path, args=[
        "--keyspaces", KS_REGION, "--keyspaces-vpce", "--tls-cert",
        pki.server_cert, "--tls-key", pki.server_key,
        "--auth", "sigv4:%s:%s" % (KS_KEY_ID, KS_SECRET)])
    try:
        c = ks_python_cluster(srv.port, pki)
        try:
            s = c.connect()
            assert sorted(str(h.endpoint) for h in c.metadata.all_hosts()) \
                == ["127.0.0.%d:%d" % (i, srv.port) for i in (1, 2, 3)]
            assert sorted(r.peer for r in s.execute(
                "SELECT peer FROM system.peers",
                host=c.metadata.get_host("127.0.0.1"))) == \
                ["127.0.0.2", "127.0.0.3"]
        finally:
            c.shutdown()
    finally:
        assert srv.stop() == 0, srv.log()
