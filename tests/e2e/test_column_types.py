"""A column the map cannot read is a configuration error (issue 11 item 6).

An `active int` column made every key NOTFOUND, a `set<timestamp>` value
dropped its elements (NOTFOUND), a uuid or blob value failed every read
(TEMP "protocol error"). Each is PERM naming the column and its type, and
`--check` reports it from the statement's PREPARED metadata. Text, ascii,
integers and lists/sets of them are read; `active` must be boolean.
Lookups go through Debian's real postmap.
"""
import os
import subprocess

from conftest import DAEMON, DATA

MAPS = """\
[domains]
query = SELECT domain, active FROM mailion.domains WHERE domain = ?
search = exact
[stamps]
query = SELECT stamps FROM mailion.typed WHERE k = ?
[uuid]
query = SELECT id FROM mailion.typed WHERE k = ?
[blob]
query = SELECT data FROM mailion.typed WHERE k = ?
[port]
query = SELECT port FROM mailion.typed WHERE k = ?
[big]
query = SELECT big, flag AS active FROM mailion.typed WHERE k = ?
[names]
query = SELECT names FROM mailion.typed WHERE k = ?
"""

BAD = {
    "domains": "column active is int; it must be boolean",
    "stamps": "value column stamps is set<timestamp>; it must be text",
    "uuid": "value column id is uuid; it must be text",
    "blob": "value column data is blob; it must be text",
}


def conf_file(tmp_path):
    conf = tmp_path / "maps.conf"
    conf.write_text(MAPS)
    return conf


def test_unreadable_columns_are_perm(tmp_path, start_cqld, start_daemon, postmap):
    cqld = start_cqld(DATA / "column_types.cql")
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf_file(tmp_path))
    for name, why in BAD.items():
        key = "example.com" if name == "domains" else "key@example.com"
        status, detail = postmap.query(daemon.port, name, key)
        assert status == "PERM", (name, status, detail)
        assert f"map {name}: {why}" in detail, detail
    # Logged (at most once per 10 s): the first of them.
    assert "error: lookup domains: PERM map domains: column active is int; " \
        "it must be boolean" in daemon.log_text()
    # The types a map reads.
    assert postmap.query(daemon.port, "port", "key@example.com") == ("OK", "587")
    assert postmap.query(daemon.port, "big", "key@example.com") == ("OK", "9000000000")
    assert postmap.query(daemon.port, "names", "key@example.com") == \
        ("OK", "a@example.com, b@example.com")
    assert postmap.query(daemon.port, "names", "nobody@example.com") == ("NOTFOUND", "")


def test_check_reports_unreadable_columns(tmp_path, start_cqld):
    cqld = start_cqld(DATA / "column_types.cql")
    env = {"PATH": os.environ["PATH"], "KEYSPACE_NAME": "mailion",
           "CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}", "CONFIG_FILE": str(conf_file(tmp_path))}
    r = subprocess.run([str(DAEMON), "--check"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    for name, why in BAD.items():
        assert any(line.split()[:3] == ["map", name, "FAILED:"] and why in line
                   for line in r.stdout.splitlines()), (name, r.stdout)
    for name in ("port", "big", "names"):
        assert any(line.split()[:3] == ["map", name, "ok"]
                   for line in r.stdout.splitlines()), (name, r.stdout)
    # (The default maps whose tables this keyspace lacks fail as well.)
    assert "maps not usable" in r.stdout
