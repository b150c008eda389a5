"""Broken or hostile socketmap clients do not disturb real Postfix lookups.

Each bad client gets its connection closed (one log line); a concurrent
postmap query is answered normally.
"""
import socket
import threading
import time

import pytest

from conftest import netstring, raw_connect, read_netstring


@pytest.fixture
def demo(start_cqld, start_daemon):
    cqld = start_cqld()
    return start_daemon(cqld.port)


def assert_closed(sock):
    sock.settimeout(5)
    try:
        data = sock.recv(100)
    except ConnectionResetError:
        return
    assert data == b"", f"expected the connection to be closed, got {data!r}"


def test_malformed_netstring_closes_only_that_connection(demo, postmap):
    good = raw_connect(demo.port)
    bad = raw_connect(demo.port)
    bad.sendall(b"12x:users alice,")
    assert_closed(bad)
    # The other, well-behaved connection is untouched.
    good.sendall(netstring(b"domains example.com"))
    assert read_netstring(good) == b"OK example.com"
    assert postmap.query(demo.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    assert "non-digit in netstring length" in demo.log_text()


def test_missing_comma_closes_the_connection(demo, postmap):
    bad = raw_connect(demo.port)
    bad.sendall(b"19:domains example.com;")
    assert_closed(bad)
    assert "does not end with a comma" in demo.log_text()


def test_oversized_request_is_refused_before_it_is_sent(demo, postmap):
    bad = raw_connect(demo.port)
    bad.sendall(b"100001:")          # one byte over Postfix's limit
    assert_closed(bad)
    assert postmap.query(demo.port, "domains", "example.com") == ("OK", "example.com")
    assert "longer than the limit" in demo.log_text()


def test_half_request_then_disconnect(demo, postmap):
    for _ in range(20):
        s = raw_connect(demo.port)
        s.sendall(b"27:users alice@exa")
        s.close()
    assert postmap.query(demo.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    assert demo.proc.poll() is None


def test_disconnect_while_lookup_in_flight(demo, postmap):
    for _ in range(50):
        s = raw_connect(demo.port)
        s.sendall(netstring(b"users alice@example.com") * 3)
        s.close()
    assert postmap.query(demo.port, "users", "bob@example.com") == ("OK", "example.com/bob/")


def test_pipelined_requests_are_answered_in_order(demo):
    s = raw_connect(demo.port)
    reqs = [b"domains example.com", b"users nobody@example.com", b"users bob@example.com",
            b"nosuch x", b"domains old.example", b"virtual_aliases team@example.com"]
    s.sendall(b"".join(netstring(r) for r in reqs))
    replies = [read_netstring(s) for _ in reqs]
    assert replies == [b"OK example.com", b"NOTFOUND ", b"OK example.com/bob/",
                       b"PERM unknown map name 'nosuch'", b"NOTFOUND ",
                       b"OK alice@example.com, bob@example.com"]


def test_request_split_into_single_bytes(demo):
    s = raw_connect(demo.port)
    for b in netstring(b"users alice@example.com"):
        s.sendall(bytes([b]))
        time.sleep(0.001)
    assert read_netstring(s) == b"OK example.com/alice/"


def test_slow_bad_clients_and_postmap_at_once(demo, postmap):
    stop = threading.Event()
    errors = []

    def vandal():
        while not stop.is_set():
            try:
                s = raw_connect(demo.port)
                s.sendall(b"99999999999:")
                s.recv(10)
                s.close()
            except OSError:
                pass
            except Exception as e:   # pragma: no cover - reported below
                errors.append(e)

    threads = [threading.Thread(target=vandal) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(10):
            assert postmap.query(demo.port, "domains", "example.com") == ("OK", "example.com")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors


def test_keys_that_cannot_exist_are_not_found(demo):
    s = raw_connect(demo.port)
    s.sendall(netstring(b"users ") + netstring(b"users \xff\xfe@example.com") +
              netstring(b"users " + b"a" * 2000))
    assert [read_netstring(s) for _ in range(3)] == [b"NOTFOUND "] * 3


def test_idle_client_is_closed(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=1)
    s = raw_connect(daemon.port)
    t0 = time.monotonic()
    assert_closed(s)
    assert time.monotonic() - t0 < 4


def test_term_exits_cleanly(demo):
    assert demo.stop() == 0
    assert "stopping" in demo.log_text()
