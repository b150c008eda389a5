"""An operator points Postfix at the daemon and looks up every map.

cqld serves examples/demo.cql (the seed schema with sample rows); every
lookup goes through Debian's real postmap over socketmap:inet:.
"""
import pytest

from conftest import DATA

FOUND = [
    ("domains", "example.com", "example.com"),
    ("relay_domains", "relay.example", "relay.example"),
    ("users", "alice@example.com", "example.com/alice/"),
    ("virtual_aliases", "info@example.com", "alice@example.com"),
    ("virtual_aliases", "team@example.com", "alice@example.com, bob@example.com"),
    ("transport_maps", "example.net", "smtp:[relay.example.net]:587"),
    ("access_maps", "spammer@bad.example", "REJECT spam source"),
    ("access_maps", "friend@partner.example", "OK"),
]

INACTIVE = [
    ("domains", "old.example"),
    ("relay_domains", "gone.example"),
    ("users", "carol@example.com"),
]

MISSING = [
    ("domains", "nowhere.example"),
    ("relay_domains", "example.com"),
    ("users", "mallory@example.com"),
    ("virtual_aliases", "nobody@example.com"),
    ("transport_maps", "example.org"),
    ("access_maps", "someone@good.example"),
]


@pytest.fixture
def demo(start_cqld, start_daemon):
    cqld = start_cqld()
    daemon = start_daemon(cqld.port)
    return daemon


def test_every_map_answers_found_rows(demo, postmap):
    for name, key, value in FOUND:
        assert postmap.query(demo.port, name, key) == ("OK", value), (name, key)


def test_inactive_rows_are_not_found(demo, postmap):
    for name, key in INACTIVE:
        assert postmap.query(demo.port, name, key) == ("NOTFOUND", ""), (name, key)


def test_missing_rows_are_not_found(demo, postmap):
    for name, key in MISSING:
        assert postmap.query(demo.port, name, key) == ("NOTFOUND", ""), (name, key)


def test_keys_are_folded_to_lower_case(demo, postmap):
    # Real smtpd sends keys as they came in the SMTP session.
    assert postmap.query(demo.port, "users", "Alice@Example.COM") == ("OK", "example.com/alice/")
    assert postmap.query(demo.port, "domains", "EXAMPLE.com") == ("OK", "example.com")
    assert postmap.query(demo.port, "virtual_aliases", "INFO@example.com") == ("OK", "alice@example.com")


def test_unknown_map_is_a_permanent_error(demo, postmap):
    status, detail = postmap.query(demo.port, "mailboxes", "alice@example.com")
    assert status == "PERM"
    assert "unknown map name 'mailboxes'" in detail


def test_several_rows_for_one_key_are_joined(start_cqld, start_daemon, postmap):
    cqld = start_cqld(DATA / "clustered_aliases.cql")
    daemon = start_daemon(cqld.port)
    assert postmap.query(daemon.port, "virtual_aliases", "staff@example.com") == \
        ("OK", "alice@example.com, bob@example.com, carol@example.org")
    assert postmap.query(daemon.port, "virtual_aliases", "solo@example.com") == \
        ("OK", "dave@example.com")
    # An empty destination is no destination: Postfix must never get "OK ".
    assert postmap.query(daemon.port, "virtual_aliases", "empty@example.com") == ("NOTFOUND", "")


def test_missing_table_is_perm_and_other_maps_keep_working(start_cqld, start_daemon, postmap):
    # Only virtual_aliases exists in this keyspace: the other maps' statements
    # are refused by the server, which is a configuration problem, not "no row".
    cqld = start_cqld(DATA / "clustered_aliases.cql")
    daemon = start_daemon(cqld.port)
    assert postmap.query(daemon.port, "virtual_aliases", "solo@example.com") == ("OK", "dave@example.com")
    status, detail = postmap.query(daemon.port, "domains", "example.com")
    assert status == "PERM", detail
    assert "map domains" in detail
