"""A mailbox deleted on one server must stop being accepted on every server
within seconds, not after CACHE_TTL.

Whoever changes a map's rows sets a new serial for its table in
<keyspace>.pac_changes; every daemon reads that table every
CHANGES_POLL_SECONDS and drops the cached answers of the maps whose serial
changed. Two daemons share one cqld here, with a one-second poll and an
hour-long cache: without the bump they keep answering from the cache (so it
is the mechanism that refuses the mailbox), with it both refuse it, and the
maps whose tables did not change keep their cache. Without the table the
daemon says so once and answers as before.
"""
import re
import urllib.request

from conftest import DEMO_CQL, cqld_counts, wait_for

CHANGES_CQL = """
CREATE TABLE mailion.pac_changes (table_name text PRIMARY KEY, serial bigint);
INSERT INTO mailion.pac_changes (table_name, serial) VALUES ('users', 1);
INSERT INTO mailion.pac_changes (table_name, serial) VALUES ('domains', 7);
"""

LONG_CACHE = dict(CHANGES_POLL_SECONDS=1, CACHE_TTL=3600, CACHE_NEGATIVE_TTL=3600)


def polls(cqld):
    return cqld_counts(cqld).get("mailion.pac_changes", 0)


def metrics(daemon):
    """{name: value} of the daemon's unlabelled metrics (METRICS_LISTEN=...:0)."""
    m = wait_for(lambda: re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)",
                                   daemon.log_text()), what="the metrics endpoint")
    text = urllib.request.urlopen(m.group(1), timeout=10).read().decode()
    return {k: float(v) for k, v in re.findall(r"^postfix_aws_cassandra_(\w+) (\S+)$", text, re.M)}


def test_serial_bump_refuses_deleted_mailbox_on_every_server(tmp_path, start_cqld,
                                                             start_daemon, postmap):
    schema = tmp_path / "changes.cql"
    schema.write_text(CHANGES_CQL)
    cqld = start_cqld(DEMO_CQL, schema)
    daemons = [start_daemon(cqld.port, METRICS_LISTEN="127.0.0.1:0", **LONG_CACHE)
               for _ in range(2)]
    for d in daemons:
        wait_for(lambda: "pac_changes read: fleet invalidation on" in d.log_text(),
                 what="the first poll of pac_changes")
        assert postmap.query(d.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
        assert postmap.query(d.port, "domains", "example.com") == ("OK", "example.com")

    cqld.control("exec DELETE FROM mailion.users WHERE email = 'alice@example.com'")
    # No bump: several polls later both still answer from their cache.
    seen = polls(cqld)
    wait_for(lambda: polls(cqld) >= seen + 4, what="two more polls by each daemon")
    for d in daemons:
        assert postmap.query(d.port, "users", "alice@example.com") == ("OK", "example.com/alice/")

    reads = cqld_counts(cqld)
    cqld.control("exec UPDATE mailion.pac_changes SET serial = 2 WHERE table_name = 'users'")
    for d in daemons:
        wait_for(lambda: postmap.query(d.port, "users", "alice@example.com") == ("NOTFOUND", ""),
                 timeout=20, what="the deleted mailbox refused")
        assert "table users changed: cached answers of map users dropped" in d.log_text()
        # The other maps kept their cache: no read of domains reached cqld.
        assert postmap.query(d.port, "domains", "example.com") == ("OK", "example.com")
        assert "map domains dropped" not in d.log_text()
    assert cqld_counts(cqld).get("mailion.domains", 0) == reads.get("mailion.domains", 0)
    for d in daemons:
        m = metrics(d)
        assert m["changes_maps_invalidated_total"] == 1
        assert m["changes_table_found"] == 1
        assert m["changes_poll_failures_total"] == 0
        assert m["changes_polls_total"] >= 3
        # The Keyspaces read-unit estimate counts the polls (LOCAL_ONE: 0.5 each).
        assert m["keyspaces_read_units_total"] == (m["cql_reads_total"] +
                                                   m["changes_polls_total"]) * 0.5


def test_without_the_table_says_so_once_and_serves(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, **LONG_CACHE)
    line = ("mailion.pac_changes not found: fleet invalidation off, cached answers "
            "live up to CACHE_TTL")
    wait_for(lambda: line in daemon.log_text(), what="the startup line")
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    assert postmap.query(daemon.port, "users", "nobody@example.com") == ("NOTFOUND", "")
    # Said once, and not as a prepare error on every connection.
    assert daemon.log_text().count("pac_changes") == 1
    assert "cannot prepare" not in daemon.log_text()
    assert polls(cqld) == 0


def test_node_without_the_table_still_serves(tmp_path, start_cqld, start_daemon, postmap):
    """The poll's statement is one the maps do without: a node that refuses it
    (its schema lacks pac_changes while another node prepared it) keeps
    serving lookups, where a map's statement refused so would close it."""
    schema = tmp_path / "changes.cql"
    schema.write_text(CHANGES_CQL)
    with_table = start_cqld(DEMO_CQL, schema)
    without = start_cqld()
    without.control("delay 300")    # the node with the table prepares first
    daemon = start_daemon(with_table.port, wait_ready=False, CASSANDRA_DISCOVERY="off",
                          CASSANDRA_HOSTS=f"127.0.0.1:{with_table.port},127.0.0.1:{without.port}",
                          **LONG_CACHE)
    for node in (with_table, without):
        wait_for(lambda: f"127.0.0.1:{node.port} is up" in daemon.log_text(),
                 what=f"node {node.port} up")
    wait_for(lambda: "pac_changes read: fleet invalidation on" in daemon.log_text(),
             what="a poll answered by the node with the table")
    without.control("delay 0")
    keys = [f"user{i}@example.com" for i in range(20)] + ["alice@example.com"]
    assert postmap.query_many(daemon.port, "users", keys) == {"alice@example.com": "example.com/alice/"}
    assert cqld_counts(without).get("mailion.users", 0) > 0, "both nodes served"
    text = daemon.log_text()
    assert "cannot prepare statements" not in text, text
    assert " is down" not in text, text
