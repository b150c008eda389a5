"""An operator moves an existing Postfix to the database with postfix-aws-cassandra-admin.

The story: `schema --apply` creates the keyspace and tables on an empty
cqld; the site's real `postmap`-built hash: and lmdb: tables are dumped with
`postmap -s` and fed to `import`; the daemon then answers every key as
`postmap -q` answers it from the original table. Imports are idempotent
(a second run writes nothing, checked with cqld's request counts), survive
sustained throttling without losing a row, delete with --sync, and skip bad
input lines with FILE:LINE.
"""
import os
import random
import re
import subprocess

import pytest

from conftest import BUILD, cqld_counts, sanitized, wait_for

ADMIN = BUILD / "postfix-aws-cassandra-admin"
TOOL_TIMEOUT_S = 300


@pytest.fixture
def db(tmp_path, start_cqld):
    """An empty cqld with the schema applied by the tool."""
    empty = tmp_path / "empty.cql"
    empty.write_text("-- nothing: the admin tool creates the schema\n")
    cqld = start_cqld(empty)
    r = admin(cqld, "schema", "--apply", "--replication", "1")
    assert r.returncode == 0, r.stderr
    return cqld


def admin(cqld, *args, input=None, **env):
    """Run the admin program against cqld; the CompletedProcess."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KEYSPACE_NAME": "mailion",
         "CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}"}
    for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if key in os.environ:
            e[key] = os.environ[key]
    e.update(env)
    return subprocess.run([str(ADMIN), *args], input=input, capture_output=True,
                          env=e, timeout=TOOL_TIMEOUT_S,
                          text=not isinstance(input, bytes))


def summary(r):
    """The numbers of an import's summary line."""
    m = re.search(r"(\d+) records read, (?:would be )?(\d+) written, (\d+) unchanged, "
                  r"(?:would be )?(\d+) deleted, (\d+) skipped, (\d+) failed, (\d+) retries", r.stdout)
    assert m, r.stdout + r.stderr
    keys = ("read", "written", "unchanged", "deleted", "skipped", "failed", "retries")
    return dict(zip(keys, map(int, m.groups())))


def rows(cqld, table):
    """How many rows table has, as cqld counts them."""
    reply = cqld.control(f"exec SELECT * FROM mailion.{table}")
    return int(reply.split()[1])


# The site's tables: (map, Postfix source text). Keys in mixed case, a
# catch-all, continuation lines and comments, as operators write them.
SITE = {
    "virtual_aliases": """# aliases
Postmaster@Example.com   root@example.com
sales@example.com        alice@example.com,
                         bob@example.com
@example.net             catchall@example.com
info@example.org  "quoted list" , x@example.org
""",
    "transport_maps": """example.com     lmtp:unix:private/dovecot-lmtp
.example.com    smtp:[relay.example.com]:587
slow@example.org  slow:
""",
    "access_maps": """spammer@bad.example  REJECT go away
bad.example         550 5.7.1 no thanks
10.1.2              OK
""",
    "domains": """example.com  OK
Example.NET  anything
""",
    "relay_domains": """relay.example  OK
""",
    "users": """alice@example.com   example.com/alice/
Bob@Example.com     example.com/bob/
""",
}


def build_table(tmp_path, name, text, kind):
    """A real Postfix table of the given type; the map argument for postmap."""
    src = tmp_path / f"{name}.{kind}"
    src.write_text(text)
    subprocess.run(["postmap", "-c", str(tmp_path / "postfix"), f"{kind}:{src}"],
                   check=True, capture_output=True, timeout=30)
    return f"{kind}:{src}"


def postmap_q(confdir, key, table):
    r = subprocess.run(["postmap", "-c", str(confdir), "-q", key, table],
                       capture_output=True, text=True, timeout=30)
    return ("OK", r.stdout.rstrip("\n")) if r.returncode == 0 else ("NOTFOUND", "")


def test_every_map_round_trips_from_postmap_tables(tmp_path, db, start_daemon, postmap):
    """postmap -s of hash: and lmdb: tables -> import -> the daemon answers
    every key as postmap -q answers it from the original table."""
    confdir = postmap.confdir
    tables = {}
    for i, (name, text) in enumerate(SITE.items()):
        tables[name] = build_table(tmp_path, name, text, "hash" if i % 2 == 0 else "lmdb")
        dump = subprocess.run(["postmap", "-c", str(confdir), "-s", tables[name]],
                              capture_output=True, text=True, check=True, timeout=30).stdout
        r = admin(db, "import", name, "-", input=dump)
        assert r.returncode == 0, r.stderr
        n = len(dump.splitlines())
        assert summary(r) == dict(read=n, written=n, unchanged=0, deleted=0, skipped=0,
                                  failed=0, retries=0), r.stdout
        assert "warning" not in r.stderr, r.stderr
    daemon = start_daemon(db.port)
    for name, table in tables.items():
        keys = [line.split()[0] for line in SITE[name].splitlines()
                if line.strip() and not line[0].isspace() and not line.startswith("#")]
        keys += [k.upper() for k in keys] + ["nobody@nowhere.test"]
        for key in keys:
            want = postmap_q(confdir, key, table)
            got = postmap.query(daemon.port, name, key)
            if name in ("domains", "relay_domains"):
                # The daemon answers the domain itself; Postfix only needs "found".
                assert got[0] == want[0], (name, key, got, want)
            else:
                assert got == want, (name, key, got, want)


def test_import_of_100k_rows_under_throttling_loses_nothing(tmp_path, db):
    """One write in 25 answered WriteTimeout (as a throttled table answers):
    every row arrives once, and a second import writes nothing. Under ASan
    (10x slower) 20,000 rows take the same paths: several pages, many
    retries."""
    n = 20_000 if sanitized(ADMIN) else 100_000
    src = tmp_path / "virtual"
    with open(src, "w") as f:
        for i in range(n):
            f.write(f"user{i}@example{i % 97}.com\tdest{i}@example.org\n")
    db.control("fail write_timeout every 25")
    r = admin(db, "import", "--concurrency", "64", "virtual_aliases", str(src))
    db.control("fail off")
    assert r.returncode == 0, r.stdout + r.stderr
    s = summary(r)
    assert s["written"] == n and s["failed"] == 0 and s["read"] == n, r.stdout
    assert s["retries"] > 0, r.stdout          # the throttling was met, not missed
    assert rows(db, "virtual_aliases") == n

    exported = admin(db, "export", "virtual_aliases")
    assert exported.returncode == 0, exported.stderr
    assert sorted(exported.stdout.splitlines()) == sorted(src.read_text().splitlines())
    serial = db.control("exec SELECT serial FROM mailion.pac_changes "
                        "WHERE table_name = 'virtual_aliases'")
    assert serial == "ok 1 rows", serial

    db.control("reset-counts")
    r = admin(db, "import", "virtual_aliases", str(src))
    assert r.returncode == 0, r.stderr
    assert summary(r)["written"] == 0 and summary(r)["unchanged"] == n, r.stdout
    # Only the reading pages reached the table: no INSERT was sent.
    assert cqld_counts(db).get("mailion.virtual_aliases", 0) <= n // 5000 + 2, cqld_counts(db)


def test_sync_deletes_what_the_file_no_longer_has(tmp_path, db, start_daemon, postmap):
    r = admin(db, "import", "users", "-",
              input="a@example.com example.com/a/\nb@example.com example.com/b/\n"
                    "c@example.com elsewhere/c\n")
    assert r.returncode == 0, r.stderr
    # c's old mailbox path is not what the daemon will answer: said, and still imported.
    assert "<stdin>" not in r.stderr and "-:3: warning: c@example.com" in r.stderr, r.stderr
    smaller = "a@example.com example.com/a/\n"
    # A skipped line (maybe b's, mangled) or an empty file never deletes.
    for text in (smaller + "b@example.com\n", "", "\x00\x01\x02"):
        r = admin(db, "import", "--sync", "users", "-", input=text)
        assert r.returncode == 1 and "--sync: nothing deleted" in r.stderr, r.stderr
        assert summary(r)["deleted"] == 0 and rows(db, "users") == 3, r.stdout
    r = admin(db, "import", "--sync", "--dry-run", "users", "-", input=smaller)
    assert summary(r)["deleted"] == 2 and "nothing was written" in r.stdout, r.stdout
    assert rows(db, "users") == 3
    r = admin(db, "import", "--sync", "users", "-", input=smaller)
    assert r.returncode == 0 and summary(r)["deleted"] == 2, r.stdout + r.stderr
    assert summary(r)["unchanged"] == 1 and rows(db, "users") == 1
    daemon = start_daemon(db.port)
    assert postmap.query(daemon.port, "users", "a@example.com") == ("OK", "example.com/a/")
    assert postmap.query(daemon.port, "users", "b@example.com") == ("NOTFOUND", "")


def test_bad_input_lines_are_reported_and_skipped(tmp_path, db):
    src = tmp_path / "transport"
    long_key = "k" * 1100 + "@example.com"
    src.write_bytes(b"good.example smtp:[mx.good.example]\r\n"   # CRLF
                    b"missing-value.example\r\n"
                    + long_key.encode() + b" smtp:\n"
                    + b"bin\x00ary.example smtp:\n"
                    + b"\xff\xfe\x00\x01garbage\n"
                    + b"  continuation without a line before it? no: joins line 5\n"
                    + b"crlf.example\tlmtp:unix:private/lmtp\r\n")
    r = admin(db, "import", "transport_maps", str(src))
    assert r.returncode == 0, r.stderr
    s = summary(r)
    assert (s["written"], s["skipped"]) == (2, 4), r.stdout
    for line, why in ((2, "expected format: key whitespace value"), (3, "key too long"),
                      (4, "NUL byte in line"), (5, "NUL byte in line")):
        assert f"{src}:{line}: skipped: {why}" in r.stderr, r.stderr
    # The CR of a CRLF line is white space after the value, as postmap trims it.
    got = admin(db, "get", "transport_maps", "crlf.example")
    assert got.stdout == "crlf.example\tlmtp:unix:private/lmtp\n", got

    binary = tmp_path / "random.bin"
    binary.write_bytes(random.Random(16).randbytes(20000))
    r = admin(db, "import", "transport_maps", str(binary))
    assert r.returncode == 0, r.stderr
    assert summary(r)["written"] == 0 and summary(r)["skipped"] > 0, r.stdout


def test_edit_single_rows_and_export_round_trip(db, start_daemon, postmap):
    assert admin(db, "set", "domains", "Example.COM").returncode == 0
    assert admin(db, "set", "virtual_aliases", "x@example.com", "y@example.com").returncode == 0
    assert admin(db, "set", "virtual_aliases", "x@example.com").returncode == 2  # value needed
    assert admin(db, "get", "domains", "example.com").stdout == "example.com\texample.com\n"
    assert admin(db, "get", "domains", "nope.example").returncode == 1
    assert admin(db, "disable", "domains", "example.com").returncode == 0
    assert admin(db, "enable", "domains", "nope.example").returncode == 1   # no row: not created
    assert admin(db, "enable", "virtual_aliases", "x@example.com").returncode == 2
    daemon = start_daemon(db.port)
    assert postmap.query(daemon.port, "domains", "example.com") == ("NOTFOUND", "")
    exported = admin(db, "export", "domains").stdout
    assert exported == "# inactive: example.com\n"
    assert admin(db, "enable", "domains", "example.com").returncode == 0
    for name in ("domains", "virtual_aliases"):
        exported = admin(db, "export", name).stdout
        r = admin(db, "import", name, "-", input=exported)
        assert summary(r)["written"] == 0 and summary(r)["unchanged"] == 1, r.stdout
    assert admin(db, "delete", "virtual_aliases", "X@example.com").returncode == 0
    assert admin(db, "get", "virtual_aliases", "x@example.com").returncode == 1


def test_schema_print_apply_and_configuration_errors(tmp_path, start_cqld):
    empty = tmp_path / "empty.cql"
    empty.write_text("-- empty\n")
    cqld = start_cqld(empty)
    r = admin(cqld, "schema", "--print", "--keyspaces")
    assert r.returncode == 0
    assert "CREATE KEYSPACE IF NOT EXISTS mailion WITH replication = " \
           "{'class': 'SingleRegionStrategy'};" in r.stdout
    assert "CREATE TABLE IF NOT EXISTS mailion.pac_changes (table_name text, serial bigint, " \
           "PRIMARY KEY (table_name)) WITH CUSTOM_PROPERTIES" in r.stdout
    r = admin(cqld, "schema", "--apply", "--replication", "dc1:3,dc2:2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("created ") == 8 and "nothing dropped" in r.stdout
    r = admin(cqld, "schema", "--apply", "--replication", "1")
    assert r.stdout.count("exists ") == 8 and "0 created" in r.stdout, r.stdout
    r = admin(cqld, "schema", "--apply")
    assert r.returncode == 2 and "--replication" in r.stderr
    r = admin(cqld, "schema", "--print", "--replication", "dc1:3;DROP")
    assert r.returncode == 2 and "bad --replication" in r.stderr
    r = admin(cqld, "export", "users", KEYSPACE_NAME="")
    assert r.returncode == 2 and "KEYSPACE_NAME" in r.stderr
    assert admin(cqld, "export", "nosuchmap").returncode == 2


def test_schema_apply_on_keyspaces_waits_until_tables_are_active(tmp_path, start_cqld):
    """Amazon Keyspaces creates tables asynchronously: --apply polls
    system_schema_mcs.tables (cqld --schema-mcs) until all seven are ACTIVE."""
    empty = tmp_path / "empty.cql"
    empty.write_text("-- empty\n")
    cqld = start_cqld(empty, extra=["--schema-mcs"])
    cqld.control("mcs-status CREATING")
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KEYSPACE_NAME": "mailion",
         "CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}"}
    for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if key in os.environ:
            e[key] = os.environ[key]
    out = tmp_path / "schema.out"
    with open(out, "w") as f:
        p = subprocess.Popen([str(ADMIN), "schema", "--apply", "--keyspaces"], stdout=f,
                             stderr=subprocess.STDOUT, env=e)
    try:
        wait_for(lambda: "waiting for Amazon Keyspaces: 0/7 tables ACTIVE" in out.read_text(),
                 timeout=60, what="the progress line")
        assert p.poll() is None, out.read_text()     # still waiting: nothing is ACTIVE
        cqld.control("mcs-status ACTIVE")
        assert p.wait(60) == 0, out.read_text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = out.read_text()
    assert text.count("created ") == 8 and text.rstrip().endswith("7/7 tables ACTIVE"), text
    # The tables are Keyspaces' on-demand ones, and the daemon's query still works on them.
    assert admin(cqld, "set", "domains", "example.com").returncode == 0


def test_progress_bar_on_a_terminal_only(tmp_path, db):
    """On a terminal (stderr a pty) the import draws a bar with rows/s and
    ETA; into a pipe it prints only the summary."""
    import pty  # noqa: PLC0415  only this test needs it
    src = tmp_path / "virtual"
    src.write_text("".join(f"u{i}@example.com\td{i}@example.org\n" for i in range(3000)))
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KEYSPACE_NAME": "mailion",
         "CASSANDRA_HOSTS": f"127.0.0.1:{db.port}"}
    for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if key in os.environ:
            e[key] = os.environ[key]
    master, slave = pty.openpty()
    p = subprocess.Popen([str(ADMIN), "import", "virtual_aliases", str(src)], env=e,
                         stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:            # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    out, _ = p.communicate(timeout=TOOL_TIMEOUT_S)
    assert p.returncode == 0
    assert re.search(rb"import \[#+\] 3000/3000 \d+ rows/s ETA \d+ s", tty), tty
    assert summary(subprocess.CompletedProcess([], 0, out, ""))["written"] == 3000
    piped = admin(db, "import", "virtual_aliases", str(src))
    assert "rows/s" not in piped.stderr and summary(piped)["unchanged"] == 3000


def test_keyspaces_over_tls_with_sigv4_from_the_environment(tmp_path, tmp_path_factory,
                                                             start_cqld):
    """As against Amazon Keyspaces: TLS verified, SigV4 with keys from the
    credential chain (environment); schema picks Keyspaces' statements by
    itself and waits for ACTIVE; import and get work."""
    from aws_fakes import Creds              # noqa: PLC0415
    from tls_certs import session_pki        # noqa: PLC0415
    pki = session_pki(tmp_path_factory)
    creds = Creds("AKIAADMINTOOL000001", "admin/secret+1")
    empty = tmp_path / "empty.cql"
    empty.write_text("-- empty\n")
    node = start_cqld(empty, extra=["--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                                    "--auth", f"sigv4:{creds.key_id}:{creds.secret}:eu-west-1",
                                    "--schema-mcs"])
    home = tmp_path / "home"
    home.mkdir()
    env = dict(AWS_REGION="eu-west-1", CASSANDRA_HOSTS=f"localhost:{node.port}",
               CASSANDRA_TLS="on", CASSANDRA_TLS_CA_FILE=str(pki.ca_cert), HOME=str(home),
               AWS_ACCESS_KEY_ID=creds.key_id, AWS_SECRET_ACCESS_KEY=creds.secret,
               AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9")
    r = admin(node, "schema", "--apply", **env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "7/7 tables ACTIVE" in r.stdout, r.stdout
    assert "PAY_PER_REQUEST" in admin(node, "schema", **env).stdout
    r = admin(node, "import", "relay_domains", "-", input="relay.example OK\n", **env)
    assert summary(r)["written"] == 1, r.stdout + r.stderr
    assert admin(node, "get", "relay_domains", "relay.example", **env).returncode == 0
    assert creds.secret not in r.stdout + r.stderr
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    r = admin(node, "get", "relay_domains", "relay.example", **env)
    assert r.returncode == 1 and "cannot connect" in r.stderr, r.stderr


def test_import_survives_dropped_connections(tmp_path, db):
    """cqld closes every client connection twice during an import: the
    writes in flight are sent again on the new connection, none is lost."""
    import threading  # noqa: PLC0415
    n = 30_000
    src = tmp_path / "transport"
    src.write_text("".join(f"d{i}.example\tsmtp:[mx{i}.example]\n" for i in range(n)))
    # 64 in flight at 5 ms each: at most ~13,000 rows/s, so the import lasts
    # over 2 s and both drops land in it, on a fast machine too.
    db.control("delay 5")
    drops = []

    def dropper():
        for _ in range(2):
            wait_for(lambda: rows(db, "transport_maps") > 2000 + len(drops) * 10_000,
                     timeout=120, interval=0.02, what="rows arriving")
            drops.append(db.control("drop"))
    t = threading.Thread(target=dropper)
    t.start()
    r = admin(db, "import", "transport_maps", str(src))
    t.join(130)
    db.control("delay 0")
    assert r.returncode == 0, r.stdout + r.stderr
    # Each drop closed the tool's connection with writes on it.
    assert len(drops) == 2 and all(int(d.split()[2]) >= 1 for d in drops), drops
    s = summary(r)
    assert s["written"] == n and s["failed"] == 0 and s["retries"] > 0, r.stdout
    assert rows(db, "transport_maps") == n
    r = admin(db, "import", "transport_maps", str(src))
    assert summary(r)["unchanged"] == n, r.stdout


def test_a_delete_by_the_tool_is_refused_by_every_daemon_within_the_poll(db, start_daemon,
                                                                          postmap):
    """Issue 16 end to end: the tool writes the rows and bumps pac_changes,
    the daemons (one-second poll, hour-long cache) drop that map's cached
    answers: a mailbox the tool deletes is refused by both within seconds,
    and one the tool adds is found."""
    r = admin(db, "import", "users", "-", input="a@example.com example.com/a/\n"
                                                "b@example.com example.com/b/\n")
    assert r.returncode == 0, r.stderr
    daemons = [start_daemon(db.port, CHANGES_POLL_SECONDS=1, CACHE_TTL=3600,
                            CACHE_NEGATIVE_TTL=3600) for _ in range(2)]
    for d in daemons:
        wait_for(lambda: "pac_changes read: fleet invalidation on" in d.log_text(),
                 what="the first poll of pac_changes")
        assert postmap.query(d.port, "users", "a@example.com") == ("OK", "example.com/a/")
        assert postmap.query(d.port, "users", "c@example.com") == ("NOTFOUND", "")
    assert admin(db, "delete", "users", "a@example.com").returncode == 0
    assert admin(db, "set", "users", "c@example.com").returncode == 0
    for d in daemons:
        wait_for(lambda: postmap.query(d.port, "users", "a@example.com") == ("NOTFOUND", ""),
                 timeout=20, what="the deleted mailbox refused")
        wait_for(lambda: postmap.query(d.port, "users", "c@example.com")[0] == "OK",
                 timeout=20, what="the added mailbox found")
        assert postmap.query(d.port, "users", "b@example.com") == ("OK", "example.com/b/")
