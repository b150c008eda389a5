"""Lookups that arrive while the daemon is still making its first connection.

With socket activation systemd starts the daemon on Postfix's first
connection, so the first lookups always come before the database
connection is up. They wait for it (within the lookup deadline) instead of
answering TEMP "not connected", which would defer the first mail after
every start. cqld's "delay" holds the handshake's answer back.
"""
import signal

from conftest import netstring, raw_connect, read_netstring, wait_for

HANDSHAKE_HELD_MS = 3000      # under the connect timeout (5 s), over a loaded machine's stalls


def send_lookups(port, lookups):
    """One connection per lookup, the request sent at once; the sockets."""
    socks = []
    for name, key in lookups:
        s = raw_connect(port)
        s.sendall(netstring(f"{name} {key}".encode()))
        socks.append(s)
    return socks


def held_with_two_lookups(start_cqld, start_daemon, held_ms=10000, **timeouts):
    """A daemon whose only node holds the handshake held_ms (lookup and
    connect timeouts of a minute unless given), with a lookup of a key that
    exists and one of a key that does not waiting for it: cqld, daemon,
    sockets."""
    cqld = start_cqld()
    cqld.control(f"delay {held_ms}")
    settings = dict(CASSANDRA_LOOKUP_TIMEOUT_MS="60000", CASSANDRA_CONNECT_TIMEOUT_MS="60000")
    settings.update(timeouts)
    daemon = start_daemon(cqld.port, wait_ready=False, CACHE="off", **settings)
    socks = send_lookups(daemon.port, [("domains", "example.com"),
                                       ("domains", "no-such-domain.example")])
    # The lookups are in before the handshake is answered.
    assert " is up" not in daemon.log_text(), daemon.log_text()
    return cqld, daemon, socks


def replies(socks, timeout):
    """The reply on each socket, decoded; the sockets are closed."""
    try:
        return [read_netstring(s, timeout=timeout).decode() for s in socks]
    finally:
        for s in socks:
            s.close()


def test_lookups_made_while_connecting_wait_for_the_connection(start_cqld, start_daemon):
    cqld, daemon, socks = held_with_two_lookups(
        start_cqld, start_daemon, HANDSHAKE_HELD_MS, CASSANDRA_LOOKUP_TIMEOUT_MS="20000",
        CASSANDRA_CONNECT_TIMEOUT_MS="5000")
    cqld.control("delay 0")             # what follows the handshake is prompt
    found, missing = replies(socks, timeout=30)
    assert found.startswith("OK "), found
    assert missing == "NOTFOUND ", missing
    assert "that waited for it" in daemon.log_text()


def test_a_lookup_held_past_its_deadline_is_temp_never_notfound(start_cqld, start_daemon):
    cqld, daemon, socks = held_with_two_lookups(
        start_cqld, start_daemon, 3500, CASSANDRA_LOOKUP_TIMEOUT_MS="1000",
        CASSANDRA_CONNECT_TIMEOUT_MS="20000")
    for reply in replies(socks, timeout=15):
        assert reply.startswith("TEMP "), reply
    assert " is up" not in daemon.log_text()
    cqld.control("delay 0")
    wait_for(lambda: " is up" in daemon.log_text(), timeout=20, what="the connection")
    socks = send_lookups(daemon.port, [("domains", "no-such-domain.example")])
    assert replies(socks, timeout=15) == ["NOTFOUND "]


def test_lookups_waiting_when_every_node_fails_answer_temp_at_once(start_cqld, start_daemon):
    cqld, daemon, socks = held_with_two_lookups(start_cqld, start_daemon)
    cqld.control("drop")                # the only node's first attempt fails
    # Answered when the attempt fails, long before the lookup deadline.
    for reply in replies(socks, timeout=20):
        assert reply == "TEMP cassandra: not connected", reply


def test_term_answers_the_lookups_waiting_for_the_connection(start_cqld, start_daemon):
    _, daemon, socks = held_with_two_lookups(start_cqld, start_daemon)
    daemon.proc.send_signal(signal.SIGTERM)
    for reply in replies(socks, timeout=20):
        assert reply.startswith("TEMP "), reply
    assert daemon.proc.wait(20) == 0


def test_a_standby_group_that_serves_takes_reads_while_the_primary_connects(start_cqld,
                                                                            start_daemon):
    primary, standby = start_cqld(), start_cqld()
    primary.control("delay 10000")
    daemon = start_daemon(primary.port, wait_ready=False, CACHE="off",
                          CASSANDRA_FAILOVER_HOSTS=f"127.0.0.1:{standby.port}",
                          CASSANDRA_LOOKUP_TIMEOUT_MS="60000",
                          CASSANDRA_CONNECT_TIMEOUT_MS="60000")
    wait_for(lambda: f"127.0.0.1:{standby.port} is up" in daemon.log_text(),
             what="the standby group up")
    # Not held until the primary's first attempt ends: the standby answers.
    socks = send_lookups(daemon.port, [("domains", "example.com")])
    assert replies(socks, timeout=30)[0].startswith("OK "), daemon.log_text()
    log = daemon.log_text()
    for primary_done in ("is up", "cannot connect to"):
        assert f"{primary_done} 127.0.0.1:{primary.port}" not in log, log
        assert f"127.0.0.1:{primary.port} {primary_done}" not in log, log


def test_a_reload_while_lookups_wait_never_sends_the_retired_query(tmp_path, start_cqld,
                                                                   start_daemon):
    q1 = "SELECT destination FROM mailion.virtual_aliases WHERE alias = ?"
    q2 = "SELECT action FROM mailion.access_maps WHERE sender = ?"
    conf = tmp_path / "maps.conf"
    conf.write_text(f"[virtual_aliases]\nquery = {q1}\n")
    cqld = start_cqld()
    cqld.control(f"delay {HANDSHAKE_HELD_MS}")
    daemon = start_daemon(cqld.port, wait_ready=False, CONFIG_FILE=conf, CACHE="off",
                          CASSANDRA_LOOKUP_TIMEOUT_MS="20000", LOG_LEVEL="debug")
    socks = send_lookups(daemon.port, [("virtual_aliases", "info@example.com")])
    conf.write_text(f"[virtual_aliases]\nquery = {q2}\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded: 6 maps" in daemon.log_text(), what="the reload")
    assert " is up" not in daemon.log_text()
    cqld.control("delay 0")
    # The waiting read was made with q1, which the reload retired: it is not
    # sent (q1 is never prepared), and the lookup is TEMP, never NOTFOUND.
    assert replies(socks, timeout=30)[0].startswith("TEMP "), daemon.log_text()
    assert f"prepared: {q1}" not in daemon.log_text()
    socks = send_lookups(daemon.port, [("virtual_aliases", "bad.example")])
    assert replies(socks, timeout=30) == ["OK REJECT domain blocked"]
