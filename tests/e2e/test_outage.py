"""Cassandra goes away and comes back: Postfix must see TEMP, never NOTFOUND.

NOTFOUND makes Postfix reject or bounce mail; TEMP makes it defer and retry.
The daemon starts and serves while the database is down, and recovers on its
own when it returns. These tests run with CACHE=off, so that every lookup
really goes to the database; test_cache.py covers answers from cached data
during an outage.
"""
import time

from conftest import wait_for

KEYS = [
    ("domains", "example.com", "example.com"),
    ("users", "alice@example.com", "example.com/alice/"),
    ("relay_domains", "relay.example", "relay.example"),
    ("virtual_aliases", "info@example.com", "alice@example.com"),
    ("transport_maps", "example.net", "smtp:[relay.example.net]:587"),
    ("access_maps", "bad.example", "REJECT domain blocked"),
    # A key that does not exist must not turn into NOTFOUND while the
    # database cannot be asked.
    ("users", "nobody@example.com", None),
]


def all_temp(postmap, port):
    for name, key, _ in KEYS:
        status, detail = postmap.query(port, name, key)
        assert status == "TEMP", (name, key, status, detail)


def all_correct(postmap, port):
    for name, key, value in KEYS:
        expected = ("OK", value) if value else ("NOTFOUND", "")
        if postmap.query(port, name, key) != expected:
            return False
    return True


def test_daemon_starts_without_the_database_and_recovers(tmp_path, start_cqld, start_daemon, postmap):
    # Reserve a port for cqld by starting it once, then stop it.
    probe = start_cqld()
    cql_port = probe.port
    probe.stop()

    daemon = start_daemon(cql_port, wait_ready=False, CACHE="off")
    all_temp(postmap, daemon.port)
    assert daemon.proc.poll() is None, "the daemon must not exit when the database is down"

    start_cqld(port=cql_port)
    wait_for(lambda: all_correct(postmap, daemon.port), timeout=15, what="recovery")
    assert "cannot connect" in daemon.log_text()


def test_database_lost_mid_run_gives_temp_then_recovers(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE="off")
    assert all_correct(postmap, daemon.port)

    cqld.stop()
    all_temp(postmap, daemon.port)
    # Still TEMP a little later, while reconnects fail with backoff.
    time.sleep(1.0)
    all_temp(postmap, daemon.port)

    start_cqld(port=cqld.port)
    wait_for(lambda: all_correct(postmap, daemon.port), timeout=15, what="recovery")
    assert daemon.proc.poll() is None
    assert "lost connection" in daemon.log_text()
