"""Every CQL read costs money on Keyspaces, and the database can be away.

The cache answers repeated lookups from memory (positive, negative and
stale-if-error lifetimes), identical lookups in flight share one read, and
the candidates of a search order are read in parallel. cqld's control
socket counts the reads that reach it and injects latency.
"""
import statistics
import threading
import time

from conftest import cqld_counts, netstring, raw_connect, read_netstring, wait_for


def test_repeated_lookups_reach_the_database_once(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    keys = [f"user{i}@example.com" for i in range(10)] + ["alice@example.com", "bob@example.com"]
    cqld.control("reset-counts")
    lookups = [keys[i % len(keys)] for i in range(1000)]
    found = postmap.query_many(daemon.port, "users", lookups)
    assert found == {"alice@example.com": "example.com/alice/", "bob@example.com": "example.com/bob/"}
    # users searches user@domain then @domain; @example.com is shared by all.
    assert cqld_counts(cqld) == {"mailion.users": len(keys) + 1}

    # Within the TTL, another 1000 lookups cost nothing.
    found = postmap.query_many(daemon.port, "users", lookups)
    assert len(found) == 2
    assert cqld_counts(cqld) == {"mailion.users": len(keys) + 1}


def test_identical_lookups_in_flight_share_one_read(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    cqld.control("delay 300")
    cqld.control("reset-counts")
    socks = [raw_connect(daemon.port) for _ in range(100)]
    barrier = threading.Barrier(len(socks))
    replies = [None] * len(socks)

    def ask(i):
        barrier.wait()
        socks[i].sendall(netstring(b"domains example.com"))
        replies[i] = read_netstring(socks[i], timeout=10)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(socks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == [b"OK example.com"] * len(socks)
    assert cqld_counts(cqld) == {"mailion.domains": 1}


def test_outage_answers_from_stale_data_never_notfound(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE_TTL=1, CACHE_NEGATIVE_TTL=1, CACHE_STALE_TTL=3600)
    cached = {("users", "alice@example.com"): "example.com/alice/",
              ("domains", "example.com"): "example.com",
              ("virtual_aliases", "team@example.com"): "alice@example.com, bob@example.com"}
    for (name, key), value in cached.items():
        assert postmap.query(daemon.port, name, key) == ("OK", value)
    time.sleep(1.5)                      # every entry is now expired
    cqld.stop()
    for (name, key), value in cached.items():
        assert postmap.query(daemon.port, name, key) == ("OK", value), (name, key)
    # Keys never seen cannot be answered: TEMP, not NOTFOUND.
    for name, key in [("users", "bob@example.com"), ("domains", "example.org")]:
        assert postmap.query(daemon.port, name, key)[0] == "TEMP", (name, key)
    assert "answering from cached data" in daemon.log_text()


def test_expired_not_found_is_not_served_in_an_outage(start_cqld, start_daemon, postmap):
    # A new mailbox: looked up before it exists (cached "no row" for 1 s),
    # then created; then the database goes away. The old "no row" says
    # nothing about the mailbox now: Postfix must defer, not bounce.
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE_NEGATIVE_TTL=1, CACHE_STALE_TTL=3600)
    assert postmap.query(daemon.port, "users", "newbie@example.com") == ("NOTFOUND", "")
    cqld.control("exec INSERT INTO mailion.users (email, active) VALUES ('newbie@example.com', true)")
    time.sleep(1.5)                      # past the negative TTL, inside the stale window
    cqld.stop()
    status, detail = postmap.query(daemon.port, "users", "newbie@example.com")
    assert status == "TEMP", (status, detail)


def test_expired_not_found_does_not_let_a_catch_all_win(start_cqld, start_daemon, postmap):
    # alice is cached absent, the domain's catch-all is cached found. Then
    # alice's own alias is created and reads fail: the catch-all must not
    # answer for her (her mail would go to the wrong mailbox).
    cqld = start_cqld()
    cqld.control("exec INSERT INTO mailion.virtual_aliases (alias, destination) "
                 "VALUES ('@example.com', 'catchall@example.com')")
    daemon = start_daemon(cqld.port, CACHE_TTL=300, CACHE_NEGATIVE_TTL=1, CACHE_STALE_TTL=3600)
    assert postmap.query(daemon.port, "virtual_aliases", "alice@example.com") == \
        ("OK", "catchall@example.com")
    cqld.control("exec INSERT INTO mailion.virtual_aliases (alias, destination) "
                 "VALUES ('alice@example.com', 'alice@mailbox.example')")
    time.sleep(1.5)                      # alice's "no row" expired; @example.com still fresh
    cqld.control("fail server_error")
    status, detail = postmap.query(daemon.port, "virtual_aliases", "alice@example.com")
    assert status == "TEMP", (status, detail)
    # Once the database answers again, alice's own alias wins.
    cqld.control("fail off")
    assert postmap.query(daemon.port, "virtual_aliases", "alice@example.com") == \
        ("OK", "alice@mailbox.example")


def test_stale_window_has_an_end(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE_TTL=1, CACHE_STALE_TTL=1)
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    cqld.stop()
    time.sleep(2.2)
    assert postmap.query(daemon.port, "domains", "example.com")[0] == "TEMP"


def test_refresh_ahead_keeps_hot_keys_fresh(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE_TTL=2)
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    cqld.control("reset-counts")
    time.sleep(1.85)                     # inside the last tenth of the entry's life
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    wait_for(lambda: cqld_counts(cqld).get("mailion.domains") == 1, timeout=5,
             what="the background refresh")
    cqld.stop()
    time.sleep(0.5)                      # past the original expiry: the refresh made it fresh
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert "answering from cached data" not in daemon.log_text()


def lookup_time(port, request, n=7):
    """Median seconds for one socketmap lookup over a raw connection."""
    s = raw_connect(port)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        s.sendall(netstring(request))
        read_netstring(s)
        times.append(time.perf_counter() - t0)
    s.close()
    return statistics.median(times)


def test_search_candidates_are_read_in_parallel(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE="off")
    cqld.control("delay 20")
    single = lookup_time(daemon.port, b"domains example.com")
    # bob+x@mail.spam.test: seven candidates (access(5) order with parents).
    seven = lookup_time(daemon.port, b"access_maps bob+x@mail.spam.test")
    assert single >= 0.018
    assert seven < 2 * single, (seven, single)
