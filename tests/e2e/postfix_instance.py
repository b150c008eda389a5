"""A private, throwaway Postfix instance for end-to-end tests.

`postfix -c DIR start` with its own main.cf, master.cf (smtpd on an ephemeral
loopback port, nothing chrooted), queue and data directories, and its log in
DIR/maillog. /etc/postfix is never read or touched. Needs root (Postfix's
master runs as root and drops to the postfix user).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def daemon_maps(port):
    """main.cf settings that put every map on the daemon at 127.0.0.1:port,
    with virtual delivery discarded (the mail flow tests' setup)."""
    sm = f"socketmap:inet:127.0.0.1:{port}"
    return {
        "virtual_mailbox_domains": f"{sm}:domains",
        "virtual_mailbox_maps": f"{sm}:users",
        "virtual_alias_maps": f"{sm}:virtual_aliases",
        "virtual_transport": "discard:",
        "transport_maps": f"{sm}:transport_maps",
        "smtpd_sender_restrictions": f"check_sender_access {sm}:access_maps, permit",
    }


class PostfixInstance:
    def __init__(self, settings):
        # Postfix daemons run as the postfix user: the directory must be
        # reachable by it, which pytest's 0700 tmp_path is not.
        self.dir = Path(tempfile.mkdtemp(prefix="pac-postfix-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        (self.dir / "queue").mkdir()
        (self.dir / "data").mkdir()
        shutil.chown(self.dir / "data", "postfix")
        base = {
            "compatibility_level": "3.6",
            "queue_directory": f"{self.dir}/queue",
            "data_directory": f"{self.dir}/data",
            "mail_owner": "postfix",
            "myhostname": "mx.test.local",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "maillog_file": f"{self.dir}/maillog",
            "maillog_file_prefixes": f"{self.dir}",
            "alias_maps": "",
            "alias_database": "",
            "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtputf8_enable": "no",
        }
        # A caller's setting replaces the default in place, never follows it:
        # a name given twice makes every Postfix process log "overriding
        # earlier entry" at startup, and that burst can fill the postlog
        # socket (net.unix.max_dgram_qlen, 10) before postlogd reads it while
        # postlogd sends its own copy of the warning to that same socket:
        # the whole instance then hangs in sendto() (seen in CI: smtpd, master
        # and postlogd in unix_wait_for_peer, RCPT TO unanswered for 60 s).
        base.update(settings)
        lines = [f"{k} = {v}".rstrip() for k, v in base.items()]
        (self.dir / "main.cf").write_text("\n".join(lines) + "\n")
        (self.dir / "master.cf").write_text(MASTER_CF.format(port=self.port))

    def start(self):
        r = subprocess.run(["postfix", "-c", str(self.dir), "start"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"postfix start failed: {r.stdout}{r.stderr}\n{self.log()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("smtpd did not start listening:\n" + self.log())

    def stop(self):
        subprocess.run(["postfix", "-c", str(self.dir), "stop"],
                       capture_output=True, timeout=60)
        # postfix stop returns before every child exited; wait for the lock.
        pid_file = self.dir / "queue" / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            try:
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError, FileNotFoundError, IndexError):
                break
            time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)

    def postconf(self, *args):
        return subprocess.run(["postconf", "-c", str(self.dir), *args],
                              capture_output=True, text=True, check=True).stdout

    def log(self):
        try:
            return (self.dir / "maillog").read_text(errors="replace")
        except FileNotFoundError:
            return ""
