"""Where the daemon says it listens, and how its metrics endpoint answers HTTP.

With PORT=0 (and METRICS_LISTEN=...:0) the kernel picks the ports; the log
names the ports actually bound, so an operator (or a test) can find them.
"""
import re
import urllib.request

from conftest import wait_for


def metrics_url(daemon):
    """The metrics URL the daemon logged at startup."""
    m = wait_for(lambda: re.search(r"metrics at (http://127\.0\.0\.1:(\d+)/metrics)",
                                   daemon.log_text()), what="the metrics endpoint log line")
    assert m.group(2) != "0", daemon.log_text()
    return m.group(1)


def test_port_0_logs_the_port_bound(start_cqld, start_daemon, postmap):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, PORT=0)
    assert daemon.port != 0
    assert f"listening on inet:127.0.0.1:{daemon.port}\n" in daemon.log_text(), daemon.log_text()
    assert "127.0.0.1:0\n" not in daemon.log_text()
    assert postmap.query(daemon.port, "domains", "example.com") == ("OK", "example.com")


def test_unix_listener_is_logged_by_path(tmp_path, start_cqld, start_daemon):
    cqld = start_cqld()
    path = tmp_path / "sm.sock"
    daemon = start_daemon(cqld.port, LISTEN=f"unix:{path},inet:127.0.0.1:0")
    text = daemon.log_text()
    assert f"listening on unix:{path}\n" in text, text
    assert f"listening on inet:127.0.0.1:{daemon.port}\n" in text, text


def test_metrics_endpoint_is_logged_with_its_port_and_answers_head(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port, METRICS_LISTEN="127.0.0.1:0")
    url = metrics_url(daemon)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        body = r.read()
    assert b"postfix_aws_cassandra_requests_total" in body
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert r.read() == b""
    # Other methods are still refused.
    req = urllib.request.Request(url, method="POST", data=b"")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("POST /metrics was accepted")
    except urllib.error.HTTPError as e:
        assert e.code in (405, 501), e.code
