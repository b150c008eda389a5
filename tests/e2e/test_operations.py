"""The operator's side: listening on a UNIX socket, reloading maps on HUP
while Postfix keeps looking up, stopping under load, flushing the cache,
checking a configuration, and scraping metrics.
"""
import os
import re
import signal
import socket
import stat
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import DAEMON, cqld_counts, netstring, raw_connect, read_netstring, wait_for


def test_unix_socket_with_mode_and_real_postmap(tmp_path, start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    sock = tmp_path / "pac.sock"
    daemon = start_daemon(cqld.port, LISTEN=f"unix:{sock}, inet:127.0.0.1:0",
                          LISTEN_MODE="0640", LISTEN_GROUP="postfix")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_gid == __import__("grp").getgrnam("postfix").gr_gid
    r = subprocess.run(["postmap", "-c", str(postmap.confdir), "-q", "alice@example.com",
                        f"socketmap:unix:{sock}:users"], capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout.strip()) == (0, "example.com/alice/"), r.stderr
    # The TCP endpoint of the same list works too, and the socket file goes at exit.
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert daemon.stop() == 0
    assert not sock.exists()


def lookup_loop(port, request, stop, results):
    """Keep one connection busy like smtpd; record every reply."""
    s = raw_connect(port)
    while not stop.is_set():
        s.sendall(netstring(request))
        results.append(read_netstring(s, timeout=10))
    s.close()


def test_hup_changes_a_query_without_a_failed_lookup(tmp_path, start_cqld, start_daemon):
    conf = tmp_path / "maps.conf"
    conf.write_text("[virtual_aliases]\nquery = SELECT destination FROM mailion.virtual_aliases WHERE alias = ?\n")
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf, CACHE="off")
    stop, results = threading.Event(), []
    workers = [threading.Thread(target=lookup_loop, args=(daemon.port, b"virtual_aliases info@example.com",
                                                          stop, results)) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.3)
        # The new query answers from another table: users' email for the alias key.
        conf.write_text("[virtual_aliases]\nquery = SELECT action FROM mailion.access_maps WHERE sender = ?\n"
                        "search = access\n")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded: 6 maps" in daemon.log_text(), what="the reload")
        time.sleep(0.3)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert len(results) > 50
    bad = [r for r in results if r not in (b"OK alice@example.com", b"OK REJECT domain blocked",
                                            b"NOTFOUND ")]
    assert bad == []
    assert results[0] == b"OK alice@example.com"
    # After the reload the alias key is looked up with the access search order:
    # info@example.com -> example.com -> com ... none in access_maps.
    assert results[-1] == b"NOTFOUND "
    s = raw_connect(daemon.port)
    s.sendall(netstring(b"virtual_aliases x@bad.example"))
    assert read_netstring(s) == b"OK REJECT domain blocked"


def test_hup_with_a_broken_config_keeps_the_old_one(tmp_path, start_cqld, start_daemon, postmap):
    conf = tmp_path / "maps.conf"
    conf.write_text("[users]\nresult_format = %u\n")
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf)
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "alice")
    conf.write_text("[users]\nresult_format = %q\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload rejected" in daemon.log_text(), what="the rejection")
    assert "line 2: [users] result_format has an unknown" in daemon.log_text()
    # A query the server refuses is rejected too.
    conf.write_text("[users]\nquery = SELECT email FROM mailion.nosuch WHERE email = ?\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.log_text().count("reload rejected") == 2, what="the second rejection")
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "alice")
    assert daemon.proc.poll() is None


def test_reload_retires_the_old_query(tmp_path, start_cqld, start_daemon):
    q1 = "SELECT destination FROM mailion.virtual_aliases WHERE alias = ?"
    q2 = "SELECT action FROM mailion.access_maps WHERE sender = ?"
    conf = tmp_path / "maps.conf"
    conf.write_text(f"[virtual_aliases]\nquery = {q1}\n")
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf, CACHE="off", LOG_LEVEL="debug")

    def prepared(q):
        return daemon.log_text().count(f"prepared: {q}")

    def ask(key):
        s = raw_connect(daemon.port)
        try:
            s.sendall(netstring(f"virtual_aliases {key}".encode()))
            return read_netstring(s)
        finally:
            s.close()

    assert ask("info@example.com") == b"OK alice@example.com"
    conf.write_text(f"[virtual_aliases]\nquery = {q2}\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded: 6 maps" in daemon.log_text(), what="the reload")
    assert ask("bad.example") == b"OK REJECT domain blocked"
    # New connections prepare the maps in use, not the query replaced.
    n1, n2 = prepared(q1), prepared(q2)
    assert "ok dropped" in cqld.control("drop")
    wait_for(lambda: prepared(q2) >= n2 + 2, what="the new connections to prepare q2")
    assert ask("bad.example") == b"OK REJECT domain blocked"
    assert prepared(q1) == n1
    # Brought back, the old query works on connections that never prepared it.
    conf.write_text(f"[virtual_aliases]\nquery = {q1}\n")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.log_text().count("reloaded: 6 maps") == 2, what="the second reload")
    assert ask("info@example.com") == b"OK alice@example.com"
    assert prepared(q1) > n1


def test_term_under_load_answers_in_flight_and_exits_0(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CACHE="off")
    cqld.control("delay 300")
    socks = [raw_connect(daemon.port) for _ in range(20)]
    for i, s in enumerate(socks):
        s.sendall(netstring(b"domains example.com"))
    time.sleep(0.1)                          # all twenty are now waiting on cqld
    daemon.proc.send_signal(signal.SIGTERM)
    replies = [read_netstring(s, timeout=10) for s in socks]
    assert replies == [b"OK example.com"] * 20
    assert daemon.proc.wait(10) == 0
    # No new connections once stopping.
    with pytest.raises(OSError):
        raw_connect(daemon.port).sendall(netstring(b"domains example.com"))
        read_netstring(raw_connect(daemon.port))


def test_usr1_sends_the_next_lookup_to_the_database(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    cqld.control("reset-counts")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert cqld_counts(cqld) == {}
    daemon.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: "flushing" in daemon.log_text(), what="the flush")
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert cqld_counts(cqld) == {"mailion.domains": 1}


def run_check(env, *args):
    base = {"PATH": os.environ["PATH"], "KEYSPACE_NAME": "mailion"}
    base.update(env)
    return subprocess.run([str(DAEMON), *args], env=base, capture_output=True, text=True, timeout=30)


def test_check_reports_each_problem_precisely(tmp_path, start_cqld):
    cqld = start_cqld()
    hosts = f"127.0.0.1:{cqld.port}"
    r = run_check({"CASSANDRA_HOSTS": hosts}, "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK: 6 maps ready" in r.stdout

    r = run_check({"CASSANDRA_HOSTS": "127.0.0.1:1"}, "--check")
    assert r.returncode == 1
    assert "cannot reach Cassandra" in r.stdout and "Connection refused" in r.stdout

    conf = tmp_path / "maps.conf"
    conf.write_text("[users]\nquery = SELECT email, active FROM mailion.nosuch WHERE email = ?\n"
                    "[domains]\nquery = SELECT domain, nosuchcolumn FROM mailion.domains WHERE domain = ?\n")
    r = run_check({"CASSANDRA_HOSTS": hosts, "CONFIG_FILE": str(conf)}, "--check")
    assert r.returncode == 1
    assert re.search(r"map users +FAILED: invalid query: unconfigured table nosuch", r.stdout), r.stdout
    assert re.search(r"map domains +FAILED: invalid query: Undefined column name nosuchcolumn", r.stdout), r.stdout
    assert "FAILED: 2 maps not usable" in r.stdout

    r = run_check({"CASSANDRA_HOSTS": hosts, "CONSISTENCY": "MOSTLY"}, "--check")
    assert r.returncode == 2
    assert "CONSISTENCY='MOSTLY'" in r.stderr

    r = run_check({"CASSANDRA_HOSTS": hosts, "CASSANDRA_REFRESH_MS": "50"}, "--check")
    assert r.returncode == 2
    assert "CASSANDRA_REFRESH_MS" in r.stderr, r.stderr


def test_consistency_checked_against_the_backend():
    """Keyspaces reads only at ONE, LOCAL_ONE, LOCAL_QUORUM; ANY never reads."""
    for env in ({"AWS_REGION": "us-east-1", "CONSISTENCY": "QUORUM"},
                {"CASSANDRA_HOSTS": "127.0.0.1:1", "AWS_REGION": "us-east-1",
                 "CASSANDRA_AUTH": "sigv4", "CONSISTENCY": "EACH_QUORUM"},
                {"CASSANDRA_HOSTS": "127.0.0.1:1", "CONSISTENCY": "ANY"}):
        for args in (("--check",), ()):
            r = run_check(env, *args)
            assert r.returncode == 2, (env, args, r.stdout, r.stderr)
            assert f"CONSISTENCY='{env['CONSISTENCY']}'" in r.stderr, r.stderr
    r = run_check({"CASSANDRA_HOSTS": "127.0.0.1:1", "CONSISTENCY": "QUORUM"}, "--check")
    assert r.returncode == 1 and "CONSISTENCY" not in r.stderr, r.stderr


def test_query_prints_the_candidates(start_cqld):
    cqld = start_cqld()
    r = run_check({"CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}"}, "--query", "access_maps",
                  "Joe+x@Sub.Bad.Example")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "candidates (search access): joe+x@sub.bad.example joe@sub.bad.example sub.bad.example "
        "bad.example example joe+x@ joe@",
        "OK REJECT domain blocked"]
    r = run_check({"CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}"}, "--query", "users", "x@nowhere.test")
    assert r.returncode == 1 and r.stdout.splitlines()[-1] == "NOTFOUND "
    r = run_check({"CASSANDRA_HOSTS": "127.0.0.1:1"}, "--query", "users", "x@nowhere.test")
    assert r.returncode == 3 and r.stdout.splitlines()[-1].startswith("TEMP cassandra:")


PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                       r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.eE+-]+|\+Inf|NaN)$')


def parse_prometheus(text):
    """A strict little parser of the text exposition format: every line is a
    HELP/TYPE comment or a sample; every sample's family has a TYPE."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = kind
            continue
        m = PROM_LINE.match(line)
        assert m, f"not a valid sample line: {line!r}"
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"sample without TYPE: {line!r}"
        samples[name + (m.group(2) or "")] = float(m.group(5))
    return samples


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_are_valid_prometheus_and_move(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    mport = free_port()
    daemon = start_daemon(cqld.port, METRICS_LISTEN=f"127.0.0.1:{mport}")

    def scrape():
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return parse_prometheus(r.read().decode())

    p = "postfix_aws_cassandra_"
    before = scrape()
    assert before[p + 'build_info{version="%s"}' % open(DAEMON.parents[1] / "VERSION").read().strip()] == 1
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert postmap.query(daemon.port, "users", "nobody@example.com")[0] == "NOTFOUND"
    after = scrape()
    ok = p + 'lookups_total{map="users",result="ok"}'
    nf = p + 'lookups_total{map="users",result="notfound"}'
    assert after[ok] - before[ok] == 2
    assert after[nf] - before[nf] == 1
    assert after[p + "cache_hits_total"] > before[p + "cache_hits_total"]
    assert after[p + "cql_reads_total"] - before[p + "cql_reads_total"] == 3   # alice, @example.com, nobody
    assert after[p + "keyspaces_read_units_total"] == after[p + "cql_reads_total"] * 0.5
    assert after[p + 'cql_read_duration_seconds_bucket{le="+Inf"}'] == after[p + "cql_read_duration_seconds_count"]
    assert after[p + "cql_connected"] == 1
    host = f'{{host="127.0.0.1:{cqld.port}"}}'
    assert after[p + "cql_host_up" + host] == 1
    assert after[p + "cql_host_connections" + host] == 2   # CASSANDRA_CONNECTIONS_PER_HOST
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=5)


def test_check_compares_the_recipient_delimiter_with_postfix(tmp_path, start_cqld):
    """--check asks postconf (with MAIL_CONFIG, as Postfix's commands do)
    and warns when RECIPIENT_DELIMITER is not Postfix's recipient_delimiter:
    the daemon would split addresses that Postfix's own tables do not."""
    cqld = start_cqld()
    conf = tmp_path / "postfix"
    conf.mkdir()
    (conf / "main.cf").write_text("compatibility_level = 3.6\nrecipient_delimiter = -+\n")
    env = {"CASSANDRA_HOSTS": f"127.0.0.1:{cqld.port}", "MAIL_CONFIG": str(conf),
           "PATH": os.environ["PATH"] + ":/usr/sbin"}
    r = run_check(dict(env, RECIPIENT_DELIMITER="+-"), "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "delimiter    '+-', as Postfix's recipient_delimiter" in r.stdout, r.stdout
    r = run_check(dict(env, RECIPIENT_DELIMITER="+"), "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("WARNING: RECIPIENT_DELIMITER '+' differs from Postfix's recipient_delimiter '-+'"
            in r.stdout), r.stdout
    r = run_check(dict(env, RECIPIENT_DELIMITER="+", MAIL_CONFIG=str(tmp_path / "nosuch")),
                  "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "'+'; not compared with Postfix (postconf -c " in r.stdout, r.stdout
