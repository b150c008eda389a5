"""Keyspaces' TLS from the daemon's side: the roots its endpoints chain to
are in the system bundle, and a VPC endpoint reached by its own DNS name
(whose certificate names the regional endpoint) verifies with
CASSANDRA_TLS_SERVER_NAME.

Here a cqld whose certificate names only elsewhere.invalid stands in for the
endpoint, reached at 127.0.0.1 as a vpce-... name would be.
"""
import os
import ssl

import pytest

from conftest import ask, wait_for
from tls_certs import session_pki

# The roots AWS's driver guides tell clients to trust for Keyspaces ("Using a
# Cassandra ... client driver to access Amazon Keyspaces", "Before you begin").
KEYSPACES_ROOTS = ["commonName = Amazon Root CA 1", "commonName = Amazon Root CA 2",
                   "commonName = Amazon Root CA 3", "commonName = Amazon Root CA 4",
                   "organizationalUnitName = Starfield Class 2 Certification Authority"]
DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.skipif(not os.path.exists(DEBIAN_BUNDLE), reason="no Debian CA bundle here")
def test_system_bundle_holds_the_keyspaces_roots():
    """The bundle OpenSSL's default paths use on Debian holds every root a
    Keyspaces endpoint may chain to, so CASSANDRA_TLS_CA_FILE can stay unset."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=DEBIAN_BUNDLE)
    subjects = [", ".join(f"{k} = {v}" for rdn in c["subject"] for k, v in rdn)
                for c in ctx.get_ca_certs()]
    for root in KEYSPACES_ROOTS:
        assert any(root in s for s in subjects), root


def test_tls_server_name_verifies_a_vpc_endpoint_name(tmp_path_factory, start_cqld, start_daemon):
    """The certificate does not name the host connected to: refused without
    CASSANDRA_TLS_SERVER_NAME, served with it (and still verified: a name the
    certificate does not hold is refused)."""
    pki = session_pki(tmp_path_factory)
    node = start_cqld(extra=["--tls-cert", pki.wrong_host_cert, "--tls-key", pki.wrong_host_key])
    env = dict(CACHE="off", CASSANDRA_TLS="on", CASSANDRA_TLS_CA_FILE=pki.ca_cert,
               CASSANDRA_RECONNECT_MAX_MS=200, CASSANDRA_HOSTS=f"127.0.0.1:{node.port}")
    plain = start_daemon(node.port, wait_ready=False, **env)
    wait_for(lambda: "verification failed" in plain.log_text(), what="name mismatch refused")
    named = start_daemon(node.port, wait_ready=True, CASSANDRA_TLS_SERVER_NAME="elsewhere.invalid",
                         **env)
    assert ask(named.port) == "OK example.com"
    wrong = start_daemon(node.port, wait_ready=False, CASSANDRA_TLS_SERVER_NAME="other.invalid",
                         **env)
    wait_for(lambda: "verification failed" in wrong.log_text(), what="wrong name refused")
    assert ask(wrong.port).startswith("TEMP ")
