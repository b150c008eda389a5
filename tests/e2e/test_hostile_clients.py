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


def test_cache_hits_wait_behind_a_slow_read(start_cqld, start_daemon):
    """Requests answered at once (cache hits) behind one that waits for the
    database are written after it, in request order."""
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    s = raw_connect(daemon.port)
    hits = [b"domains example.com", b"users bob@example.com"]
    s.sendall(b"".join(netstring(r) for r in hits))
    assert [read_netstring(s) for _ in hits] == [b"OK example.com", b"OK example.com/bob/"]
    cqld.control("delay 500")
    reqs = [hits[0], b"users alice@example.com", hits[1], hits[0]]
    s.sendall(b"".join(netstring(r) for r in reqs))
    assert [read_netstring(s, timeout=15) for _ in reqs] == [
        b"OK example.com", b"OK example.com/alice/", b"OK example.com/bob/", b"OK example.com"]
    cqld.control("delay 0")


def test_pipelined_batch_split_at_every_byte_boundary(demo):
    """One batch of pipelined requests (cache hits, misses, an unknown map)
    arrives in two pieces, cut at every possible byte: the daemon decodes
    what is complete in the first read, keeps the rest, and answers every
    request once, in order. The same connection carries every cut, so a
    leftover byte from one batch would corrupt the next."""
    reqs = [b"domains example.com", b"users bob@example.com", b"nosuch x",
            b"users nobody@example.com", b"virtual_aliases team@example.com"]
    want = [b"OK example.com", b"OK example.com/bob/", b"PERM unknown map name 'nosuch'",
            b"NOTFOUND ", b"OK alice@example.com, bob@example.com"]
    length = len(b"".join(netstring(r) for r in reqs))
    s = raw_connect(demo.port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for cut in range(1, length):
        # Each batch in another order, so that a request decoded twice or
        # a reply out of place shows.
        k = cut % len(reqs)
        stream = b"".join(netstring(r) for r in reqs[k:] + reqs[:k])
        s.sendall(stream[:cut])
        time.sleep(0.002)       # the daemon reads the first piece on its own
        s.sendall(stream[cut:])
        got = [read_netstring(s) for _ in reqs]
        assert got == want[k:] + want[:k], f"cut at byte {cut}"
    # Nothing more is owed: the next reply answers the next request.
    s.sendall(netstring(b"users alice@example.com"))
    assert read_netstring(s) == b"OK example.com/alice/"
    s.setblocking(False)
    with pytest.raises(BlockingIOError):
        s.recv(1)


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


def test_idle_timeout_counts_from_the_last_request(start_cqld, start_daemon):
    """The idle timeout restarts with every request, so a client that asks
    now and then is never idle; it does not run out while an answer is
    owed; a client that then goes quiet is closed."""
    cqld = start_cqld()
    # 3 s: a request every 0.3 s leaves 2.7 s for a loaded machine's stalls.
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=3, CASSANDRA_REQUEST_TIMEOUT_MS=10000,
                          CASSANDRA_LOOKUP_TIMEOUT_MS=20000)
    s = raw_connect(daemon.port)
    end = time.monotonic() + 7          # more than two timeouts
    while time.monotonic() < end:
        s.sendall(netstring(b"domains example.com"))
        assert read_netstring(s, timeout=15) == b"OK example.com"
        time.sleep(0.3)
    cqld.control("delay 4500")          # the answer is owed longer than the timeout
    s.sendall(netstring(b"domains example.org"))
    assert read_netstring(s, timeout=30) == b"OK example.org"
    cqld.control("delay 0")
    assert_closed(s)


def test_term_exits_cleanly(demo):
    assert demo.stop() == 0
    assert "stopping" in demo.log_text()


# ---- many clients, slow clients, the client limit --------------------------
#
# The bounds below are generous on purpose (loaded 2-core CI machines, ASan
# builds): they catch a daemon that stalls, leaks a descriptor per client or
# grows without bound, not one that is a little slow.

import os
import resource

from conftest import fd_count, proc_field, rss_bound_kb, rss_kb, sanitized, wait_for

MANY = 5000
FD_LIMIT = 12000


def client_sockets(pid, port):
    """How many accepted connections on port the daemon holds open: its
    descriptors that are TCP sockets, in any state but LISTEN (a client
    that hung up leaves CLOSE_WAIT), whose local port is port.
    Counting these, not all descriptors, keeps the count exact while other
    descriptors (a finishing postmap connection, the CQL pool) come and go."""
    ours = set()
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" and int(local.split(":")[1], 16) == port:
                ours.add(inode)
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("socket:[") and target[8:-1] in ours:
            n += 1
    return n


@pytest.fixture
def many_fds():
    """Raise this process's descriptor limit for the duration of a test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FD_LIMIT if hard == resource.RLIM_INFINITY else min(hard, FD_LIMIT)
    if want < MANY + 200:
        pytest.skip(f"hard descriptor limit {hard} is below {MANY + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield want
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def timed_query(postmap, port, name, key):
    t0 = time.monotonic()
    result = postmap.query(port, name, key)
    return result, time.monotonic() - t0


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def test_5000_concurrent_clients(many_fds, start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, prefix=["prlimit", f"--nofile={many_fds}:{many_fds}", "--"],
                          MAX_CLIENTS=MANY + 500, CLIENT_IDLE_TIMEOUT=600)
    pid = daemon.proc.pid
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    fds0, rss0 = fd_count(pid), rss_kb(pid)

    socks = []
    try:
        for i in range(MANY):
            s = socket.create_connection(("127.0.0.1", daemon.port), timeout=30)
            socks.append(s)
            if i % 50 == 0:          # some of them ask something, pipelined
                s.sendall(netstring(b"users alice@example.com") +
                          netstring(b"domains example.com"))
        wait_for(lambda: client_sockets(pid, daemon.port) >= MANY, timeout=60,
                 what="the daemon to accept every connection")
        # Every busy client gets its answers, in order.
        for s in socks[::50]:
            assert read_netstring(s, timeout=30) == b"OK example.com/alice/"
            assert read_netstring(s, timeout=30) == b"OK example.com"
        # Real Postfix lookups are still answered promptly.
        for name, key, want in [("users", "bob@example.com", "example.com/bob/"),
                                ("domains", "example.com", "example.com"),
                                ("virtual_aliases", "info@example.com", "alice@example.com")]:
            result, took = timed_query(postmap, daemon.port, name, key)
            assert result == ("OK", want)
            assert took < 10, f"postmap took {took:.1f}s with {MANY} clients connected"
        # One descriptor per client, and a few kilobytes each.
        fds, rss = fd_count(pid), rss_kb(pid)
        assert fds <= fds0 + MANY + 50, (fds0, fds)
        per_client_kb = (rss - rss0) / MANY
        print(f"{MANY} clients: fds {fds0} -> {fds}, RSS {rss0} -> {rss} kB "
              f"({per_client_kb:.1f} kB per client)")
        assert per_client_kb < (64 if sanitized() else 16), \
            f"RSS {rss0} -> {rss} kB: {per_client_kb:.1f} kB per client"
    finally:
        close_all(socks)
    # Every descriptor comes back when the clients go.
    wait_for(lambda: client_sockets(pid, daemon.port) == 0, timeout=60,
             what="the daemon to close the clients' descriptors")
    assert fd_count(pid) <= fds0 + 5
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert daemon.stop(timeout=30) == 0


def test_slow_clients_do_not_delay_postmap(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=3)
    pid = daemon.proc.pid
    # postmap's own first run in a fresh config directory is slow: not timed.
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    fds0 = fd_count(pid)
    silent = [raw_connect(daemon.port) for _ in range(300)]
    trickle = [raw_connect(daemon.port) for _ in range(50)]
    request = netstring(b"users alice@example.com")
    stop = threading.Event()
    errors = []
    sent = [0]

    def one_byte_a_second():
        """Each trickling client sends its request one byte a second."""
        while not stop.is_set() and sent[0] < len(request) - 1:
            for s in trickle:
                try:
                    s.sendall(request[sent[0]:sent[0] + 1])
                except OSError as e:
                    errors.append(e)
            sent[0] += 1
            stop.wait(1.0)

    t = threading.Thread(target=one_byte_a_second)
    t.start()
    try:
        worst, times = 0.0, []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            result, took = timed_query(postmap, daemon.port, "domains", "example.com")
            assert result == ("OK", "example.com")
            worst = max(worst, took)
            times.append(round(took, 2))
        times.sort()
        print(f"{len(times)} postmap lookups beside 350 slow clients: "
              f"median {times[len(times) // 2]:.2f}s, slowest {worst:.2f}s")
        assert worst < 5, f"a postmap lookup took {worst:.1f}s beside slow clients"
        # The silent clients hit the idle timeout and are closed; the
        # trickling ones are not idle and keep their connections.
        for s in silent:
            s.settimeout(10)
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
        assert fd_count(pid) <= fds0 + len(trickle) + 10
        assert not errors, errors
    finally:
        stop.set()
        t.join()
        close_all(silent)
    # A trickled request is answered when its last bytes arrive.
    assert sent[0] >= 5
    for s in trickle:
        s.sendall(request[sent[0]:])
    for s in trickle:
        assert read_netstring(s, timeout=30) == b"OK example.com/alice/"
    close_all(trickle)
    assert daemon.proc.poll() is None


def soft_nofile(pid):
    return proc_field(f"/proc/{pid}/limits", "Max open files", 3)


def test_descriptor_limit_follows_max_clients(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    # Room under the hard limit: the soft one is raised to fit MAX_CLIENTS.
    daemon = start_daemon(cqld.port, prefix=["prlimit", "--nofile=64:4096", "--"],
                          MAX_CLIENTS=1000)
    assert soft_nofile(daemon.proc.pid) == 1100
    assert "open files" not in daemon.log_text()
    daemon.stop()
    # No room: a warning that names the setting to change, and it still serves.
    daemon = start_daemon(cqld.port, prefix=["prlimit", "--nofile=64:64", "--"],
                          MAX_CLIENTS=1000)
    assert soft_nofile(daemon.proc.pid) == 64
    assert ("MAX_CLIENTS=1000 needs about 1100 open files, but the limit is 64 "
            "(raise LimitNOFILE=") in daemon.log_text()
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")


def test_client_limit_is_enforced_gracefully(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, MAX_CLIENTS=50, CLIENT_IDLE_TIMEOUT=600)
    pid = daemon.proc.pid
    held = [raw_connect(daemon.port) for _ in range(50)]
    # Make sure all 50 are accepted and served before going over the limit.
    for s in held:
        s.sendall(netstring(b"domains example.com"))
    for s in held:
        assert read_netstring(s, timeout=30) == b"OK example.com"
    fds = fd_count(pid)
    # Over the limit: accepted and closed at once, never left hanging.
    extra = []
    for _ in range(100):
        s = raw_connect(daemon.port)
        extra.append(s)
    for s in extra:
        assert_closed(s)
    close_all(extra)
    assert fd_count(pid) <= fds + 2
    assert "client limit of 50 reached" in daemon.log_text()
    # The clients already in are still served.
    held[0].sendall(netstring(b"users bob@example.com"))
    assert read_netstring(held[0], timeout=30) == b"OK example.com/bob/"
    # Once some leave, Postfix gets in again.
    close_all(held[:10])
    wait_for(lambda: postmap.query(daemon.port, "domains", "example.com")
             == ("OK", "example.com"), timeout=30, what="a free client slot")
    close_all(held[10:])
    assert daemon.stop(timeout=30) == 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_does_not_spin(start_cqld, start_daemon, postmap):
    """MAX_CLIENTS above the descriptor limit: accept() fails with EMFILE
    while the connection waits in the backlog; the daemon must rest its
    listeners (not spin at 100% CPU) and serve again once clients leave."""
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, prefix=["prlimit", "--nofile=64:64", "--"],
                          MAX_CLIENTS=1000, CLIENT_IDLE_TIMEOUT=600)
    pid = daemon.proc.pid
    socks = [raw_connect(daemon.port) for _ in range(100)]
    try:
        wait_for(lambda: "Too many open files" in daemon.log_text(), timeout=10,
                 what="accept to run out of descriptors")
        c0 = cpu_seconds(pid)
        time.sleep(2)
        used = cpu_seconds(pid) - c0
        assert used < 0.5, f"{used:.2f} s of CPU in 2 s while out of descriptors"
        assert fd_count(pid) <= 64
    finally:
        close_all(socks)
    wait_for(lambda: postmap.query(daemon.port, "domains", "example.com")
             == ("OK", "example.com"), timeout=30, what="accepting again")
    assert daemon.stop(timeout=30) == 0


# ---- a client that pipelines and never reads; a half-closed client ---------

BIG_VALUE = ", ".join(f"user{i:05d}@example.net" for i in range(2700))  # about 60 KB
HOG_REQUESTS = 1500          # about 90 MB of replies: bounded, even on a daemon without limits
HOG_RSS_BOUND_KB = 32 * 1024


def big_alias(cqld):
    assert len(BIG_VALUE) > 55000
    cqld.control("exec INSERT INTO mailion.virtual_aliases (alias, destination) "
                  f"VALUES ('big@example.com', '{BIG_VALUE}')")


def hog_requests():
    """Mostly the big alias, with small lookups among them whose distinct
    answers show the order of the replies."""
    reqs, want = [], []
    for i in range(HOG_REQUESTS):
        if i % 10 == 3:
            reqs.append(b"users alice@example.com")
            want.append(b"OK example.com/alice/")
        elif i % 10 == 7:
            reqs.append(b"users bob@example.com")
            want.append(b"OK example.com/bob/")
        else:
            reqs.append(b"virtual_aliases big@example.com")
            want.append(b"OK " + BIG_VALUE.encode())
    return reqs, want


def test_client_that_does_not_read_cannot_grow_the_daemon(start_cqld, start_daemon, postmap):
    """A client pipelines lookups of a 60 KB alias and reads nothing. The
    daemon stops reading from it instead of queueing every reply in memory
    (before: 2.7 GB in 6 s); Postfix is served meanwhile; the replies come
    in request order once the client reads."""
    cqld = start_cqld()
    big_alias(cqld)
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=120)
    pid = daemon.proc.pid
    # Warm the cache and the allocator with one big reply, read in full.
    s = raw_connect(daemon.port)
    s.sendall(netstring(b"virtual_aliases big@example.com"))
    assert read_netstring(s) == b"OK " + BIG_VALUE.encode()
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    rss0 = rss_kb(pid)

    reqs, want = hog_requests()
    stream = b"".join(netstring(r) for r in reqs)
    s.setblocking(False)
    sent, peak = 0, rss0
    deadline = time.monotonic() + 4
    # Send what the daemon takes for a few seconds, watching its memory;
    # stop at once past the bound (a daemon without limits would go on).
    while time.monotonic() < deadline and peak - rss0 <= rss_bound_kb(HOG_RSS_BOUND_KB):
        if sent < len(stream):
            try:
                sent += s.send(stream[sent:sent + 65536])
            except BlockingIOError:
                pass
        time.sleep(0.02)
        peak = max(peak, rss_kb(pid))
    print(f"hog sent {sent} of {len(stream)} bytes; RSS {rss0} -> {peak} kB")
    assert peak - rss0 <= rss_bound_kb(HOG_RSS_BOUND_KB), \
        f"RSS grew {rss0} -> {peak} kB for a client that does not read"
    # Postfix is still answered while the hog sits there.
    assert postmap.query(daemon.port, "users", "bob@example.com") == ("OK", "example.com/bob/")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    # Now it reads: every complete request it sent is answered, in order,
    # and the daemon reads the rest of its requests as the replies drain.
    s.setblocking(True)
    s.settimeout(30)
    rest = threading.Thread(target=s.sendall, args=(stream[sent:],))
    rest.start()
    try:
        for i, w in enumerate(want):
            got = read_netstring(s, timeout=30)
            assert got == w, f"reply {i}: {got[:40]!r}..., wanted {w[:40]!r}..."
    finally:
        rest.join()
    s.sendall(netstring(b"domains example.com"))
    assert read_netstring(s, timeout=30) == b"OK example.com"
    s.close()
    assert daemon.proc.poll() is None


def test_half_closed_client_gets_its_answers(start_cqld, start_daemon):
    """A client sends its requests, then shuts down its sending side: it
    gets every answer, in order, then the connection is closed."""
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    s = raw_connect(daemon.port)
    s.sendall(netstring(b"users alice@example.com"))
    s.shutdown(socket.SHUT_WR)
    assert read_netstring(s, timeout=10) == b"OK example.com/alice/"
    assert_closed(s)

    # More than the 64 requests a client may have in flight, then EOF.
    s = raw_connect(daemon.port)
    reqs = [b"users alice@example.com", b"users nobody@example.com",
            b"domains example.com", b"users bob@example.com"] * 50
    s.sendall(b"".join(netstring(r) for r in reqs) + b"5:users")  # and half a request
    s.shutdown(socket.SHUT_WR)
    want = [b"OK example.com/alice/", b"NOTFOUND ", b"OK example.com",
            b"OK example.com/bob/"] * 50
    assert [read_netstring(s, timeout=10) for _ in reqs] == want
    assert_closed(s)
    assert daemon.proc.poll() is None


def test_half_closed_client_while_the_database_is_slow(start_cqld, start_daemon, postmap):
    """EOF arrives while the lookups are still out at the database: the
    answers are written when they come, then the connection is closed."""
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    cqld.control("delay 700")
    s = raw_connect(daemon.port)
    s.sendall(netstring(b"users bob@example.com") + netstring(b"domains example.org") +
              netstring(b"virtual_aliases team@example.com"))
    s.shutdown(socket.SHUT_WR)
    assert read_netstring(s, timeout=15) == b"OK example.com/bob/"
    assert read_netstring(s, timeout=15) == b"OK example.org"
    assert read_netstring(s, timeout=15) == b"OK alice@example.com, bob@example.com"
    assert_closed(s)
    cqld.control("delay 0")
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")


def test_client_that_never_reads_is_closed_after_the_idle_timeout(start_cqld, start_daemon, postmap):
    """Replies that make no progress for CLIENT_IDLE_TIMEOUT: the client is
    closed with a log line, not kept (with its queued replies) forever."""
    cqld = start_cqld()
    big_alias(cqld)
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=2)
    pid = daemon.proc.pid
    s = raw_connect(daemon.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(netstring(b"virtual_aliases big@example.com") * 300)
    wait_for(lambda: "no reply read for 2000 ms" in daemon.log_text(), timeout=30,
             what="the daemon to close a client that does not read")
    wait_for(lambda: client_sockets(pid, daemon.port) == 0, timeout=10,
             what="the client's descriptor to be closed")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    s.close()


# ---- the metrics listener ------------------------------------------------------

import subprocess
import urllib.request

HUGE_HEADER_BYTES = 48 * 1024 * 1024     # sent at most; the daemon should stop it far sooner
METRICS_RSS_BOUND_KB = 8 * 1024


def start_with_metrics(start_daemon, cql_port):
    """A daemon with METRICS_LISTEN on a free port: (daemon, metrics port).
    The port is free when chosen, but tests run beside others that may take
    it before the daemon binds it: then the daemon exits, and we try again."""
    for _ in range(5):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            mport = s.getsockname()[1]
        daemon = start_daemon(cql_port, wait_ready=False, METRICS_LISTEN=f"127.0.0.1:{mport}")
        try:
            daemon.proc.wait(0.5)
        except subprocess.TimeoutExpired:
            wait_for(lambda: " is up" in daemon.log_text(), timeout=10, what="a CQL node up")
            return daemon, mport
        assert "cannot listen on" in daemon.log_text(), daemon.log_text()
    raise AssertionError("no free port for METRICS_LISTEN")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def test_metrics_refuses_a_huge_header(start_cqld, start_daemon):
    """One endless header line to the metrics listener: refused after a few
    kilobytes (4xx or closed), not kept in memory; /metrics still answers."""
    cqld = start_cqld()
    daemon, mport = start_with_metrics(start_daemon, cqld.port)
    pid = daemon.proc.pid
    assert "requests_total" in scrape(mport)
    rss0 = rss_kb(pid)
    s = socket.create_connection(("127.0.0.1", mport), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Junk: ")
    chunk = b"a" * 65536
    sent, peak, refused = 0, rss0, False
    while sent < HUGE_HEADER_BYTES and peak - rss0 <= rss_bound_kb(METRICS_RSS_BOUND_KB):
        try:
            s.sendall(chunk)
        except OSError:          # reset or broken pipe: the daemon gave up on it
            refused = True
            break
        sent += len(chunk)
        if sent % (1024 * 1024) == 0:
            peak = max(peak, rss_kb(pid))
    peak = max(peak, rss_kb(pid))
    print(f"sent {sent} header bytes; RSS {rss0} -> {peak} kB")
    assert peak - rss0 <= rss_bound_kb(METRICS_RSS_BOUND_KB), \
        f"RSS grew {rss0} -> {peak} kB from one request header"
    if not refused:
        # Everything was taken by the kernel's buffers; the answer is a 4xx or a close.
        try:
            reply = s.recv(100)
        except ConnectionResetError:
            reply = b""
        assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply
    s.close()
    assert "requests_total" in scrape(mport)
    assert daemon.proc.poll() is None


def test_client_past_the_hard_limit_is_closed(start_cqld, start_daemon, postmap):
    """64 lookups of a 97 KB alias in flight at once, answered together
    while the client reads nothing: 6 MB of replies, of which the kernel
    takes at most tcp_wmem's 4 MB; the rest would queue up in the daemon,
    over its 1 MB limit. The client is closed with a log line instead."""
    cqld = start_cqld()
    value = ", ".join(f"user{i:05d}@example.net" for i in range(4400))[:97000]
    cqld.control("exec INSERT INTO mailion.virtual_aliases (alias, destination) "
                 f"VALUES ('huge@example.com', '{value}')")
    daemon = start_daemon(cqld.port, CLIENT_IDLE_TIMEOUT=120)
    pid = daemon.proc.pid
    cqld.control("delay 500")       # all 64 are in flight when the answer comes
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", daemon.port))
    s.sendall(netstring(b"virtual_aliases huge@example.com") * 64)
    wait_for(lambda: "more than 1048576 bytes of replies not read" in daemon.log_text(),
             timeout=30, what="the daemon to close a client past the hard limit")
    wait_for(lambda: client_sockets(pid, daemon.port) == 0, timeout=10,
             what="the client's descriptor to be closed")
    cqld.control("delay 0")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    s.close()
