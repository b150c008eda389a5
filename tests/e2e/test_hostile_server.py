"""A Cassandra node that sends broken frames cannot hurt the daemon.

The hostile node is a small raw-socket CQL server in Python: it answers the
handshake (OPTIONS, STARTUP) and PREPARE properly by relaying them to a real
cqld behind it, then, when told to, answers the next EXECUTE with something
no Cassandra would send: a truncated frame and a close, a frame whose length
runs past its body, an answer on a stream nobody asked on, a body length of
2^31-1, an unknown opcode, or garbage bytes. The daemon closes that
connection, says so in one log line, and answers TEMP (one node) or the
right answer (from a second, healthy node); it does not crash, and its
memory and descriptors stay bounded.
"""
import os
import socket
import ssl
import struct
import threading
import time

import pytest

from conftest import (netstring, proc_usage, raw_connect, read_netstring, rss_bound_kb,
                      wait_for)
from tls_certs import session_pki

OP_QUERY = 0x07
OP_PREPARE = 0x09
OP_EXECUTE = 0x0A
OP_ERROR = 0x00
ERR_OVERLOADED = 0x1001
ERR_INVALID = 0x2200
HEADER = struct.Struct(">BBhBI")


def error_frame(version, stream, code, message):
    """An ERROR frame of a code without extra fields."""
    msg = message.encode()
    body = struct.pack(">iH", code, len(msg)) + msg
    return HEADER.pack(0x80 | version, 0, stream, OP_ERROR, len(body)) + body


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(sock):
    header = recv_exact(sock, HEADER.size)
    length = HEADER.unpack(header)[4]
    return header, recv_exact(sock, length)


class HostileNode:
    """Listens on 127.0.0.1; relays frames to a real cqld until armed, then
    answers the next EXECUTE in the armed way."""

    def __init__(self, upstream_port, refuse_peers_v2=False):
        self.upstream_port = upstream_port
        self.refuse_peers_v2 = refuse_peers_v2   # answer as Cassandra 3 does
        self.overloaded_prepares = 0             # PREPAREs to answer Overloaded
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.mode = None
        self.fired = 0
        self.socks = []
        self.closing = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def arm(self, mode):
        with self.lock:
            self.mode = mode

    def take_mode(self):
        with self.lock:
            mode, self.mode = self.mode, None
            if mode:
                self.fired += 1
            return mode

    def accept_loop(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.socks += [client, upstream]
            executes = set()         # streams of EXECUTEs in flight
            out = threading.Lock()   # both threads write to the client
            threading.Thread(target=self.to_server, args=(client, upstream, executes, out),
                             daemon=True).start()
            threading.Thread(target=self.to_client, args=(client, upstream, executes, out),
                             daemon=True).start()

    def to_server(self, client, upstream, executes, out):
        try:
            while True:
                header, body = read_frame(client)
                version, _, stream, opcode, _ = HEADER.unpack(header)
                if opcode == OP_EXECUTE:
                    executes.add(stream)
                if opcode == OP_QUERY and self.refuse_peers_v2 and b"system.peers_v2" in body:
                    with out:
                        client.sendall(error_frame(version, stream, ERR_INVALID,
                                                   "unconfigured table peers_v2"))
                    continue
                if opcode == OP_PREPARE and self.overloaded_prepares > 0:
                    self.overloaded_prepares -= 1
                    with out:
                        client.sendall(error_frame(version, stream, ERR_OVERLOADED,
                                                   "Server is in overloaded state"))
                    continue
                upstream.sendall(header + body)
        except (OSError, EOFError):
            self.close_pair(client, upstream)

    def to_client(self, client, upstream, executes, out):
        try:
            while True:
                header, body = read_frame(upstream)
                with out:
                    if self.relay(client, upstream, executes, header, body):
                        return
        except (OSError, EOFError):
            self.close_pair(client, upstream)

    def relay(self, client, upstream, executes, header, body):
        """Send one answer on, perhaps spoilt; True once the pair is closed."""
        version, flags, stream, opcode, length = HEADER.unpack(header)
        mode = self.take_mode() if stream in executes else None
        executes.discard(stream)
        if mode is None:
            client.sendall(header + body)
        elif mode == "truncated":
            client.sendall(header + body[:len(body) // 2])
            time.sleep(0.05)
            self.close_pair(client, upstream)
            return True
        elif mode == "length_past_body":
            # Claims 64 bytes more than it sends; the next answers
            # are swallowed into it and the framing is lost.
            client.sendall(HEADER.pack(version, flags, stream, opcode,
                                       length + 64) + body)
        elif mode == "unknown_stream":
            client.sendall(HEADER.pack(version, flags, 30000, opcode, length) + body)
        elif mode == "huge_length":
            client.sendall(HEADER.pack(version, flags, stream, opcode, 2**31 - 1) + body)
        elif mode == "unknown_opcode":
            client.sendall(HEADER.pack(version, flags, stream, 0x55, length) + body)
        elif mode == "garbage":
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                           + os.urandom(200))
        return False

    def close_pair(self, *socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.closing = True
        self.listener.close()
        with self.lock:
            self.close_pair(*self.socks)


MODES = {
    # mode: what the daemon's log says about the connection it closed
    "truncated": "connection closed by server",
    "length_past_body": None,          # timeout, then garbage or heartbeat
    "unknown_stream": "answer for a stream not in use",
    "huge_length": "frame body too large",
    "unknown_opcode": "unexpected",
    "garbage": "bad protocol version byte",
}

REQUEST_TIMEOUT_MS = 300
LOOKUP_TIMEOUT_MS = 1000


@pytest.fixture
def hostile(start_cqld):
    nodes = []

    def make():
        node = HostileNode(start_cqld().port)
        nodes.append(node)
        return node
    yield make
    for n in nodes:
        n.close()


def ask(port, name="domains", key="example.com"):
    t0 = time.monotonic()
    s = raw_connect(port)
    try:
        s.sendall(netstring(f"{name} {key}".encode()))
        return read_netstring(s, timeout=10).decode(), time.monotonic() - t0
    finally:
        s.close()


def daemon_env(hosts):
    return dict(CACHE="off", CASSANDRA_HOSTS=hosts, CASSANDRA_DISCOVERY="off",
                CASSANDRA_CONNECTIONS_PER_HOST=1, CASSANDRA_HEARTBEAT_MS=1000,
                CASSANDRA_REQUEST_TIMEOUT_MS=REQUEST_TIMEOUT_MS,
                CASSANDRA_LOOKUP_TIMEOUT_MS=LOOKUP_TIMEOUT_MS,
                CASSANDRA_RECONNECT_MAX_MS=200)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_one_hostile_node_gives_temp_and_one_log_line(hostile, start_daemon, mode):
    node = hostile()
    daemon = start_daemon(node.port, wait_ready=True, **daemon_env(f"127.0.0.1:{node.port}"))
    assert ask(daemon.port)[0] == "OK example.com"
    node.arm(mode)
    reply, took = ask(daemon.port)
    assert reply.startswith("TEMP cassandra: "), reply
    assert took < LOOKUP_TIMEOUT_MS / 1000 + 1
    assert node.fired == 1
    # The connection is replaced and lookups are answered again.
    wait_for(lambda: ask(daemon.port)[0] == "OK example.com", timeout=10,
             what="answers from a new connection")
    log = daemon.log_text()
    lost = [line for line in log.splitlines() if "lost connection" in line]
    assert len(lost) == 1, log
    if MODES[mode]:
        assert MODES[mode] in lost[0], log
    assert daemon.proc.poll() is None


def test_healthy_node_answers_while_the_other_misbehaves(hostile, start_cqld, start_daemon):
    node = hostile()
    good = start_cqld()
    hosts = f"127.0.0.1:{node.port},127.0.0.1:{good.port}"
    daemon = start_daemon(node.port, wait_ready=True, **daemon_env(hosts))
    wait_for(lambda: daemon.log_text().count(" is up") == 2, what="both nodes up")
    modes = sorted(MODES)

    def rounds(n):
        for _ in range(n):
            for mode in modes:
                node.arm(mode)
                # Ask until the hostile node has had a request to spoil,
                # then a few more: every answer is right, and in time.
                deadline = time.monotonic() + 10
                extra = 4
                while extra > 0:
                    reply, took = ask(daemon.port)
                    assert reply == "OK example.com", (mode, reply)
                    assert took < LOOKUP_TIMEOUT_MS / 1000 + 1, (mode, took)
                    if node.mode is None:
                        extra -= 1
                    assert time.monotonic() < deadline, f"{mode} never fired"

    rounds(1)
    time.sleep(1)
    before = proc_usage(daemon.proc.pid)
    rounds(3)
    time.sleep(1)
    after = proc_usage(daemon.proc.pid)
    assert after[0] <= before[0] + rss_bound_kb(1024), (before, after)
    assert after[1] <= before[1] + 2, (before, after)
    assert node.fired == 4 * len(modes)
    assert daemon.stop() == 0, daemon.log_text()[-3000:]


class GarbageAfterTls:
    """Completes a proper TLS handshake, reads the client's first bytes
    (its STARTUP), then sends garbage inside the TLS session."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server_cert, pki.server_key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            try:
                conn = self.ctx.wrap_socket(raw, server_side=True)
                self.handshakes += 1
                conn.recv(4096)
                # Starts like a wrong service's answer, so the first byte is
                # never a CQL version (3 to 5, either direction): random
                # bytes were one about 1 time in 40 and read as a header.
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" + os.urandom(64)
                             + b"\x84\x00\x00\x00\x02" + b"\xff" * 4)
                self.conns.append(conn)
            except (OSError, ssl.SSLError):
                raw.close()

    def close(self):
        self.listener.close()
        for c in self.conns:
            c.close()


def test_garbage_after_the_tls_handshake(tmp_path_factory, start_daemon):
    pki = session_pki(tmp_path_factory)
    node = GarbageAfterTls(pki)
    try:
        env = daemon_env(f"127.0.0.1:{node.port}")
        daemon = start_daemon(node.port, wait_ready=False, CASSANDRA_TLS="on",
                              CASSANDRA_TLS_CA_FILE=pki.ca_cert, **env)
        wait_for(lambda: node.handshakes >= 2, what="handshakes")
        assert ask(daemon.port)[0].startswith("TEMP cassandra: ")
        time.sleep(1)
        before = proc_usage(daemon.proc.pid)
        time.sleep(2)                    # a reconnection every ~200 ms
        after = proc_usage(daemon.proc.pid)
        log = daemon.log_text()
        lines = [line for line in log.splitlines()
                 if f"cannot connect to 127.0.0.1:{node.port}" in line]
        # One line about it (repeats are held back), saying what was wrong.
        assert len(lines) == 1, log
        assert "bad protocol version byte" in lines[0], lines[0]
        assert node.handshakes > 5
        assert after[0] <= before[0] + rss_bound_kb(512), (before, after)
        assert after[1] <= before[1] + 1, (before, after)
        assert daemon.proc.poll() is None
    finally:
        node.close()


def test_statements_refused_for_overload_are_prepared_later(hostile, start_daemon):
    """A node that answers PREPARE with Overloaded while a connection is set
    up: the connection is closed and retried with backoff, not kept as
    "up" with nothing prepared (which answered TEMP until it was replaced)."""
    node = hostile()
    # Every PREPARE of the first connections is answered Overloaded.
    node.overloaded_prepares = 1000
    daemon = start_daemon(node.port, wait_ready=False, **daemon_env(f"127.0.0.1:{node.port}"))
    time.sleep(1)                    # several reconnections
    assert ask(daemon.port)[0].startswith("TEMP cassandra: ")
    lines = [line for line in daemon.log_text().splitlines()
             if "cannot connect" in line]
    assert len(lines) == 1, lines
    assert "cannot prepare statements: overloaded: Server is in overloaded state" in lines[0]
    node.overloaded_prepares = 0
    wait_for(lambda: ask(daemon.port)[0] == "OK example.com", timeout=10,
             what="the statements prepared once the node recovers")
