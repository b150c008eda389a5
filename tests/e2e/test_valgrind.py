"""The daemon under valgrind memcheck: a day of lookups, an outage, TERM.

One run of the real daemon (the normal build; ASan builds cannot run under
valgrind and skip this) with --leak-check=full: real postmap lookups on
every map, found and missing keys, an unknown map, a malformed client,
cqld stopped mid-run (TEMP) and started again (recovery), a cache flush,
then TERM. Valgrind must report no invalid access, no use of uninitialised
memory and no definitely lost block, and the daemon must exit 0 (valgrind
exits 99 when it found any of these).
"""
import re
import shutil
import signal

import pytest

from conftest import DAEMON, netstring, raw_connect, read_netstring, sanitized, wait_for

pytestmark = [
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
]

LOOKUPS = [
    ("domains", "example.com", ("OK", "example.com")),
    ("domains", "old.example", ("NOTFOUND", "")),
    ("users", "alice@example.com", ("OK", "example.com/alice/")),
    ("users", "ALICE@Example.COM", ("OK", "example.com/alice/")),
    ("users", "nobody@example.com", ("NOTFOUND", "")),
    ("relay_domains", "relay.example", ("OK", "relay.example")),
    ("virtual_aliases", "team@example.com", ("OK", "alice@example.com, bob@example.com")),
    ("transport_maps", "example.net", ("OK", "smtp:[relay.example.net]:587")),
    ("access_maps", "bad.example", ("OK", "REJECT domain blocked")),
]


def all_correct(postmap, port):
    return all(postmap.query(port, name, key, timeout=60) == want
               for name, key, want in LOOKUPS)


def test_valgrind_memcheck_clean(tmp_path, start_cqld, start_daemon, postmap):
    if sanitized(DAEMON):
        pytest.skip("ASan build: run the normal build under valgrind")
    vlog = tmp_path / "valgrind.log"
    cqld = start_cqld()
    daemon = start_daemon(
        cqld.port, wait_ready=False, start_timeout=120,
        prefix=["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite", "--error-exitcode=99",
                "--track-origins=yes", f"--log-file={vlog}"],
        CACHE_TTL=1, CASSANDRA_REQUEST_TIMEOUT_MS=2000, CASSANDRA_LOOKUP_TIMEOUT_MS=6000)
    wait_for(lambda: " is up" in daemon.log_text(), timeout=120, what="a CQL node up")

    for name, key, want in LOOKUPS:
        assert postmap.query(daemon.port, name, key, timeout=60) == want, (name, key)
    found = postmap.query_many(daemon.port, "users",
                               ["alice@example.com", "bob@example.com", "x@y"] * 20)
    assert found["bob@example.com"] == "example.com/bob/"
    status, detail = postmap.query(daemon.port, "nosuch", "x", timeout=60)
    assert status == "PERM", detail

    # A malformed client and a pipelining one, beside postmap.
    bad = raw_connect(daemon.port)
    bad.sendall(b"12x:users alice,")
    good = raw_connect(daemon.port)
    good.settimeout(60)
    good.sendall(netstring(b"domains example.com") + netstring(b"users \xff@x"))
    assert read_netstring(good, timeout=60) == b"OK example.com"
    assert read_netstring(good, timeout=60) == b"NOTFOUND "
    good.close()
    bad.close()

    # cqld goes away: TEMP, never NOTFOUND; it comes back: answers again.
    port = cqld.port
    cqld.stop()
    wait_for(lambda: postmap.query(daemon.port, "users", "carol@example.com",
                                   timeout=60)[0] == "TEMP",
             timeout=60, what="TEMP while cqld is down")
    assert postmap.query(daemon.port, "domains", "nosuch.example", timeout=60)[0] == "TEMP"
    ups = daemon.log_text().count(" is up")
    start_cqld(port=port)
    # (Cached answers may be served stale meanwhile: wait for the node.)
    wait_for(lambda: daemon.log_text().count(" is up") > ups, timeout=90,
             what="the daemon to reconnect")
    wait_for(lambda: all_correct(postmap, daemon.port), timeout=90, interval=0.5,
             what="recovery after cqld came back")

    daemon.proc.send_signal(signal.SIGUSR1)      # flush the cache
    result = postmap.query(daemon.port, "users", "alice@example.com", timeout=60)
    assert result == ("OK", "example.com/alice/"), (result, daemon.log_text()[-3000:])

    rc = daemon.stop(timeout=120)
    report = vlog.read_text(errors="replace")
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    assert summary, report[-3000:]
    print("\n".join(l for l in report.splitlines()
                    if re.search(r"ERROR SUMMARY|definitely lost|in use at exit|total heap", l)))
    assert rc == 0, f"exit code {rc}\n" + report[-6000:]
    assert summary.group(1) == "0", report[-6000:]
    assert "definitely lost: 0 bytes" in report or "definitely lost" not in report, report[-6000:]
    assert "Invalid read" not in report and "Invalid write" not in report, report[-6000:]
