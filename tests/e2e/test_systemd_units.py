"""The systemd units as shipped, checked offline with systemd-analyze: the
.socket unit, the UNIX-socket drop-in, and the order before Postfix under
both names it runs as (postfix.service on AL2023, postfix@-.service on
Debian). tests/e2e/test_systemd.py runs them under a real systemd.
"""
import shutil
import subprocess

import pytest

from conftest import DAEMON, ROOT

SYSTEMD = ROOT / "packaging" / "systemd"
SERVICE = "postfix-aws-cassandra.service"
SOCKET = "postfix-aws-cassandra.socket"
DROPIN = SYSTEMD / "unix-socket.conf"


@pytest.fixture
def unitdir(tmp_path):
    """A directory with the shipped units, ExecStart pointing at the built
    binary (verify checks it exists), and the man page for Documentation=."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze missing: scripts/install-deps.sh installs systemd")
    d = tmp_path / "units"
    d.mkdir()
    for name in (SERVICE, SOCKET):
        text = (SYSTEMD / name).read_text()
        (d / name).write_text(text.replace("/usr/sbin/postfix-aws-cassandra", str(DAEMON)))
    man = tmp_path / "man" / "man8"
    man.mkdir(parents=True)
    shutil.copy(ROOT / "man" / "postfix-aws-cassandra.8", man)
    return d


def verify(unitdir, *names):
    """systemd-analyze verify of units in unitdir: (rc, stderr)."""
    r = subprocess.run(["systemd-analyze", "verify", *names], cwd=unitdir,
                       capture_output=True, text=True, timeout=120,
                       env={"MANPATH": str(unitdir.parent / "man"),
                            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    return r.returncode, r.stderr.strip()


def test_socket_unit_verifies_and_names_the_service(unitdir):
    rc, err = verify(unitdir, SOCKET, SERVICE)
    assert rc == 0 and err == "", err
    text = (SYSTEMD / SOCKET).read_text()
    assert "ListenStream=127.0.0.1:9999\n" in text      # the LISTEN default
    assert f"Service={SERVICE}\n" in text
    assert "WantedBy=sockets.target\n" in text


def test_unix_socket_dropin_verifies(unitdir):
    text = DROPIN.read_text()
    for line in ["ReadWritePaths=/var/spool/postfix/private\n",
                 "Environment=LISTEN=unix:/var/spool/postfix/private/cassandra\n",
                 "socketmap:unix:private/cassandra:"]:
        assert line in text, line
    d = unitdir / f"{SERVICE}.d"
    d.mkdir()
    shutil.copy(DROPIN, d)
    rc, err = verify(unitdir, SERVICE)
    assert rc == 0 and err == "", err
    # The drop-in was read: a misspelt key in it is reported.
    (d / DROPIN.name).write_text(text.replace("ReadWritePaths=", "ReadWritePathz="))
    rc, err = verify(unitdir, SERVICE)
    assert "ReadWritePathz" in err, err


@pytest.mark.parametrize("postfix_unit", ["postfix.service", "postfix@-.service"])
def test_ordered_before_postfix(unitdir, postfix_unit):
    """A stand-in Postfix unit that wants us and claims to start before us:
    systemd finds the ordering cycle only if our unit says Before= that
    very name (a Before= postfix.service does not reach postfix@-.service)."""
    (unitdir / postfix_unit.replace("@-", "@")).write_text(
        "[Unit]\nDescription=stand-in for Postfix\n"
        f"Wants={SERVICE}\nBefore={SERVICE}\n"
        "[Service]\nExecStart=/bin/true\n")
    rc, err = verify(unitdir, postfix_unit)
    assert "Found ordering cycle" in err and f"{postfix_unit}/start" in err, err
