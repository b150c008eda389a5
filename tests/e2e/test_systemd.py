"""The .deb under a real systemd 252, as an operator runs it.

This machine's own Debian 12 (its installed systemd, dbus and Postfix:
scripts/install-deps.sh installs them) is the read-only lower layer of an
overlay whose upper layer is a tmpfs; systemd boots there as PID 1 of
private pid, mount, uts, ipc, net and cgroup namespaces, with none of the
host's enabled units (tests/e2e/systemd_boot.sh). `nsenter -t PID -a` runs
systemctl, journalctl and postmap inside. The package built by `make deb`
is installed there, and cqld runs as a transient unit (systemd-run).
Everything listens inside the private network namespace, so the default
ports are ours alone, and every write lands in the tmpfs, which goes with
the namespace: the host's /etc, /var and /usr are never changed.

Nothing is downloaded or cached: a cold run takes as long as any other.
Skipped, with the reason, where the namespaces cannot be made.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import CQLD, DEMO_CQL, ROOT, make_deb, sanitized, wait_for

# What the booted system runs, from the host: systemd as PID 1, dbus,
# Postfix, dpkg for the .deb (whose Depends the build's -dev packages pull in).
HOST_NEEDS = ["/lib/systemd/systemd", "/usr/bin/dbus-daemon", "/usr/sbin/postfix",
              "/usr/share/postfix/master.cf.dist", "/usr/bin/dpkg"]
# The overlay's lower layer is the one filesystem mounted on /: these must
# be on it, not on filesystems of their own (which it would show empty).
HOST_SAME_FS = ["/usr", "/etc", "/var/lib/dpkg", "/var/lib/postfix", "/var/spool/postfix"]
BOOT = Path(__file__).resolve().parent / "systemd_boot.sh"
UNIT = "postfix-aws-cassandra.service"
SOCKET = "postfix-aws-cassandra.socket"
ENV_FILE = "/etc/default/postfix-aws-cassandra"
MAP_FILE = "/etc/postfix-aws-cassandra/postfix-aws-cassandra.conf"
DROPIN_DIR = f"/etc/systemd/system/{UNIT}.d"
CQL_PORT, CQL_CONTROL_PORT, SM_PORT = 9042, 9043, 9999
BOOT_TIMEOUT_S = 180             # to "running", on a loaded machine
CMD_TIMEOUT_S = 120
WATCHDOG_TEST_S = 2              # WatchdogSec= for the watchdog test


def cgroup_layout():
    """'unified' (cgroup2 only) or 'hybrid' (v1 name=systemd plus cgroup2)."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "unified", ["/sys/fs/cgroup"]
    if os.path.isdir("/sys/fs/cgroup/systemd") and \
            os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
        return "hybrid", ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]
    pytest.skip("no cgroup2 or name=systemd hierarchy at /sys/fs/cgroup")


def remove_cgroup(path):
    """rmdir a cgroup and its children, deepest first (all empty by now)."""
    for dirpath, dirnames, _ in sorted(os.walk(path), key=lambda w: -w[0].count("/")):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def children(pid):
    """The child processes of pid."""
    try:
        return [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    except OSError:
        return []


def systemd_child(pid):
    """The child of pid once it has become systemd (the boot script execs it)."""
    for c in children(pid):
        try:
            if Path(f"/proc/{c}/comm").read_text().strip() == "systemd":
                return c
        except OSError:
            pass
    return None


class Machine:
    """A systemd booted in its own namespaces: run() runs a command in them."""

    def __init__(self, pid):
        self.pid = pid
        self.shipped_env = self.shipped_maps = ""

    def run(self, *argv, check=True, input=None, timeout=CMD_TIMEOUT_S):
        r = subprocess.run(["nsenter", "-t", str(self.pid), "-a", *argv], input=input,
                           capture_output=True, timeout=timeout,
                           text=not isinstance(input, bytes))
        if check:
            assert r.returncode == 0, f"{argv}: rc={r.returncode} {r.stdout} {r.stderr}"
        return r

    def write(self, path, data):
        """Write a file inside the machine's root."""
        data = data if isinstance(data, bytes) else data.encode()
        self.run("sh", "-c", f'mkdir -p "$(dirname {path})" && cat > {path}', input=data)

    def show(self, unit, prop):
        return self.run("systemctl", "show", "-P", prop, unit).stdout.strip()

    def journal(self, unit, run=None):
        """What a run of the unit (by default its current one) logged."""
        run = run or self.show(unit, "InvocationID")
        return self.run("journalctl", f"_SYSTEMD_INVOCATION_ID={run}", "-o", "cat",
                        "--no-pager").stdout

    def manager_log(self, unit):
        """What systemd itself said about the unit, all runs."""
        return self.run("journalctl", "_PID=1", f"UNIT={unit}", "-o", "cat", "--no-pager").stdout

    def lookup(self, name, key):
        """postmap -q inside the machine: (status, value)."""
        r = self.run("postmap", "-q", key, f"socketmap:inet:127.0.0.1:{SM_PORT}:{name}",
                     check=False)
        if r.returncode == 0:
            return "OK", r.stdout.strip()
        if "temporary error" in r.stderr:
            return "TEMP", r.stderr
        if r.returncode == 1 and r.stderr.strip() == "":
            return "NOTFOUND", ""
        return "ERROR", r.stderr


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    if sanitized():
        pytest.skip("the packages are built without sanitizers (and the unit's "
                    "MemoryDenyWriteExecute= and seccomp filter do not suit ASan)")
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: scripts/install-deps.sh installs it")
    for path in HOST_NEEDS:
        if not os.path.exists(path):
            pytest.fail(f"{path} missing: scripts/install-deps.sh installs it")
    for path in HOST_SAME_FS:
        if os.stat(path).st_dev != os.stat("/").st_dev:
            pytest.skip(f"{path} is not on the filesystem of /, which the overlay's "
                        "lower layer shows alone")
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net",
                            "--cgroup", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("cannot make the namespaces systemd needs here: " + probe.stderr.strip())
    layout, hierarchies = cgroup_layout()
    tmp = tmp_path_factory.mktemp("systemd")
    deb = make_deb(tmp)
    name = f"pac-test-{uuid.uuid4().hex[:12]}"
    cgroups = [os.path.join(h, name) for h in hierarchies]
    for cg in cgroups:
        os.mkdir(cg)
    join = "; ".join(f"echo $$ > {cg}/cgroup.procs" for cg in cgroups)
    log = open(tmp / "systemd.log", "w")
    launcher = subprocess.Popen(
        ["sh", "-c", f'{join}; exec unshare --pid --fork --mount --uts --ipc --net --cgroup '
         f'--propagation private bash "$0" "$1" "$2"',
         str(BOOT), str(tmp / "state"), layout],
        stdout=log, stderr=subprocess.STDOUT)
    pid = None
    try:
        pid = wait_for(lambda: systemd_child(launcher.pid) or launcher.poll() is not None,
                       timeout=60, what="systemd to start: " + str(tmp / "systemd.log"))
        if launcher.poll() is not None:             # the boot script failed
            pid = None
            pytest.fail("systemd_boot.sh exited: " + (tmp / "systemd.log").read_text()[-3000:])
        m = Machine(pid)
        # "offline" until systemd listens on its private socket.
        wait_for(lambda: m.run("systemctl", "is-system-running", "--wait", check=False,
                               timeout=BOOT_TIMEOUT_S).stdout.strip() in ("running", "degraded"),
                 timeout=BOOT_TIMEOUT_S, interval=0.5,
                 what="the boot: " + str(tmp / "systemd.log"))
        m.write("/tmp/pac.deb", deb.read_bytes())
        m.run("dpkg", "-i", "/tmp/pac.deb")
        m.write("/usr/local/bin/cqld", CQLD.read_bytes())
        m.run("chmod", "0755", "/usr/local/bin/cqld")
        m.write("/usr/local/share/demo.cql", DEMO_CQL.read_bytes())
        m.run("systemd-run", "--unit=cqld", "/usr/local/bin/cqld",
              "--listen", f"127.0.0.1:{CQL_PORT}", "--load", "/usr/local/share/demo.cql",
              "--control", f"127.0.0.1:{CQL_CONTROL_PORT}")
        m.shipped_env = m.run("cat", ENV_FILE).stdout
        m.shipped_maps = m.run("cat", MAP_FILE).stdout
        yield m
    finally:
        if pid:
            os.kill(pid, signal.SIGRTMIN + 4)        # systemd: power off
        try:
            launcher.wait(timeout=60 if pid else 1)
        except subprocess.TimeoutExpired:
            for p in children(launcher.pid):
                os.kill(p, signal.SIGKILL)          # PID 1: the namespace goes with it
            launcher.wait(timeout=30)
        log.close()
        for cg in cgroups:
            remove_cgroup(cg)


def configured(m, env=None, maps=None, start=True):
    """The service stopped, given this environment and map file (default:
    the demo keyspace on the local cqld, the shipped map file), then
    started and answering."""
    m.run("systemctl", "stop", SOCKET, check=False)
    m.run("systemctl", "stop", UNIT)
    m.write(ENV_FILE, env if env is not None else "KEYSPACE_NAME=mailion\n"
            f"CASSANDRA_HOSTS=127.0.0.1:{CQL_PORT}\n")
    m.write(MAP_FILE, maps if maps is not None else m.shipped_maps)
    m.run("systemctl", "reset-failed", UNIT, check=False)
    if start:
        m.run("systemctl", "start", UNIT)
        wait_for(lambda: m.lookup("users", "alice@example.com")[0] == "OK", timeout=30,
                 what="the first answer")


def test_the_package_runs_sandboxed_and_answers(machine):
    m = machine
    configured(m)
    assert m.show(UNIT, "ActiveState") == "active"
    assert m.lookup("users", "alice@example.com") == ("OK", "example.com/alice/")
    assert m.lookup("users", "nobody@example.com") == ("NOTFOUND", "")
    # The Status line says the backend state (refreshed every few seconds).
    wait_for(lambda: 'Status: "cassandra: 1 of 1 nodes up' in
             m.run("systemctl", "status", "--no-pager", UNIT, check=False).stdout,
             timeout=30, what="the Status line")
    # The whole sandbox applies: the postfix user, no new privileges, seccomp.
    pid = m.show(UNIT, "MainPID")
    status = m.run("cat", f"/proc/{pid}/status").stdout
    uid = m.run("id", "-u", "postfix").stdout.strip()
    assert re.search(rf"^Uid:\s+{uid}\s", status, re.M), status
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), status
    assert re.search(r"^Seccomp:\s+2$", status, re.M), status
    # Nothing on stderr but the daemon's own lines: libevent's getifaddrs()
    # warning (no AF_NETLINK under RestrictAddressFamilies=) is gone.
    log = m.journal(UNIT)
    assert "listening on inet:127.0.0.1:9999" in log, log
    assert "[warn]" not in log and "getifaddrs" not in log, log


def test_ordered_before_postfix_under_both_names(machine):
    """Debian's Postfix runs as postfix@-.service (postfix.service only
    starts the instances): the daemon must be up before either."""
    before = machine.run("systemctl", "list-dependencies", "--before", "--plain", "--no-pager",
                         UNIT).stdout.split()
    assert "postfix.service" in before and "postfix@-.service" in before, before
    assert machine.show("postfix@-.service", "ActiveState") == "active"


def test_the_machine_leaves_the_host_alone(machine):
    """The booted root is the host's own, under an overlay: its writes stay
    in the overlay, none of the host's enabled units starts there, and the
    kernel's global tunables are read-only to it."""
    m = machine
    marker = f"/etc/pac-test-{uuid.uuid4().hex}"
    m.write(marker, "written inside\n")
    assert m.run("cat", marker).stdout == "written inside\n"
    assert not os.path.exists(marker)
    assert m.run("cat", "/etc/machine-id").stdout != Path("/etc/machine-id").read_text()
    enabled = {u.name for u in Path("/etc/systemd/system").glob("*.wants/*")}
    for unit in sorted(enabled - {"postfix.service"}):
        assert m.show(unit, "ActiveState") == "inactive", unit
    for path in ("/proc/sys", "/sys"):
        opts = m.run("findmnt", "-no", "OPTIONS", path).stdout.strip().split(",")
        assert "ro" in opts, (path, opts)


def test_reload_reads_the_changed_map_file(machine):
    m = machine
    configured(m)
    assert m.lookup("users", "alice@example.com") == ("OK", "example.com/alice/")
    m.write(MAP_FILE, "[users]\nresult_format = mail/%d/%u\n")
    # systemctl reload needs no /bin/kill (procps is optional; the boot hides it).
    assert m.run("sh", "-c", "command -v /bin/kill || echo absent").stdout.strip() == "absent"
    m.run("systemctl", "reload", UNIT)
    wait_for(lambda: m.lookup("users", "alice@example.com") == ("OK", "mail/example.com/alice"),
             timeout=30, what="the reloaded map")
    assert "reloaded: 6 maps" in m.journal(UNIT)
    assert m.show(UNIT, "ActiveState") == "active"


def test_the_watchdog_restarts_a_stopped_daemon(machine):
    m = machine
    m.write(f"{DROPIN_DIR}/watchdog.conf",
            # SIGABRT waits for SIGCONT; TimeoutAbortSec= then SIGKILLs.
            f"[Service]\nWatchdogSec={WATCHDOG_TEST_S}s\nTimeoutAbortSec=1s\nLimitCORE=0\n")
    m.run("systemctl", "daemon-reload")
    try:
        configured(m)
        first = m.show(UNIT, "MainPID")
        restarts = int(m.show(UNIT, "NRestarts"))
        m.run("systemctl", "kill", "--kill-whom=main", "--signal=SIGSTOP", UNIT)
        wait_for(lambda: m.show(UNIT, "MainPID") not in (first, "0")
                 and m.show(UNIT, "ActiveState") == "active", timeout=90,
                 interval=0.5, what="the watchdog restart")
        assert int(m.show(UNIT, "NRestarts")) == restarts + 1
        assert "Watchdog timeout" in m.manager_log(UNIT)
        wait_for(lambda: m.lookup("users", "alice@example.com")[0] == "OK", timeout=30,
                 what="answers after the restart")
    finally:
        m.run("rm", "-rf", DROPIN_DIR)
        m.run("systemctl", "daemon-reload")


LOAD_CLIENT = r"""
import socket, sys
sys.path.insert(0, sys.argv[1])
import cqld_client
n, port, control = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cqld_client.control(control, "delay 1500")
socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(n)]
req = b"domains example.com"
for s in socks:
    s.sendall(str(len(req)).encode() + b":" + req + b",")
print("sent", flush=True)
sys.stdin.readline()
for s in socks:
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(repr(data), flush=True)
cqld_client.control(control, "delay 0")
"""


def test_stop_under_load_answers_every_lookup(machine):
    m = machine
    n = 20
    # Each read takes 1.5 s (cqld's delay), well inside the timeouts and
    # the 5 s the daemon gives the lookups in flight when it stops.
    configured(m, env=f"KEYSPACE_NAME=mailion\nCASSANDRA_HOSTS=127.0.0.1:{CQL_PORT}\n"
               "CACHE=off\nCASSANDRA_REQUEST_TIMEOUT_MS=4000\nCASSANDRA_LOOKUP_TIMEOUT_MS=4500\n")
    client = subprocess.Popen(
        ["nsenter", "-t", str(m.pid), "-n", sys.executable, "-c", LOAD_CLIENT,
         str(ROOT / "tests"), str(n), str(SM_PORT), str(CQL_CONTROL_PORT)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "sent", client.stderr.read()
        time.sleep(0.2)                        # the lookups are now waiting on cqld
        run = m.show(UNIT, "InvocationID")
        m.run("systemctl", "stop", UNIT)       # returns once the daemon has exited
        client.stdin.write("\n")
        client.stdin.flush()
        out, err = client.communicate(timeout=60)
    finally:
        client.kill()
    assert out.split("\n")[:n] == [repr(b"14:OK example.com,")] * n, out + err
    assert m.show(UNIT, "Result") == "success"
    assert m.show(UNIT, "ExecMainStatus") == "0"
    assert "stopping" in m.journal(UNIT, run)


def test_an_unedited_environment_file_stops_with_exit_2_and_no_restart(machine):
    m = machine
    # The shipped file with every assignment left commented out, as a fresh
    # install must be (no keyspace named: nothing to serve).
    unedited = re.sub(r"^(?=[A-Za-z_]+=)", "#", m.shipped_env, flags=re.M)
    configured(m, env=unedited, start=False)
    r = m.run("systemctl", "start", UNIT, check=False)
    assert r.returncode != 0
    assert m.show(UNIT, "ActiveState") == "failed"
    assert m.show(UNIT, "ExecMainStatus") == "2"
    assert "KEYSPACE_NAME" in m.journal(UNIT)
    time.sleep(2 * 2)                          # twice RestartSec=2s: none comes
    assert m.show(UNIT, "NRestarts") == "0"
    assert m.show(UNIT, "ActiveState") == "failed"


def test_the_socket_unit_starts_the_service_on_the_first_connection(machine):
    m = machine
    configured(m)
    m.run("systemctl", "stop", UNIT)
    m.run("systemctl", "start", SOCKET)
    try:
        assert m.show(UNIT, "ActiveState") == "inactive"
        # The first lookup starts it, before its database connection is
        # up: the read waits for the connection, so the first mail after
        # a start is not deferred (no TEMP "not connected").
        first = m.lookup("users", "alice@example.com")
        assert first == ("OK", "example.com/alice/"), first
        assert m.show(UNIT, "ActiveState") == "active"
        assert "listening on 1 socket passed by systemd" in m.journal(UNIT)
        assert m.lookup("users", "alice@example.com") == ("OK", "example.com/alice/")
    finally:
        m.run("systemctl", "stop", SOCKET, UNIT)


def test_the_unix_socket_dropin_serves_postfix_chrooted_or_not(machine):
    m = machine
    shipped = "/usr/share/postfix-aws-cassandra/systemd/unix-socket.conf"
    m.run("install", "-D", "-m", "0644", shipped, f"{DROPIN_DIR}/unix-socket.conf")
    m.run("systemctl", "daemon-reload")
    try:
        configured(m, start=False)
        r = m.run("systemctl", "start", UNIT, check=False)
        assert r.returncode == 0, m.journal(UNIT) + m.manager_log(UNIT)[-2000:]
        path = "/var/spool/postfix/private/cassandra"
        mode = m.run("stat", "-c", "%a %U %G", path).stdout.split()
        assert mode == ["660", "postfix", "postfix"], mode
        # The full path from anywhere; the name main.cf uses is relative to
        # the queue directory, where Postfix's daemons (chrooted or not) run.
        for where, table in (("/", f"socketmap:unix:{path}:users"),
                             ("/var/spool/postfix", "socketmap:unix:private/cassandra:users")):
            r = m.run("sh", "-c", f"cd {where} && postmap -q alice@example.com {table}",
                      check=False)
            assert (r.returncode, r.stdout.strip()) == (0, "example.com/alice/"), r.stderr
    finally:
        m.run("rm", "-rf", DROPIN_DIR)
        m.run("systemctl", "daemon-reload")
        m.run("systemctl", "stop", UNIT)
