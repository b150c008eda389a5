"""An operator provisions a mailbox with the DataStax Python driver; Postfix sees it.

The real driver (Debian's python3-cassandra) writes to cqld exactly as it
would to Cassandra; the daemon then serves the new row to real postmap.
Driver options: schema and token metadata are off (cqld keeps no
system_schema tables; the daemon does not need them either).
"""
import subprocess

import pytest

from conftest import DAEMON, wait_for

cassandra = pytest.importorskip("cassandra.cluster", reason="needs /usr/bin/python3 with python3-cassandra")


def test_row_inserted_by_the_driver_is_served(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    assert postmap.query(daemon.port, "users", "dora@example.com") == ("NOTFOUND", "")

    cluster = cassandra.Cluster(["127.0.0.1"], port=cqld.port, protocol_version=4,
                                schema_metadata_enabled=False, token_metadata_enabled=False,
                                connect_timeout=5)
    try:
        session = cluster.connect()
        insert = session.prepare("INSERT INTO mailion.users (email, active) VALUES (?, ?)")
        session.execute(insert, ("dora@example.com", True))
        session.execute("INSERT INTO mailion.virtual_aliases (alias, destination) "
                        "VALUES ('sales@example.com', 'dora@example.com')")
        row = session.execute("SELECT email, active FROM mailion.users WHERE email = %s",
                              ("dora@example.com",)).one()
        assert (row.email, row.active) == ("dora@example.com", True)
    finally:
        cluster.shutdown()

    # The first lookup cached "no such mailbox" for CACHE_NEGATIVE_TTL (30 s);
    # the operator flushes that daemon's cache (--flush --pid sends it SIGUSR1) so the new mailbox is served at once.
    assert postmap.query(daemon.port, "users", "dora@example.com") == ("NOTFOUND", "")
    r = subprocess.run([str(DAEMON), "--flush", "--pid", str(daemon.proc.pid)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and f"pid {daemon.proc.pid}" in r.stdout, r
    wait_for(lambda: "flushing" in daemon.log_text(), what="the cache flush")
    assert postmap.query(daemon.port, "users", "dora@example.com") == ("OK", "example.com/dora/")
    assert postmap.query(daemon.port, "virtual_aliases", "Sales@Example.com") == ("OK", "dora@example.com")
