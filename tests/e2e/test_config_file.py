"""An operator adapts the maps to their own schema with a configuration file.

A map whose query the server refuses (missing table or column) is reported
at startup with the CQL error and answers PERM; the other maps keep working.
New map names need no code.
"""
from conftest import wait_for


def test_bad_query_is_reported_and_answers_perm(tmp_path, start_cqld, start_daemon, postmap):
    conf = tmp_path / "maps.conf"
    conf.write_text(
        "# users lives in a table that does not exist\n"
        "[users]\n"
        "query = SELECT email, active FROM mailion.mailboxes WHERE email = ?\n"
        "\n"
        "[relay_domains]\n"
        "query = SELECT nosuchcolumn FROM mailion.relay_domains WHERE domain = ?\n"
        "\n"
        "[sender_login_maps]\n"
        "query = SELECT destination FROM mailion.virtual_aliases WHERE alias = ?\n"
        "search = exact\n")
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, CONFIG_FILE=conf)
    wait_for(lambda: daemon.log_text().count("cannot prepare") >= 2, what="startup report")
    log = daemon.log_text()
    assert "mailion.mailboxes" in log and "unconfigured table mailboxes" in log
    assert "nosuchcolumn" in log

    status, detail = postmap.query(daemon.port, "users", "alice@example.com")
    assert status == "PERM" and "map users" in detail
    status, detail = postmap.query(daemon.port, "relay_domains", "relay.example")
    assert status == "PERM" and "map relay_domains" in detail
    # Everything else answers normally, including the new map.
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")
    assert postmap.query(daemon.port, "sender_login_maps", "info@example.com") == \
        ("OK", "alice@example.com")


def test_config_errors_stop_the_daemon_with_the_line(tmp_path, start_cqld):
    import subprocess
    from conftest import DAEMON
    conf = tmp_path / "maps.conf"
    conf.write_text("[users]\nresult_format = %x\n")
    r = subprocess.run([str(DAEMON)], env={"KEYSPACE_NAME": "mailion", "CONFIG_FILE": str(conf)},
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert f"{conf}: line 2: [users] result_format has an unknown % sequence" in r.stderr
    r = subprocess.run([str(DAEMON), "-c", str(tmp_path / "missing.conf")],
                       env={"KEYSPACE_NAME": "mailion"}, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "missing.conf: No such file or directory" in r.stderr


def test_environment_errors_name_the_variable():
    import subprocess
    from conftest import DAEMON
    cases = [
        ({}, "KEYSPACE_NAME is not set"),
        ({"KEYSPACE_NAME": "mail-ion"}, "KEYSPACE_NAME='mail-ion'"),
        ({"KEYSPACE_NAME": "m", "PORT": "99999"}, "PORT='99999'"),
        ({"KEYSPACE_NAME": "m", "CONSISTENCY": "MOST"}, "CONSISTENCY='MOST'"),
        ({"KEYSPACE_NAME": "m", "CASSANDRA_HOSTS": "a:0"}, "CASSANDRA_HOSTS='a:0'"),
        ({"KEYSPACE_NAME": "m", "LISTEN": "inet:0.0.0.0:0"}, "LISTEN_ALLOW_REMOTE=yes"),
        ({"KEYSPACE_NAME": "m", "LISTEN": "inet:[::]:0"}, "is not a loopback address"),
        ({"KEYSPACE_NAME": "m", "LISTEN": "tcp:127.0.0.1:1"}, "expected inet:ADDRESS:PORT or unix:/PATH"),
        ({"KEYSPACE_NAME": "m", "LISTEN": "unix:relative"}, "must be absolute"),
        ({"KEYSPACE_NAME": "m", "CACHE": "maybe"}, "CACHE='maybe'"),
    ]
    for env, want in cases:
        r = subprocess.run([str(DAEMON)], env=env, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (env, r.stderr)
        assert want in r.stderr, (env, r.stderr)
