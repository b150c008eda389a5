"""Catch-alls, domain-wide sender rules, extensions and domain transports
work through a real Postfix, because the daemon expands Postfix's table
search order itself (Postfix sends a socketmap table the full key only).

A private Postfix instance (postfix -c DIR, smtpd on an ephemeral loopback
port, virtual_transport = discard:) is driven with smtplib.
"""
import smtplib

import pytest

from conftest import DATA
from postfix_instance import PostfixInstance, daemon_maps

MSG = "Subject: search order test\r\n\r\nhello\r\n"


@pytest.fixture
def mx(start_cqld, start_daemon):
    cqld = start_cqld(DATA / "search.cql")
    daemon = start_daemon(cqld.port)
    pf = PostfixInstance(daemon_maps(daemon.port))
    pf.start()
    pf.daemon = daemon
    yield pf
    pf.stop()


def send(pf, sender, rcpt):
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.test")
        return s.sendmail(sender, [rcpt], MSG)


def test_catch_all_alias_accepts_any_address_of_the_domain(mx):
    assert send(mx, "someone@sender.test", "nobody@example.com") == {}


def test_address_extension_matches_the_mailbox(mx):
    assert send(mx, "someone@sender.test", "alice+tag@example.com") == {}
    assert send(mx, "someone@sender.test", "ALICE@Example.COM") == {}


def test_domain_wide_sender_rule_rejects_a_subdomain_with_its_text(mx):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        send(mx, "bob@mail.spam.test", "alice@example.com")
    code, text = e.value.recipients["alice@example.com"]
    assert code == 554
    assert b"spam.test is a known spam source" in text


def test_unknown_domain_is_still_refused(mx):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(mx, "someone@sender.test", "alice@elsewhere.test")


def test_transport_for_an_address_in_a_domain(mx, postmap):
    port = mx.daemon.port
    assert postmap.query(port, "transport_maps", "joe@example.net") == ("OK", "smtp:[relay]")
    assert postmap.query(port, "transport_maps", "joe@mx.example.org") == ("OK", "relay:[sub-relay]")
    assert postmap.query(port, "transport_maps", "joe@example.com") == ("NOTFOUND", "")
    assert postmap.query(port, "access_maps", "postmaster@anything.test") == ("OK", "OK")
    assert postmap.query(port, "users", "alice+x@example.com") == ("OK", "example.com/alice/")


# Issue 11, item 1: a local part that cannot be a key (over 1024 bytes, or not
# UTF-8) must not hide the domain rows. On 18c8247 the whole lookup was
# NOTFOUND without a query, and a blocked sender domain got through.
@pytest.mark.parametrize("local", [b"x" * 1100, b"x\xe9"], ids=["1100-bytes", "not-utf8"])
def test_invalid_local_part_still_meets_the_domain_rule(mx, local):
    from smtp_dialogue import Dialogue
    with Dialogue(mx.port) as s:
        assert s.cmd("EHLO client.test")[0] == 250
        assert s.cmd(b"MAIL FROM:<" + local + b"@spam.test>")[0] == 250
        code, text = s.cmd("RCPT TO:<alice@example.com>")
    assert code == 554, (code, text)
    assert "spam.test is a known spam source" in text


def test_request_sized_local_part_still_meets_the_domain_rule(start_cqld, start_daemon):
    """A key near the 100000-byte request limit: folded and expanded whole,
    the short domain candidates are read (issue 11, item 1)."""
    from conftest import netstring, raw_connect, read_netstring
    cqld = start_cqld(DATA / "search.cql")
    daemon = start_daemon(cqld.port)
    local = b"x" * 99000
    with raw_connect(daemon.port) as s:
        for key, want in ((local + b"@mail.spam.test", b"OK REJECT spam.test is a known spam source"),
                          (local + b"+tag@mail.spam.test", b"OK REJECT spam.test is a known spam source"),
                          (b"\x01" * 99000 + b"@spam.test", b"OK REJECT spam.test is a known spam source"),
                          (local + b"@elsewhere.test", b"NOTFOUND ")):
            s.sendall(netstring(b"access_maps " + key))
            assert read_netstring(s, timeout=30) == want, key[-20:]
    assert daemon.proc.poll() is None
