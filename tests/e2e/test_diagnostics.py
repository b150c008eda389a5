"""First run and diagnostics, as an operator meets them: --flush reaching
the one daemon meant, configuration errors that stop the service for good
(exit 2), the reason a TLS connection failed, --query's honest report, and
--check run as the service runs.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import DAEMON, wait_for


def run(args, env=None, prefix=(), timeout=30):
    return subprocess.run([*prefix, str(DAEMON), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def as_nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root to run a command as another user")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


# ---- --flush: one daemon, chosen ---------------------------------------

def test_flush_signals_only_the_daemon_named_by_pid(start_cqld, start_daemon):
    cqld = start_cqld()
    a, b = start_daemon(cqld.port), start_daemon(cqld.port)
    r = run(["--flush", "--pid", str(a.proc.pid)])
    assert r.returncode == 0 and f"pid {a.proc.pid}" in r.stdout, r
    wait_for(lambda: "flushing" in a.log_text(), what="a's cache flush")
    assert str(b.proc.pid) not in r.stdout + r.stderr
    # Then b's own: a signal the first run sent b would have come before it.
    assert run(["--flush", "--pid", str(b.proc.pid)]).returncode == 0
    wait_for(lambda: "flushing" in b.log_text(), what="b's cache flush")
    assert (a.log_text().count("flushing"), b.log_text().count("flushing")) == (1, 1)


def test_flush_without_pid_asks_systemd_for_the_main_pid(tmp_path, start_cqld, start_daemon):
    cqld = start_cqld()
    a, b = start_daemon(cqld.port), start_daemon(cqld.port)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "systemctl").write_text(
        "#!/bin/sh\n"
        "[ \"$*\" = 'show --property=MainPID --value postfix-aws-cassandra.service' ] || exit 1\n"
        f"echo {b.proc.pid}\n")
    (fake / "systemctl").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin"}
    r = run(["--flush"], env=env)
    assert r.returncode == 0 and f"pid {b.proc.pid}" in r.stdout, r
    wait_for(lambda: "flushing" in b.log_text(), what="b's cache flush")
    assert run(["--flush", "--pid", str(a.proc.pid)]).returncode == 0
    wait_for(lambda: "flushing" in a.log_text(), what="a's cache flush")
    assert (a.log_text().count("flushing"), b.log_text().count("flushing")) == (1, 1)
    # A stopped unit (MainPID 0) is said plainly, and nothing else is signalled.
    (fake / "systemctl").write_text("#!/bin/sh\necho 0\n")
    r = run(["--flush"], env=env)
    assert r.returncode == 1 and "is not running" in r.stderr and "--pid" in r.stderr, r


def test_flush_refuses_a_pid_that_is_not_the_daemon(start_cqld):
    cqld = start_cqld()
    r = run(["--flush", "--pid", str(cqld.proc.pid)])
    assert r.returncode == 1 and "not a running daemon" in r.stderr, r
    assert cqld.proc.poll() is None


def test_flush_without_permission_says_so(start_cqld, start_daemon):
    nobody = as_nobody()
    cqld = start_cqld()
    a = start_daemon(cqld.port)
    r = run(["--flush", "--pid", str(a.proc.pid)], prefix=nobody)
    assert r.returncode == 1, r
    assert "Operation not permitted" in r.stderr and "not running" not in r.stderr, r
    assert "flushing" not in a.log_text()


# ---- configuration errors: exit 2, found by --check too -----------------

def env_with(**kw):
    e = {"PATH": "/usr/bin:/bin", "KEYSPACE_NAME": "mailion", "PORT": "0",
         "CASSANDRA_HOSTS": "127.0.0.1:1", "CASSANDRA_CONNECT_TIMEOUT_MS": "200"}
    e.update({k: str(v) for k, v in kw.items()})
    return e


@pytest.mark.parametrize("settings, named", [
    ({"METRICS_LISTEN": "9998"}, "METRICS_LISTEN='9998'"),
    # The socketmap's switch does not open the metrics endpoint.
    ({"METRICS_LISTEN": "0.0.0.0:0", "LISTEN_ALLOW_REMOTE": "yes"}, "METRICS_ALLOW_REMOTE=yes"),
    ({"LISTEN_GROUP": "no-such-group-pac"}, "LISTEN_GROUP='no-such-group-pac': no such group"),
])
def test_configuration_errors_exit_2_in_the_daemon_and_in_check(settings, named):
    for args in ([], ["--check"]):
        r = run(args, env=env_with(**settings), timeout=20)
        assert r.returncode == 2 and "configuration error" in r.stderr and named in r.stderr, (args, r)


def test_check_reports_metrics_and_their_own_remote_switch(start_cqld):
    # --check binds nothing: tests listen on loopback only, yet the remote setting is checked.
    cqld = start_cqld()
    r = run(["--check"], env=env_with(CASSANDRA_HOSTS=f"127.0.0.1:{cqld.port}",
                                      METRICS_LISTEN="0.0.0.0:9998", METRICS_ALLOW_REMOTE="yes"))
    assert r.returncode == 0 and "metrics      0.0.0.0:9998/metrics (remote allowed)" in r.stdout, r
    r = run(["--check"], env=env_with(CASSANDRA_HOSTS=f"127.0.0.1:{cqld.port}",
                                      METRICS_LISTEN="127.0.0.1:9998"))
    assert r.returncode == 0 and "metrics      127.0.0.1:9998/metrics\n" in r.stdout, r


# ---- why a connection failed --------------------------------------------

def closed_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("tls", ["off", "on"])
def test_a_refused_connection_says_connection_refused_with_or_without_tls(tls):
    r = run(["--check"], env=env_with(CASSANDRA_HOSTS=f"127.0.0.1:{closed_port()}",
                                      CASSANDRA_TLS=tls))
    assert r.returncode == 1 and "Connection refused" in r.stdout, r
    assert "error:0000" not in r.stdout + r.stderr, r


# ---- --query: the answer, nothing false, and at once -------------------

def test_query_prints_no_false_warning_after_a_correct_answer(start_cqld):
    cqld = start_cqld()
    env = env_with(CASSANDRA_HOSTS=f"127.0.0.1:{cqld.port}", CASSANDRA_CONNECT_TIMEOUT_MS=5000)
    # Two candidates: the first answers, the second's read is still in flight at exit
    # (before the fix, 2 runs in 3 logged it as a failure).
    for _ in range(8):
        r = run(["--query", "users", "alice@example.com"], env=env)
        assert (r.returncode, r.stdout.splitlines()[-1]) == (0, "OK example.com/alice/"), r
        assert r.stderr == "", r


def test_query_says_at_once_that_the_database_is_down():
    # Deadline 62 s: only an early answer fits in the run's timeout.
    r = run(["--query", "users", "alice@example.com"], timeout=30,
            env=env_with(CASSANDRA_HOSTS=f"127.0.0.1:{closed_port()}",
                         CASSANDRA_CONNECT_TIMEOUT_MS=60000))
    assert r.returncode == 3 and "TEMP cassandra: not connected" in r.stdout, r
    assert "Connection refused" in r.stderr, r


# ---- --check as the service runs it -------------------------------------

def test_check_as_service_reads_with_the_services_rights(tmp_path, start_cqld):
    if os.geteuid() != 0:
        pytest.skip("--as-service drops privileges: needs root")
    node = start_cqld(extra=["--auth", "password:mail:s3cret"])
    pw = tmp_path / "password"
    pw.write_text("s3cret\n")
    pw.chmod(0o600)                  # root's file: the postfix user cannot read it
    settings = {"KEYSPACE_NAME": "mailion", "CASSANDRA_HOSTS": f"127.0.0.1:{node.port}",
                "CASSANDRA_USERNAME": "mail", "CASSANDRA_PASSWORD_FILE": str(pw)}
    envfile = tmp_path / "postfix-aws-cassandra"
    envfile.write_text("# as the package ships it, edited\n" +
                       "".join(f'{k}="{v}"\n' for k, v in settings.items()))
    # Root passes...
    r = run(["--check"], env={"PATH": "/usr/bin:/bin", **settings})
    assert r.returncode == 0 and "OK: 6 maps ready" in r.stdout, r
    # ...the service would not: the same file, read as the unit's user.
    r = run(["--check", "--as-service", "--env-file", str(envfile)],
            env={"PATH": "/usr/bin:/bin", "KEYSPACE_NAME": "from-the-shell-not-the-unit"})
    assert r.returncode == 2, r
    assert f"CASSANDRA_PASSWORD_FILE='{pw}': Permission denied" in r.stderr, r
    # Readable by the service (pytest's own directory is not): it passes as the service too.
    shared = tempfile.mkdtemp(prefix="pac-as-service-")
    try:
        os.chmod(shared, 0o755)
        shutil.copy(pw, shared + "/password")
        os.chmod(shared + "/password", 0o644)
        envfile.write_text(envfile.read_text().replace(str(pw), shared + "/password"))
        r = run(["--check", "--as-service", "--env-file", str(envfile)],
                env={"PATH": "/usr/bin:/bin"})
        assert r.returncode == 0 and "OK: 6 maps ready" in r.stdout, r
    finally:
        shutil.rmtree(shared)


def test_as_service_goes_with_check_or_query():
    r = run(["--as-service"], env=env_with())
    assert r.returncode == 2 and "--as-service goes with --check or --query" in r.stderr, r
    r = run(["--check", "--as-service", "--env-file", "/nonexistent/env"], env=env_with())
    assert r.returncode == 2 and "/nonexistent/env: No such file" in r.stderr, r
