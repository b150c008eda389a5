"""A lookup is in flight when the operator reloads the maps or flushes the cache.

cqld holds the database's answers back ("hold on") while the daemon is told
to reload (SIGHUP) or to empty its cache (SIGUSR1), then lets them go. The
answer that arrives late belongs to the map and the moment its lookup started:
it must not be formatted for another map that took its place, must never be
an empty OK, and must not be cached for the map now in that place or come
back into a cache that was just emptied.
"""
import signal
import threading

from conftest import cqld_counts, wait_for

# Two maps that a reload swaps: each is where the other was.
ALIAS = """[aliasx]
query = SELECT destination FROM mailion.virtual_aliases WHERE alias = ?
search = exact
result_format = alias:%s
"""
TRANSPORT = """[transx]
query = SELECT transport FROM mailion.transport_maps WHERE address = ?
search = exact
result_format = transport:%s
"""
# Held reads must outlive the reload: no client-side timeout meanwhile.
SLOW_OK = {"CASSANDRA_REQUEST_TIMEOUT_MS": 120000}


def held(cqld):
    return int(cqld.control("held").split()[2])


def lookup_in_background(postmap, port, name, key):
    """Start a postmap lookup; return (thread, result list)."""
    result = []
    t = threading.Thread(target=lambda: result.append(postmap.query(port, name, key, timeout=120)))
    t.start()
    return t, result


def reload_during_a_read(cqld, daemon, postmap, conf, new_text, name, key, reads):
    """Look key up in map name, hold its reads, reload with new_text, release."""
    cqld.control("hold on")
    t, result = lookup_in_background(postmap, daemon.port, name, key)
    wait_for(lambda: held(cqld) == reads, timeout=30, what="the read to reach cqld")
    before = daemon.log_text().count("reloaded:")
    conf.write_text(new_text)
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.log_text().count("reloaded:") > before, timeout=30, what="the reload")
    cqld.control("hold off")
    t.join(120)
    assert not t.is_alive()
    return result[0]


def test_a_read_in_flight_answers_for_its_own_map_after_a_swap(tmp_path, start_cqld, start_daemon,
                                                               postmap):
    conf = tmp_path / "maps.conf"
    conf.write_text(ALIAS + TRANSPORT)
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf, **SLOW_OK)
    assert postmap.query(daemon.port, "transx", "example.net") == \
        ("OK", "transport:smtp:[relay.example.net]:587")

    # aliasx's slot now holds transx and the other way round.
    reply = reload_during_a_read(cqld, daemon, postmap, conf, TRANSPORT + ALIAS,
                                 "aliasx", "info@example.com", reads=1)
    assert reply == ("OK", "alias:alice@example.com")

    # Nothing of that late answer was cached for transx: it reads the
    # database and finds no transport for the address.
    cqld.control("reset-counts")
    assert postmap.query(daemon.port, "transx", "info@example.com") == ("NOTFOUND", "")
    assert cqld_counts(cqld) == {"mailion.transport_maps": 1}
    assert postmap.query(daemon.port, "aliasx", "info@example.com") == \
        ("OK", "alias:alice@example.com")
    assert postmap.query(daemon.port, "transx", "example.net") == \
        ("OK", "transport:smtp:[relay.example.net]:587")


def test_a_read_in_flight_when_its_map_is_removed_is_never_an_empty_ok(tmp_path, start_cqld,
                                                                       start_daemon, postmap):
    conf = tmp_path / "maps.conf"
    conf.write_text(ALIAS)
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf, **SLOW_OK)

    reply = reload_during_a_read(cqld, daemon, postmap, conf, "",
                                 "aliasx", "info@example.com", reads=1)
    # The map as it was when the lookup started; never "OK " with nothing.
    assert reply == ("OK", "alias:alice@example.com")
    status, detail = postmap.query(daemon.port, "aliasx", "info@example.com")
    assert status == "PERM" and "unknown map name" in detail, (status, detail)
    assert daemon.proc.poll() is None


def test_a_read_in_flight_does_not_refill_a_flushed_cache(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, **SLOW_OK)
    cqld.control("hold on")
    # users searches alice@example.com and @example.com: two reads.
    t, result = lookup_in_background(postmap, daemon.port, "users", "alice@example.com")
    wait_for(lambda: held(cqld) == 2, timeout=30, what="the reads to reach cqld")
    # alice is disabled and the operator flushes the cache so it counts now.
    cqld.control("exec INSERT INTO mailion.users (email, active) "
                 "VALUES ('alice@example.com', false)")
    daemon.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: "SIGUSR1: flushing" in daemon.log_text(), timeout=30, what="the flush")
    cqld.control("hold off")
    t.join(120)
    assert not t.is_alive()
    # Read before the flush: that lookup may have the old answer...
    assert result[0] == ("OK", "example.com/alice/")
    # ...but the next one asks the database again and sees her disabled.
    cqld.control("reset-counts")
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("NOTFOUND", "")
    assert cqld_counts(cqld) == {"mailion.users": 2}
