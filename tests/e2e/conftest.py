"""Shared fixtures for the end-to-end tests.

Every test starts the processes it needs on 127.0.0.1 with ephemeral ports
(port 0 plus a port file), and stops them all. Lookups go through Debian's
real Postfix: `postmap -c <private dir> -q KEY socketmap:inet:127.0.0.1:PORT:NAME`,
never /etc/postfix.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cqld_client  # noqa: E402  tests/cqld_client.py, shared with bench/run.py

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("PAC_BUILD", "build")
DAEMON = BUILD / "postfix-aws-cassandra"
CQLD = BUILD / "cqld"
DEMO_CQL = ROOT / "examples" / "demo.cql"
DATA = Path(__file__).resolve().parent / "data"

# The files that take minutes, longest first. With the files spread over
# several workers (make e2e: pytest-xdist --dist loadfile), starting them
# first keeps one of them from being the last thing left running.
SLOW_FIRST = ("test_packaging.py", "test_postfix_oracle.py", "test_soak.py",
              "test_search_order.py", "test_aws_sdk_chain.py", "test_systemd.py",
              "test_aws_credentials.py", "test_aws_sdk_chain_sts.py", "test_hostile_clients.py")


def pytest_collection_modifyitems(config, items):
    """Run the slow files first, the rest in their usual order."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda it: rank.get(Path(str(it.fspath)).name, len(SLOW_FIRST)))


ASAN_QUARANTINE_MB = 1


def sanitized(path=DAEMON):
    """True for an ASan build (SANITIZE=1)."""
    try:
        return b"__asan_init" in path.read_bytes()
    except FileNotFoundError:
        return False


def rss_bound_kb(kb):
    """An RSS growth bound of kb, plus in an ASan build what its allocator
    holds back beyond the program's own use: the quarantine of freed
    blocks, and as much again for its size classes and metadata."""
    return kb + (2 * ASAN_QUARANTINE_MB * 1024 if sanitized() else 0)


def proc_field(path, label, index):
    """Word index of the line of /proc file path that starts with label."""
    with open(path) as f:
        for line in f:
            if line.startswith(label):
                return int(line.split()[index])
    raise AssertionError(f"no {label!r} in {path}")


def rss_kb(pid):
    return proc_field(f"/proc/{pid}/status", "VmRSS:", 1)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_usage(pid):
    """(RSS in kB, open descriptors) of a process."""
    return rss_kb(pid), fd_count(pid)


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Poll predicate until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A child process with its stderr in a file and a port file."""

    def __init__(self, name, argv, tmp_path, env=None, port_file=None):
        self.name = name
        self.argv = argv
        self.env = env
        self.port_file = port_file
        self.log_path = tmp_path / f"{name}.log"
        self.proc = None
        self.port = None

    def start(self, timeout=10.0):
        if self.port_file and self.port_file.exists():
            self.port_file.unlink()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        if self.port_file:
            def ready():
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                         + self.log_text())
                try:
                    text = self.port_file.read_text()
                except FileNotFoundError:
                    return None
                return int(text) if text.endswith("\n") else None
            self.port = wait_for(ready, timeout, what=f"{self.name} to listen")
        return self

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop the process and return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s")
        finally:
            self.log.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


# What AddressSanitizer, LeakSanitizer and UBSan print (SANITIZE=1 builds).
SANITIZER_REPORT = re.compile(r"==\d+==ERROR: (?:Address|Leak)Sanitizer.*|"
                              r"\S+\.c:\d+:\d+: runtime error: .*")


@pytest.fixture
def procs():
    """Tracks started processes; after the test, stops those still running
    with SIGTERM (so LeakSanitizer gets to run), kills those that do not
    stop, and fails the test if any of them printed a sanitizer report,
    even one that died unnoticed."""
    started = []
    yield started
    for p in started:
        if p.proc and p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    reports = []
    for p in started:
        if p.proc:
            try:
                p.proc.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if getattr(p, "log", None) and not p.log.closed:
            p.log.close()
        m = SANITIZER_REPORT.search(p.log_text())
        if m:
            reports.append(f"{p.name}: {m.group(0)} (in {p.log_path})")
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


@pytest.fixture
def start_cqld(tmp_path, procs):
    """start_cqld(*load_files, port=0, extra=[], host="127.0.0.1") -> Proc with .port.
    Another host than 127.0.0.1 only inside private_net."""
    counter = [0]

    def start(*loads, port=0, extra=(), host="127.0.0.1"):
        counter[0] += 1
        name = f"cqld{counter[0]}"
        pf = tmp_path / f"{name}.port"
        cpf = tmp_path / f"{name}.control-port"
        argv = [str(CQLD), "--listen", f"{host}:{port}", "--port-file", str(pf),
                "--control", "127.0.0.1:0", "--control-port-file", str(cpf)]
        for f in loads or (DEMO_CQL,):
            argv += ["--load", str(f)]
        argv += list(extra)
        p = Proc(name, argv, tmp_path, port_file=pf)
        procs.append(p)
        p.start()
        p.control_port = int(wait_for(lambda: cpf.exists() and cpf.read_text().endswith("\n")
                                      and cpf.read_text(), what="cqld control port"))
        p.control = lambda cmd: cqld_control(p.control_port, cmd)
        return p
    return start


KEYSPACES_REGION = "us-east-1"
KEYSPACES_KEY_ID, KEYSPACES_SECRET = "AKIDCQLDENDPOINT0001", "cqld-endpoint/secret+1"
KEYSPACES_ADDRESSES = 3     # the endpoint's addresses (Keyspaces has 10; 3 keep tests quick)


@pytest.fixture
def start_keyspaces(start_cqld, tmp_path_factory):
    """start_keyspaces(*loads, key_id=, secret=, region=, addresses=, extra=[]) -> Proc:
    cqld --keyspaces REGION, TLS with tls_certs.py's server certificate (DNS:localhost),
    SigV4 for key_id/secret, listening on 127.0.0.1..`addresses` on one port.
    p.daemon_env is what start_daemon needs to use it as Keyspaces: the
    endpoint reached as localhost (the name its peers are verified under),
    TLS against the test CA, SigV4 with the key in the environment."""
    from tls_certs import session_pki
    pki = session_pki(tmp_path_factory)

    def start(*loads, key_id=KEYSPACES_KEY_ID, secret=KEYSPACES_SECRET,
              region=KEYSPACES_REGION, addresses=KEYSPACES_ADDRESSES, extra=()):
        p = start_cqld(*loads, extra=["--keyspaces", region, "--endpoint-addresses",
                                      str(addresses), "--tls-cert", pki.server_cert,
                                      "--tls-key", pki.server_key,
                                      "--auth", f"sigv4:{key_id}:{secret}", *extra])
        p.pki = pki
        p.daemon_env = dict(AWS_REGION=region, CASSANDRA_HOSTS=f"localhost:{p.port}",
                            CASSANDRA_TLS="on", CASSANDRA_TLS_CA_FILE=pki.ca_cert,
                            CASSANDRA_AUTH="sigv4", AWS_ACCESS_KEY_ID=key_id,
                            AWS_SECRET_ACCESS_KEY=secret)
        return p
    return start


def make_deb(tmp):
    """The .deb (and its -dbgsym) as `make deb` makes them, from the programs
    already built (PAC_DEB names a ready one instead, e.g. an older
    version's); returns the package's path. The objects are copied with
    their times, so make only links what is missing and packages."""
    if os.environ.get("PAC_DEB"):
        return Path(os.environ["PAC_DEB"])
    build = Path(tmp) / "b"
    build.mkdir()
    have = [str(BUILD / n) for n in ("obj", "postfix-aws-cassandra", "postfix-aws-cassandra-admin")
            if (BUILD / n).exists()]
    subprocess.run(["cp", "-a", *have, str(build)], check=True)
    r = subprocess.run(["make", "-s", "deb", f"BUILD={build}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return build / "deb" / f"postfix-aws-cassandra_{(ROOT / 'VERSION').read_text().strip()}-1_amd64.deb"


def cqld_control(port, cmd):
    """Send one command to cqld's control socket; return the reply line,
    which must be "ok ..."."""
    reply = cqld_client.control(port, cmd)
    assert reply.startswith("ok"), f"cqld control {cmd!r}: {reply}"
    return reply


def cqld_counts(proc):
    """Per-table request counts from cqld: {'mailion.users': 3, ...}."""
    reply = proc.control("counts")
    return {k: int(v) for k, v in (w.split("=") for w in reply.split()[1:])}


@pytest.fixture
def start_daemon(tmp_path, procs):
    """start_daemon(cql_port, **env) -> Proc with .port (the socketmap port)."""
    counter = [0]

    def start(cql_port, wait_ready=None, prefix=(), start_timeout=10.0, **env):
        """wait_ready: wait until a node is up (default: when cql_port is
        given a server, i.e. always except for the outage tests).
        prefix: a command to run the daemon under (valgrind, prlimit)."""
        counter[0] += 1
        name = f"daemon{counter[0]}"
        pf = tmp_path / f"{name}.port"
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "KEYSPACE_NAME": "mailion",
             "CASSANDRA_HOSTS": f"127.0.0.1:{cql_port}",
             "PORT": "0",
             "CASSANDRA_RECONNECT_MAX_MS": "500",
             "LOG_LEVEL": "info"}
        # Under ASan (SANITIZE=1) freed memory sits in a 256 MB quarantine,
        # which the RSS bounds of the fault tests would take for a leak; a
        # 1 MB quarantine still catches a use right after a free. The unit
        # tests and fuzzers keep the default. Ignored by normal builds.
        e["ASAN_OPTIONS"] = (f"quarantine_size_mb={ASAN_QUARANTINE_MB}:"
                             "allocator_release_to_os_interval_ms=10")
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                e[key] = os.environ[key]
        e.update({k: str(v) for k, v in env.items()})
        p = Proc(name, [*prefix, str(DAEMON), "--foreground", "--port-file", str(pf)],
                 tmp_path, env=e, port_file=pf)
        procs.append(p)
        p.start(timeout=start_timeout)
        if wait_ready is None or wait_ready:
            try:
                wait_for(lambda: " is up" in p.log_text(), timeout=10, what="a CQL node up")
            except AssertionError:
                if wait_ready:
                    raise
        return p
    return start


class Postmap:
    """Real Postfix lookups through postmap with a private config directory."""

    def __init__(self, confdir):
        self.confdir = confdir

    def query_many(self, port, name, keys, timeout=120):
        """Look up many keys in one postmap process (postmap -q -, one
        socketmap connection, like a busy smtpd). Returns {key: value} of
        the keys found."""
        r = subprocess.run(["postmap", "-c", str(self.confdir), "-q", "-",
                            f"socketmap:inet:127.0.0.1:{port}:{name}"],
                           input="".join(k + "\n" for k in keys),
                           capture_output=True, text=True, timeout=timeout)
        assert "error" not in r.stderr, r.stderr
        found = {}
        for line in r.stdout.splitlines():
            k, _, v = line.partition("\t")
            found[k] = v
        return found

    def query(self, port, name, key, timeout=30):
        """Return (status, value): status is OK, NOTFOUND, TEMP or PERM."""
        r = subprocess.run(["postmap", "-c", str(self.confdir), "-q", key,
                            f"socketmap:inet:127.0.0.1:{port}:{name}"],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode == 0:
            return "OK", r.stdout.rstrip("\n")
        if "temporary error" in r.stderr:
            return "TEMP", r.stderr
        if "permanent error" in r.stderr:
            return "PERM", r.stderr
        if r.returncode == 1 and r.stderr.strip() == "":
            return "NOTFOUND", ""
        raise AssertionError(f"postmap rc={r.returncode}: {r.stderr}")


@pytest.fixture
def postmap(tmp_path):
    confdir = tmp_path / "postfix"
    confdir.mkdir()
    (confdir / "main.cf").write_text("compatibility_level = 3.6\n")
    return Postmap(confdir)


def netstring(data: bytes) -> bytes:
    return str(len(data)).encode() + b":" + data + b","


def read_netstring(sock, timeout=5.0):
    """Read one netstring reply from a socket; returns the payload bytes."""
    sock.settimeout(timeout)
    buf = b""
    while b":" not in buf:
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    n = int(buf[:-1])
    payload = b""
    while len(payload) < n + 1:
        chunk = sock.recv(n + 1 - len(payload))
        if not chunk:
            raise EOFError("connection closed")
        payload += chunk
    assert payload[-1:] == b",", payload
    return payload[:-1]


def raw_connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def ask(port, name="domains", key="example.com", timeout=10):
    """One socketmap lookup on a connection of its own: the reply, decoded."""
    s = raw_connect(port)
    try:
        s.sendall(netstring(f"{name} {key}".encode()))
        return read_netstring(s, timeout=timeout).decode()
    finally:
        s.close()


CLONE_NEWNET = 0x40000000


@pytest.fixture
def private_net():
    """Run the rest of the test in a network namespace of its own, with only
    a loopback interface, so that nodes can listen on 127.0.0.2 as well
    without touching the machine's network. Processes started by the test
    inherit it. Skips when namespaces cannot be made here (no privilege)."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "600"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except FileNotFoundError:
        pytest.skip("no unshare command")
    mine = os.readlink("/proc/self/ns/net")
    try:
        wait_for(lambda: holder.poll() is not None
                 or os.readlink(f"/proc/{holder.pid}/ns/net") != mine, timeout=5,
                 what="the new network namespace")
        if holder.poll() is not None:
            pytest.skip("cannot make a network namespace here: "
                        + holder.stderr.read().decode(errors="replace").strip())
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        new = os.open(f"/proc/{holder.pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(new, CLONE_NEWNET) != 0:
                pytest.skip("setns: " + os.strerror(ctypes.get_errno()))
            try:
                subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
                yield
            finally:
                assert libc.setns(home, CLONE_NEWNET) == 0, os.strerror(ctypes.get_errno())
        finally:
            os.close(new)
            os.close(home)
    finally:
        holder.kill()
        holder.wait()
