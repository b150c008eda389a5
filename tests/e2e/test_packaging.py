"""What an operator installs: the RPM (Amazon Linux 2023), the .deb, the
systemd unit, the man page and the Postfix snippet from the README.
"""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from postfix_instance import PostfixInstance

VERSION = (ROOT / "VERSION").read_text().strip()
UNIT = ROOT / "packaging" / "systemd" / "postfix-aws-cassandra.service"


def run(*argv, cwd=ROOT, **kw):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def rpm_file(tmp_path_factory):
    if shutil.which("rpmbuild") is None:
        pytest.fail("rpmbuild missing: scripts/install-deps.sh installs the rpm package")
    build = tmp_path_factory.mktemp("rpmbuild")
    r = run("make", "-s", "rpm", f"BUILD={build}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rpms = list(build.glob("rpm/RPMS/*/*.rpm"))
    assert len(rpms) == 1, rpms
    return rpms[0]


def test_rpm_name_files_and_requires(rpm_file, tmp_path):
    assert re.fullmatch(rf"postfix-aws-cassandra-{re.escape(VERSION)}-1(\.[a-z0-9_]+)?\.x86_64\.rpm",
                        rpm_file.name)
    files = run("rpm", "-qpl", str(rpm_file)).stdout.split()
    for f in ["/usr/sbin/postfix-aws-cassandra",
              "/usr/lib/systemd/system/postfix-aws-cassandra.service",
              "/usr/share/man/man8/postfix-aws-cassandra.8.gz",
              "/usr/sbin/postfix-aws-cassandra-admin",
              "/usr/share/man/man8/postfix-aws-cassandra-admin.8.gz",
              "/etc/sysconfig/postfix-aws-cassandra",
              "/etc/postfix-aws-cassandra/postfix-aws-cassandra.conf",
              "/usr/share/doc/postfix-aws-cassandra/schema-keyspaces.cql",
              "/usr/share/doc/postfix-aws-cassandra/schema-cassandra.cql",
              "/usr/share/doc/postfix-aws-cassandra/postfix-main.cf.snippet"]:
        assert f in files, f
    configs = run("rpm", "-qpc", str(rpm_file)).stdout.split()
    assert "/etc/sysconfig/postfix-aws-cassandra" in configs
    requires = run("rpm", "-qp", "--requires", str(rpm_file)).stdout.split("\n")
    for dep in ["libevent", "openssl-libs", "jansson", "expat", "systemd-libs"]:
        assert dep in requires, requires
    assert any(r.startswith("libevent-2.1.so") for r in requires)
    # Installs into a scratch root and runs (--nodeps: Debian's rpm db is empty).
    root = tmp_path / "root"
    r = run("rpm", "--root", str(root), "--nodeps", "--noscripts", "-i", str(rpm_file))
    assert r.returncode == 0, r.stderr
    r = run(str(root / "usr/sbin/postfix-aws-cassandra"), "--version")
    assert r.stdout.strip() == f"postfix-aws-cassandra {VERSION}"


def test_deb_contents_and_smoke_run(tmp_path):
    build = tmp_path / "b"
    r = run("make", "-s", "deb", f"BUILD={build}")
    assert r.returncode == 0, r.stderr[-3000:]
    deb = build / "deb" / f"postfix-aws-cassandra_{VERSION}-1_amd64.deb"
    listing = run("dpkg-deb", "-c", str(deb)).stdout
    for f in ["./usr/sbin/postfix-aws-cassandra", "./etc/default/postfix-aws-cassandra",
              "./usr/lib/systemd/system/postfix-aws-cassandra.service",
              "./usr/share/man/man8/postfix-aws-cassandra.8.gz",
              "./usr/sbin/postfix-aws-cassandra-admin",
              "./usr/share/man/man8/postfix-aws-cassandra-admin.8.gz"]:
        assert f in listing, f
    root = tmp_path / "x"
    assert run("dpkg", "-x", str(deb), str(root)).returncode == 0
    r = run(str(root / "usr/sbin/postfix-aws-cassandra"), "--version")
    assert r.stdout.strip() == f"postfix-aws-cassandra {VERSION}"


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    # verify checks that ExecStart exists and the man page resolves: point the
    # copy at the built binary and MANPATH at our man page.
    from conftest import DAEMON
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/usr/sbin/postfix-aws-cassandra", str(DAEMON)))
    man = tmp_path / "man" / "man8"
    man.mkdir(parents=True)
    shutil.copy(ROOT / "man" / "postfix-aws-cassandra.8", man)
    r = run("systemd-analyze", "verify", str(unit), env={"MANPATH": str(tmp_path / "man"),
                                                       "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    r = run("systemd-analyze", "security", "--offline=true", str(UNIT))
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, m.group(0)
    text = UNIT.read_text()
    for line in ["Type=notify", "User=postfix", "Restart=on-failure", "Before=postfix.service",
                 "EnvironmentFile=-/etc/default/postfix-aws-cassandra",
                 "EnvironmentFile=-/etc/sysconfig/postfix-aws-cassandra",
                 "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec="]:
        assert line in text, line


def test_man_page_renders_without_warnings():
    page = ROOT / "man" / "postfix-aws-cassandra.8"
    r = run("groff", "-ww", "-man", "-Tutf8", str(page))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = run("man", "-l", str(page), env={"MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80",
                                          "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0
    for section in ["SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "SIGNALS", "FILES", "DIAGNOSTICS",
                    "SEE ALSO"]:
        assert section in r.stdout


def test_readme_postfix_snippet_loads_into_postfix():
    snippet = (ROOT / "packaging" / "postfix" / "main.cf.snippet").read_text()
    readme = (ROOT / "README.md").read_text()
    settings, key = {}, None
    for line in snippet.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace():
            settings[key] = (settings[key] + " " + line.strip()).strip()
        else:
            key, _, value = line.partition("=")
            key = key.strip()
            settings[key] = value.strip()
            # The README shows the same settings.
            assert key in readme, key
    assert all("socketmap:tcp:" not in v for v in settings.values())
    pf = PostfixInstance(settings)
    try:
        shown = pf.postconf("-n")
        for key, value in settings.items():
            assert f"{key} = {value}" in shown, key
        r = subprocess.run(["postfix", "-c", str(pf.dir), "check"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "fatal" not in r.stdout + r.stderr
    finally:
        pf.stop()
