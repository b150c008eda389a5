"""The README's demo command: scripts/demo.sh starts cqld with the demo data and
the daemon, prints postmap commands, and every one of them answers as the
comment beside it says. Ctrl-C (here SIGINT/SIGTERM) stops both processes."""
import os
import re
import shlex
import signal
import subprocess
import time

from conftest import BUILD, ROOT


def read_until(proc, marker, timeout=20):
    """Lines of the demo's stdout up to (and including) the one holding marker."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError("demo did not print %r; got:\n%s" % (marker, "".join(lines)))


def children(pid):
    """PIDs whose parent is pid."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_demo_runs_and_its_printed_commands_answer(tmp_path):
    env = dict(os.environ, PORT="0", CQL_PORT="0", PAC_BUILD=str(BUILD))
    proc = subprocess.Popen(["scripts/demo.sh", "--no-build"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        lines = read_until(proc, "Press Ctrl-C to stop.")
        text = "".join(lines)
        port = int(re.search(r"postfix-aws-cassandra on 127\.0\.0\.1:(\d+)", text).group(1))
        assert port > 0
        kids = children(proc.pid)
        assert len(kids) == 2, kids          # cqld and the daemon
        cmds = [l.strip() for l in lines if l.strip().startswith("postmap ")]
        assert len(cmds) == 6
        confdir = tmp_path / "pf"
        confdir.mkdir()
        (confdir / "main.cf").write_text("compatibility_level = 3.6\n")
        # The daemon may still be connecting to cqld: wait for a first OK.
        first = shlex.split(cmds[0].split("#")[0].replace("/tmp/pac-demo", str(confdir)))
        for _ in range(100):
            r = subprocess.run(first, capture_output=True, text=True)
            if r.returncode == 0:
                break
            time.sleep(0.1)
        results = {}
        for c in cmds:
            argv = shlex.split(c.split("#")[0].replace("/tmp/pac-demo", str(confdir)))
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            results[argv[argv.index("-q") + 1]] = (r.returncode, r.stdout.strip())
        assert results["example.com"] == (0, "example.com")
        assert results["Alice@Example.com"] == (0, "example.com/alice/")
        assert results["team@example.com"][0] == 0 and "," in results["team@example.com"][1]
        assert results["example.net"][0] == 0
        assert results["bad.example"][0] == 0 and results["bad.example"][1].startswith("REJECT")
        assert results["old.example"][0] == 1          # inactive domain: not found
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) is not None
    for k in kids:
        assert not os.path.exists(f"/proc/{k}") or "zombie" in open(f"/proc/{k}/status").read().lower()
