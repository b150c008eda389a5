"""TLS, password authentication and protocol negotiation, as an operator meets them.

A lookup works over TLS against a node whose certificate is signed by the CA
in CASSANDRA_TLS_CA_FILE. A certificate the daemon must not trust (another
CA, expired, issued for another name) is refused with a log line that says
why, and lookups answer TEMP. A password login works; a wrong one is logged
once per node with the server's own message, lookups answer TEMP, and
`--check` fails saying so. A node that speaks only protocol v3 is served
after negotiation, and the log says so.
"""
import os
import socket
import subprocess
import time

import pytest

from conftest import DAEMON, ask, wait_for
from tls_certs import extra_leaf, session_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


def tls_node(start_cqld, cert, key):
    return start_cqld(extra=["--tls-cert", cert, "--tls-key", key])


def tls_env(pki, **more):
    env = dict(CACHE="off", CASSANDRA_TLS="on", CASSANDRA_TLS_CA_FILE=pki.ca_cert,
               CASSANDRA_RECONNECT_MAX_MS=200)
    env.update(more)
    return env


def lines_with(daemon, text):
    return [line for line in daemon.log_text().splitlines() if text in line]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_lookup_with_the_ca_file(pki, start_cqld, start_daemon, postmap, host):
    node = tls_node(start_cqld, pki.server_cert, pki.server_key)
    daemon = start_daemon(node.port, wait_ready=True,
                          **tls_env(pki, CASSANDRA_HOSTS=f"{host}:{node.port}"))
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    assert "TLS" in daemon.log_text()
    assert daemon.stop() == 0, daemon.log_text()[-3000:]


@pytest.mark.parametrize("case,host,why", [
    ("other_ca", "127.0.0.1", "unable to get local issuer certificate"),
    ("expired", "127.0.0.1", "certificate has expired"),
    ("wrong_host", "127.0.0.1", "IP address mismatch"),
    ("wrong_host", "localhost", "hostname mismatch"),
])
def test_untrusted_certificate_is_refused_with_a_reason(pki, start_cqld, start_daemon,
                                                        postmap, case, host, why):
    cert, key, ca = {
        "other_ca": (pki.server_cert, pki.server_key, pki.other_ca_cert),
        "expired": (pki.expired_cert, pki.expired_key, pki.ca_cert),
        "wrong_host": (pki.wrong_host_cert, pki.wrong_host_key, pki.ca_cert),
    }[case]
    node = tls_node(start_cqld, cert, key)
    daemon = start_daemon(node.port, wait_ready=False,
                          **tls_env(pki, CASSANDRA_HOSTS=f"{host}:{node.port}",
                                    CASSANDRA_TLS_CA_FILE=ca))
    wait_for(lambda: lines_with(daemon, f"cannot connect to 127.0.0.1:{node.port}"),
             what="the refusal in the log")
    line = lines_with(daemon, f"cannot connect to 127.0.0.1:{node.port}")[0]
    assert f"TLS certificate verification failed: {why}" in line, line
    assert ask(daemon.port).startswith("TEMP cassandra: ")
    assert postmap.query(daemon.port, "users", "nobody@example.com")[0] == "TEMP"
    assert " is up" not in daemon.log_text()


def password_node(start_cqld, user="mail", password="s3cret"):
    return start_cqld(extra=["--auth", f"password:{user}:{password}"])


def test_password_login(start_cqld, start_daemon, postmap):
    node = password_node(start_cqld)
    daemon = start_daemon(node.port, wait_ready=True, CASSANDRA_AUTH="password",
                          CASSANDRA_USERNAME="mail", CASSANDRA_PASSWORD="s3cret")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")


def test_wrong_password_one_line_per_node_and_temp(start_cqld, start_daemon, postmap):
    a, b = password_node(start_cqld), password_node(start_cqld)
    daemon = start_daemon(a.port, wait_ready=False, CACHE="off",
                          CASSANDRA_HOSTS=f"127.0.0.1:{a.port},127.0.0.1:{b.port}",
                          CASSANDRA_AUTH="password", CASSANDRA_USERNAME="mail",
                          CASSANDRA_PASSWORD="wrong", CASSANDRA_RECONNECT_MAX_MS=200)
    for node in (a, b):
        wait_for(lambda: lines_with(daemon, f"127.0.0.1:{node.port}: authentication failed"),
                 what="the login failure")
    time.sleep(2)                      # several more attempts per node
    for node in (a, b):
        lines = lines_with(daemon, f"127.0.0.1:{node.port}: authentication failed")
        assert len(lines) == 1, lines
        assert "Provided username mail and/or password are incorrect" in lines[0], lines[0]
    assert "s3cret" not in daemon.log_text() and "wrong" not in daemon.log_text()
    assert ask(daemon.port).startswith("TEMP cassandra: ")
    assert postmap.query(daemon.port, "users", "nobody@example.com")[0] == "TEMP"
    assert daemon.stop() == 0, daemon.log_text()[-3000:]


def run_check(env):
    base = {"PATH": os.environ["PATH"], "KEYSPACE_NAME": "mailion"}
    base.update(env)
    return subprocess.run([str(DAEMON), "--check"], env=base, capture_output=True,
                          text=True, timeout=30)


def test_check_fails_precisely_on_a_wrong_password(start_cqld):
    node = password_node(start_cqld)
    env = {"CASSANDRA_HOSTS": f"127.0.0.1:{node.port}", "CASSANDRA_AUTH": "password",
           "CASSANDRA_USERNAME": "mail"}
    r = run_check({**env, "CASSANDRA_PASSWORD": "s3cret"})
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_check({**env, "CASSANDRA_PASSWORD": "wrong"})
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"FAILED: cannot reach Cassandra: no node up; 127.0.0.1:{node.port}: bad credentials: "
            "Provided username mail and/or password are incorrect") in r.stdout, r.stdout


def test_v3_only_node_is_served_after_negotiation(start_cqld, start_daemon, postmap):
    node = start_cqld(extra=["--max-protocol", "3"])
    daemon = start_daemon(node.port, wait_ready=True)
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    log = daemon.log_text()
    assert f"127.0.0.1:{node.port} does not speak protocol v4" in log, log
    assert "using v3 from now on" in log
    assert f"127.0.0.1:{node.port} is up (protocol v3)" in log


def test_nodes_found_through_an_address_are_verified_as_their_own_address(
        private_net, pki, start_cqld, start_daemon, postmap):
    """CASSANDRA_HOSTS names one node by address; its peers table lists a
    second node, whose certificate names only that node's own address (as
    per-node certificates do). The second node must pass verification and
    carry the lookups once the first is gone. In a network namespace of the
    test's own, so the second node can have another loopback address."""
    b_cert, b_key = extra_leaf(pki, "node-127-0-0-2", "IP:127.0.0.2")
    with socket.socket() as s:          # a port free on both addresses of this namespace
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    a = start_cqld(port=port, extra=["--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                                     "--peers", f"127.0.0.2:{port}"])
    start_cqld(port=port, host="127.0.0.2",
               extra=["--tls-cert", b_cert, "--tls-key", b_key, "--peers", f"127.0.0.1:{port}"])
    daemon = start_daemon(port, **tls_env(pki, CASSANDRA_HOSTS=f"127.0.0.1:{port}"))
    wait_for(lambda: f"cql: 127.0.0.2:{port} is up" in daemon.log_text(), timeout=10,
             what="the discovered node up over verified TLS")
    assert a.stop() == 0
    wait_for(lambda: postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com"),
             timeout=5, what="lookups through the second node")
    assert not lines_with(daemon, "certificate verification failed"), daemon.log_text()
