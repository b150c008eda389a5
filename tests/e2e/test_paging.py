"""A result that comes in pages is read to its last page (issue 11 item 3).

Amazon Keyspaces pages every result at 1 MB of data read and documents that
a page may hold no rows and still not be the last ("Paginating results").
cqld does the same on request (control "paging BYTES [empty]"; cqld
--keyspaces pages at 1 MB by default, and the first two tests run against
it too, through TLS, SigV4 and the endpoint's several addresses); the daemon
must follow the paging state to the end, never take a first page for the
whole answer, and answer TEMP when a result goes past the bound it reads.
Lookups go through Debian's real postmap.
"""
import socket
import urllib.request

import pytest

from conftest import DATA, wait_for

STAFF = "alice@example.com, bob@example.com, carol@example.org"


@pytest.fixture(params=["cassandra", "keyspaces"])
def paged_node(request, start_cqld, start_keyspaces):
    """start(*loads) -> (cqld, daemon env): a Cassandra-like cqld, or cqld
    --keyspaces (TLS, SigV4, several addresses, its own page budget)."""
    def start(*loads):
        if request.param == "cassandra":
            return start_cqld(*loads), {}
        node = start_keyspaces(*loads)
        return node, node.daemon_env
    return start


def test_empty_first_page_is_not_notfound(paged_node, start_daemon, postmap):
    cqld, env = paged_node(DATA / "clustered_aliases.cql")
    daemon = start_daemon(cqld.port, **env)
    # Every result starts with a page of zero rows that carries a paging state.
    cqld.control("paging 0 empty")
    assert postmap.query(daemon.port, "virtual_aliases", "solo@example.com") == \
        ("OK", "dave@example.com")
    assert postmap.query(daemon.port, "virtual_aliases", "staff@example.com") == \
        ("OK", STAFF)
    # A key with no row is still NOTFOUND: the last page says so.
    assert postmap.query(daemon.port, "virtual_aliases", "nobody@example.com") == \
        ("NOTFOUND", "")
    # Nothing wrong was cached: without paging the answers are the same.
    cqld.control("paging off")
    assert postmap.query(daemon.port, "virtual_aliases", "solo@example.com") == \
        ("OK", "dave@example.com")


def test_multi_page_alias_list_is_read_whole(paged_node, start_daemon, postmap):
    cqld, env = paged_node(DATA / "clustered_aliases.cql")
    daemon = start_daemon(cqld.port, CACHE="off", **env)
    if env:
        # Keyspaces: the reads go over every address the endpoint lists
        wait_for(lambda: all(f"127.0.0.{i}:{cqld.port} is up" in daemon.log_text()
                             for i in (1, 2, 3)), what="the endpoint's 3 addresses up")
    # One row per page (the budget is reached by the first row's cells) ...
    cqld.control("paging 1")
    assert postmap.query(daemon.port, "virtual_aliases", "staff@example.com") == \
        ("OK", STAFF)
    # ... and with an empty page before each of them, the first included.
    cqld.control("paging 1 empty")
    assert postmap.query(daemon.port, "virtual_aliases", "staff@example.com") == \
        ("OK", STAFF)


def metrics_text(port):
    """The daemon's /metrics page."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_result_over_the_page_bound_is_temp(start_cqld, start_daemon, postmap):
    cqld = start_cqld(DATA / "clustered_aliases.cql")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        mport = s.getsockname()[1]
    daemon = start_daemon(cqld.port, CACHE="off", METRICS_LISTEN=f"127.0.0.1:{mport}")
    for i in range(40):
        cqld.control("exec INSERT INTO mailion.virtual_aliases (alias, destination) "
                     f"VALUES ('big@example.com', 'member{i:02d}@example.com')")
    want = ", ".join(f"member{i:02d}@example.com" for i in range(40))
    # 40 rows in one page: read.
    assert postmap.query(daemon.port, "virtual_aliases", "big@example.com") == ("OK", want)
    # 40 pages of one row, over the 32 pages read for one lookup: TEMP, and
    # the log says why; never the first 32 rows as if they were all.
    cqld.control("paging 1")
    status, detail = postmap.query(daemon.port, "virtual_aliases", "big@example.com")
    assert status == "TEMP", (status, detail)
    wait_for(lambda: "result over the paging bound" in daemon.log_text(),
             what="the TEMP line")
    assert "over the paging bound after 32 pages" in daemon.log_text()
    assert "(at most 32 pages, 4194304 bytes per read)" in daemon.log_text()
    # Counted under its own kind, not with the unexplained "other" errors.
    page = metrics_text(mport)
    assert 'cql_errors_total{kind="too_large"} 1\n' in page, page
    assert 'cql_errors_total{kind="other"} 0\n' in page, page
    # Other keys of the map are still answered, in pages.
    assert postmap.query(daemon.port, "virtual_aliases", "staff@example.com") == \
        ("OK", STAFF)
