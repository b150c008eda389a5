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
