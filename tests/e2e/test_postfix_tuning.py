"""The README's "Tuning Postfix for socketmap tables" keeps mail right.

The settings that save socketmap lookups on a server that hosts mailbox
domains and does not relay (virtual_alias_domains and relay_domains empty,
smtpd_delay_reject = no; bench/run.py scenario 8 counts what they save)
must not change what happens to mail: aliases in mailbox domains still
expand (virtual aliasing applies to every recipient), unknown mailboxes are
still refused at RCPT TO, and a blocked sender is still refused. A private
Postfix with the daemon's maps on socketmap:unix: (how a chrooted smtpd
reaches it), driven with smtplib.
"""
import smtplib
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, wait_for
from postfix_instance import PostfixInstance

MSG = "Subject: tuning test\r\n\r\nhello\r\n"
TUNED = {"virtual_alias_domains": "", "relay_domains": "", "smtpd_delay_reject": "no"}


@pytest.fixture
def mx(start_cqld, start_daemon):
    # The socket's directory must be reachable by the postfix user (tmp_path is not).
    shared = Path(tempfile.mkdtemp(prefix="pac-tuning-"))
    shared.chmod(0o755)
    sock = shared / "pac.sock"
    cqld = start_cqld(ROOT / "examples" / "demo.cql")
    daemon = start_daemon(cqld.port, LISTEN=f"unix:{sock},inet:127.0.0.1:0", LISTEN_MODE="0666")
    wait_for(sock.exists, what="the daemon's unix socket")
    sm = f"socketmap:unix:{sock}:"
    settings = {
        "virtual_mailbox_domains": sm + "domains",
        "virtual_mailbox_maps": sm + "users",
        "virtual_alias_maps": sm + "virtual_aliases",
        "virtual_transport": "discard:",
        "transport_maps": sm + "transport_maps",
        "smtpd_sender_restrictions": f"check_sender_access {sm}access_maps, permit",
        **TUNED,
    }
    pf = PostfixInstance(settings)
    pf.start()
    yield pf
    pf.stop()
    sock.unlink(missing_ok=True)
    shared.rmdir()


def send(pf, sender, rcpts):
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as s:
        s.ehlo("client.test")
        return s.sendmail(sender, rcpts, MSG)


def test_tuned_main_cf_keeps_aliases_and_refusals(mx):
    # One Postfix for all the checks: an instance costs seconds to start.
    assert mx.postconf("-h", *TUNED).splitlines() == list(TUNED.values())

    assert send(mx, "someone@sender.test", ["team@example.com"]) == {}
    wait_for(lambda: mx.log().count("orig_to=<team@example.com>") >= 2
             and mx.log().count("status=sent") >= 2, timeout=60, what="both alias targets delivered")
    log = mx.log()
    for target in ("alice@example.com", "bob@example.com"):
        assert f"to=<{target}>, orig_to=<team@example.com>" in log, log

    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        send(mx, "someone@sender.test", ["nobody@example.com"])
    assert e.value.recipients["nobody@example.com"][0] == 550
    # smtpd_delay_reject = no: the sender is refused at MAIL FROM, with its text.
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        send(mx, "spammer@bad.example", ["alice@example.com"])
    assert e.value.smtp_code == 554 and b"spam source" in e.value.smtp_error, e.value
