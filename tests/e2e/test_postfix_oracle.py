"""Postfix is the oracle: the same rows in lmdb: tables and in this daemon
must give the same SMTP replies and the same deliveries.

Our own reading of virtual(5), access(5) and transport(5) is not the
reference for the search order; Postfix is. One generated row set (fixed
seed, so a failure reproduces) goes into cqld and into lmdb: tables built
with `postmap -c DIR lmdb:FILE`. Private Postfix instances with the same
main.cf except the map names then take the same SMTP dialogue:

  phase A (Postfix's defaults: parent_domain_matches_subdomains, so access
          maps and relay_domains match subdomains with "example.com" rows,
          transport maps with ".example.com" rows; propagate_unmatched_extensions =
          canonical, virtual): lmdb:, socketmap:inet: and socketmap:unix:
          instances
  phase B (recipient_delimiter "+" instead of "+-", so '-' splits nothing
          and owner-/-request are ordinary;
          parent_domain_matches_subdomains flipped: access and
          relay_domains with ".example.com" rows, transport with
          "example.com" rows;
          extensions not propagated): lmdb: and socketmap:inet: instances,
          the daemon's maps configured with parent_domains = dot / yes and
          propagate_extension = no

virtual_mailbox_domains is a string list to Postfix (trivial-rewrite's
resolve.c): the domain itself only, whatever parent_domain_matches_subdomains
says, as the daemon's domains map does by default.

Every case sets the client with XCLIENT (check_client_access: IPv4 and
IPv6 networks, host names and parents), sends EHLO (check_helo_access:
host names and parents), then MAIL FROM and one to three
RCPT TO (check_sender_access, check_recipient_access, virtual mailbox and
alias validation), and DATA when a recipient was accepted. Compared per
case: each SMTP reply (code and text) and, from the delivery log lines of
the discard transports, where the mail went (final recipient, original
recipient, transport tag). Every difference fails the test with both sides.

Not compared: domain aliasing ("@beta.test" -> "@alpha.test") on a row that
is not a catch-all while propagate_unmatched_extensions lacks "virtual":
Postfix then strips the extension from the local part it puts in front, which
it does only when it knows the extension-stripped key matched, and a socketmap
answer cannot tell it that (README). The row set has domain aliasing on a
catch-all only.
"""
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import wait_for
from postfix_instance import PostfixInstance
from smtp_dialogue import Dialogue

SEED = 20261130          # change it to explore; keep it fixed in the tree
DELIMS = "+-"            # RECIPIENT_DELIMITER and recipient_delimiter (phase A)
MIN_CASES = 500
LONG_LOCAL = "x" * 1100  # over LOOKUP_KEY_MAX (1024)

PDMS_DEFAULT = ("debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
                "qmqpd_authorized_clients,relay_domains,smtpd_access_maps")
PDMS_FLIPPED = ("debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
                "qmqpd_authorized_clients,transport_maps")

# The daemon's extra maps for phase B, over the same tables.
DAEMON_CONF = """\
[access_dot]
query          = SELECT action FROM mailion.access_maps WHERE sender = ?
search         = access
parent_domains = dot            # parent_domain_matches_subdomains without smtpd_access_maps

[aliases_noext]
query          = SELECT destination FROM mailion.virtual_aliases WHERE alias = ?
search         = virtual
propagate_extension = no        # propagate_unmatched_extensions without "virtual"

[relay_dot]
query          = SELECT domain, active FROM mailion.relay_domains WHERE domain = ?
search         = domain
parent_domains = dot            # relay_domains not in parent_domain_matches_subdomains

[transport_plain]
query          = SELECT transport FROM mailion.transport_maps WHERE address = ?
search         = transport
parent_domains = yes
"""

PHASES = {
    "A": {"names": ("domains", "users", "virtual_aliases", "transport_maps", "access_maps",
                    "relay_domains"),
          "pdms": PDMS_DEFAULT, "propagate": "canonical, virtual", "delims": DELIMS},
    "B": {"names": ("domains", "users", "aliases_noext", "transport_plain", "access_dot",
                    "relay_dot"),
          "pdms": PDMS_FLIPPED, "propagate": "canonical", "delims": "+"},
}

SCHEMA = """\
CREATE KEYSPACE mailion WITH replication = {'class': 'SingleRegionStrategy'};
CREATE TABLE mailion.domains (domain text, active boolean, PRIMARY KEY (domain));
CREATE TABLE mailion.users (email text, active boolean, PRIMARY KEY (email));
CREATE TABLE mailion.relay_domains (domain text, active boolean, PRIMARY KEY (domain));
CREATE TABLE mailion.virtual_aliases (alias text, destination text, PRIMARY KEY (alias, destination));
CREATE TABLE mailion.transport_maps (address text, transport text, PRIMARY KEY (address));
CREATE TABLE mailion.access_maps (sender text, action text, PRIMARY KEY (sender));
"""


# ---------------------------------------------------------------- the rows

class Rows:
    """One row set; rendered as CQL for cqld and as postmap sources."""

    def __init__(self):
        self.domains = {}        # domain -> active
        self.relay = {}          # domain -> active
        self.users = {}          # email -> active
        self.aliases = {}        # alias -> [destination, ...]
        self.transport = {}      # address -> transport
        self.access = {}         # key -> action

    def cql(self):
        def q(s):
            return "'" + s.replace("'", "''") + "'"
        out = [SCHEMA]
        for d, a in self.domains.items():
            out.append(f"INSERT INTO mailion.domains (domain, active) VALUES ({q(d)}, {str(a).lower()});")
        for d, a in self.relay.items():
            out.append(f"INSERT INTO mailion.relay_domains (domain, active) VALUES ({q(d)}, {str(a).lower()});")
        for e, a in self.users.items():
            out.append(f"INSERT INTO mailion.users (email, active) VALUES ({q(e)}, {str(a).lower()});")
        for k, dests in self.aliases.items():
            for d in dests:
                out.append("INSERT INTO mailion.virtual_aliases (alias, destination) "
                           f"VALUES ({q(k)}, {q(d)});")
        for k, v in self.transport.items():
            out.append(f"INSERT INTO mailion.transport_maps (address, transport) VALUES ({q(k)}, {q(v)});")
        for k, v in self.access.items():
            out.append(f"INSERT INTO mailion.access_maps (sender, action) VALUES ({q(k)}, {q(v)});")
        return "\n".join(out) + "\n"

    def sources(self):
        """postmap source text per table, with what the daemon answers for
        the row: inactive rows are absent, aliases joined with ', ' (in the
        clustering order, as cqld returns them), users formatted with
        %d/%u/ (a value with an empty part is discarded: no row)."""
        users = {}
        for e, a in self.users.items():
            local, _, dom = e.rpartition("@")
            if a and local and dom:
                users[e] = f"{dom}/{local}/"
        return {
            "domains": {d: d for d, a in self.domains.items() if a},
            "relay_domains": {d: d for d, a in self.relay.items() if a},
            "users": users,
            "virtual_aliases": {k: ", ".join(sorted(v)) for k, v in self.aliases.items()},
            "transport": dict(self.transport),
            "access": dict(self.access),
        }


LOCALS = ["alice", "bob", "carol", "dave", "postmaster", "mailer-daemon", "double-bounce",
          "owner-list", "list-request", "owner", "list", "request", "team", "solo", "fwd",
          "evil", "badguy", "vip", "a", "-lead", "+lead", "lead", "x-request", "owner-",
          "j\u00f6rg", "info"]
EXTS = ["", "+foo", "-bar", "+a-b", "-x+y", "+", "-", "++", "+-request"]


def build_rows(rng):
    r = Rows()
    # Virtual mailbox domains: plain rows, a ".parent" row, an inactive one.
    for d in ("alpha.test", "gamma.test", "delta.test", "x.delta.test", "epsilon.test",
              "y.epsilon.test"):
        r.domains[d] = True
    r.domains[".delta.test"] = True              # never matches: a string list
    r.domains["inactive.test"] = False
    r.domains["x.epsilon.test"] = False
    # Relay domains: a domain list to Postfix, so parent rows count.
    r.relay["relay.test"] = True
    r.relay[".dotrelay.test"] = True
    r.relay["dotrelay.test"] = True
    r.relay["x.offrelay.test"] = False
    r.relay["offrelay.test"] = True
    # Mailboxes, including the local parts split_addr() never splits.
    for local in ("alice", "bob", "postmaster", "mailer-daemon", "double-bounce",
                  "owner-list", "list-request", "owner", "list", "-lead", "lead",
                  "x-request", "j\u00f6rg", "info", "a"):
        r.users[f"{local}@alpha.test"] = True
    r.users["carol@alpha.test"] = False          # inactive
    r.users["@gamma.test"] = True                # catch-all: %u is empty, discarded
    r.users["u@gamma.test"] = True
    r.users["u@delta.test"] = True
    r.users["u@x.delta.test"] = True
    r.users["@epsilon.test"] = True
    r.users["u@epsilon.test"] = True
    r.users["u@y.epsilon.test"] = True
    # Alias domains (virtual_alias_domains = $virtual_alias_maps) and aliases.
    r.aliases["beta.test"] = ["alias-domain"]
    r.aliases["zeta.test"] = ["alias-domain"]
    r.aliases["team@beta.test"] = ["alice@alpha.test", "bob@alpha.test", "u@gamma.test"]
    r.aliases["solo@beta.test"] = ["alice@alpha.test"]
    r.aliases["@beta.test"] = ["postmaster@alpha.test"]
    r.aliases["owner-list@beta.test"] = ["list@alpha.test"]
    r.aliases["list-request@beta.test"] = ["bob@alpha.test"]
    r.aliases["list@beta.test"] = ["carol@alpha.test", "info@alpha.test"]
    r.aliases["postmaster@beta.test"] = ["info@alpha.test"]
    r.aliases["mailer-daemon@beta.test"] = ["bob@alpha.test"]
    r.aliases["-lead@beta.test"] = ["lead@alpha.test"]
    r.aliases["@zeta.test"] = ["@alpha.test"]    # domain aliasing: the user is kept
    # Quoted local parts: Postfix asks the quoted (external) form first.
    r.aliases['"a..b"@beta.test'] = ["info@alpha.test"]
    r.aliases["c..d@beta.test"] = ["bob@alpha.test"]
    r.aliases['"e.f."@beta.test'] = ["alice@alpha.test"]
    r.aliases["alice@alpha.test"] = ["alice@alpha.test", "bob@alpha.test"]
    # Transports: tags that the discard transport logs.
    r.transport["*"] = "discard:star"
    r.transport["alpha.test"] = "discard:t-alpha"
    r.transport["bob@alpha.test"] = "discard:t-bob"
    r.transport["alice+vip@alpha.test"] = "discard:t-alice-vip"
    r.transport["postmaster@alpha.test"] = "discard:t-postmaster"
    r.transport["owner@alpha.test"] = "discard:t-owner"
    r.transport["list@alpha.test"] = "discard:t-list"
    r.transport["lead@alpha.test"] = "discard:t-lead"
    r.transport["delta.test"] = "discard:t-delta-plain"
    r.transport[".delta.test"] = "discard:t-delta-dot"
    r.transport["x.delta.test"] = "discard:t-x-delta"
    r.transport["epsilon.test"] = "discard:t-epsilon-plain"
    # Access rules for senders, recipients, client names and addresses.
    r.access["spam.test"] = "REJECT a-spam"
    r.access["dotspam.test"] = "REJECT a-dotspam-plain"
    r.access[".dotspam.test"] = "REJECT a-dotspam-dot"
    r.access["evil@good.test"] = "REJECT a-evil"
    r.access["evil+x@good.test"] = "OK"
    r.access["badguy@"] = "REJECT a-badguy-anywhere"
    r.access["postmaster@"] = "OK"
    r.access["mailer-daemon@"] = "REJECT a-mailer-daemon"
    r.access["owner-list@"] = "REJECT a-owner-list"
    r.access["lead@"] = "REJECT a-lead"
    r.access["good.test"] = "DUNNO"
    r.access["vip@alpha.test"] = "OK"
    r.access["dave@alpha.test"] = "550 5.7.1 a-dave-rcpt"
    r.access["10.1.2"] = "REJECT a-net-10-1-2"
    r.access["1.2"] = "REJECT a-suffix-1-2"
    r.access["192.0.2.55"] = "554 5.7.1 a-client-55"
    r.access["172.16"] = "REJECT a-net-172-16"
    r.access["2001:db8:1"] = "REJECT a-v6-net"
    r.access["2001:db8:2::7"] = "REJECT a-v6-host"
    r.access["host.bad.test"] = "REJECT a-badhost"
    r.access["bad.test"] = "REJECT a-bad-plain"
    r.access[".bad.test"] = "REJECT a-bad-dot"
    r.access["test.example"] = "REJECT a-tld-like"
    r.access["<>"] = "550 5.7.1 a-null-sender"    # smtpd_null_access_lookup_key
    r.access["2.3]"] = "REJECT a-literal-suffix"  # domain walk of [10.1.2.3]
    # Random extra rows over the same vocabulary.
    for i in range(60):
        local = rng.choice(LOCALS).replace("\u00f6", "o")
        ext = rng.choice(EXTS) if rng.random() < 0.3 else ""
        dom = rng.choice(["alpha.test", "beta.test", "gamma.test", "good.test", "x.delta.test"])
        key = f"{local}{ext}@{dom}"
        kind = rng.random()
        if kind < 0.3 and dom != "beta.test":
            r.transport.setdefault(key, f"discard:r-{i}")
        elif kind < 0.6:
            r.access.setdefault(key, rng.choice([f"REJECT r-{i}", "OK", "DUNNO",
                                                 f"450 4.7.1 r-{i}"]))
        elif dom == "beta.test":
            r.aliases.setdefault(key, ["info@alpha.test"])
        elif dom in ("alpha.test", "gamma.test"):
            r.users.setdefault(key, rng.random() < 0.8)
    return r


# ---------------------------------------------------------------- the corpus

SENDER_DOMAINS = ["good.test", "spam.test", "mail.spam.test", "dotspam.test",
                  "x.dotspam.test", "bad.test", "a.bad.test", "alpha.test", "elsewhere.test",
                  "Good.TEST", "SPAM.test.", "test.example", "sub.test.example"]
RCPT_DOMAINS = ["alpha.test"] * 6 + ["ALPHA.Test", "beta.test", "beta.test", "gamma.test",
                                     "delta.test", "x.delta.test", "y.x.delta.test",
                                     "epsilon.test", "x.epsilon.test", "y.epsilon.test",
                                     "inactive.test", "zeta.test", "unknown.test",
                                     "alpha.test.", "relay.test", "a.relay.test",
                                     "b.a.relay.test", "dotrelay.test", "x.dotrelay.test",
                                     "offrelay.test", "x.offrelay.test"]
CLIENTS = [("198.51.100.7", "[UNAVAILABLE]"), ("10.1.2.3", "[UNAVAILABLE]"),
           ("10.20.1.2", "[UNAVAILABLE]"), ("10.1.20.3", "[UNAVAILABLE]"),
           ("192.0.2.55", "[UNAVAILABLE]"), ("192.0.2.5", "[UNAVAILABLE]"),
           ("172.16.9.9", "[UNAVAILABLE]"), ("198.51.100.8", "host.bad.test"),
           ("198.51.100.9", "other.bad.test"), ("198.51.100.10", "deep.host.bad.test"),
           ("198.51.100.11", "Host.Bad.Test"), ("198.51.100.12", "fine.example"),
           ("IPV6:2001:db8:1::5", "[UNAVAILABLE]"), ("IPV6:2001:db8:2::7", "[UNAVAILABLE]"),
           ("IPV6:2001:db8:2::8", "[UNAVAILABLE]"), ("IPV6:2001:db8:10::1", "[UNAVAILABLE]")]


def vary_case(rng, s):
    return "".join(c.upper() if rng.random() < 0.3 else c for c in s)


def address(rng, domains):
    local = rng.choice(LOCALS)
    ext = rng.choice(EXTS) if rng.random() < 0.5 else ""
    lp = f"{local}{ext}"
    if lp[0] == "-":
        lp = f'"{lp}"'      # smtpd refuses an unquoted address that starts with '-'
    a = f"{lp}@{rng.choice(domains)}"
    return vary_case(rng, a) if rng.random() < 0.25 else a


SPECIAL_SENDERS = ["", LONG_LOCAL + "@spam.test", LONG_LOCAL + "@good.test",
                   b"x\xe9@spam.test", b"x\xe9@good.test", '"evil"@good.test',
                   '"a..b"@spam.test', '""@spam.test', '""@good.test', "evil+x@good.test",
                   "EVIL+X@Good.Test", "badguy+z@anywhere.test", "Postmaster@spam.test",
                   "MAILER-DAEMON@good.test", "owner-list@good.test", "owner-list-x@good.test",
                   '"-lead+x"@good.test', "lead-x@good.test", "lead@x.dotspam.test",
                   "x@[10.1.2.3]", "x@[192.0.2.9]", "postmaster@[10.1.2.3]"]
SPECIAL_RCPTS = [LONG_LOCAL + "@alpha.test", b"x\xe9@alpha.test", b"j\xc3\xb6rg@alpha.test",
                 '"alice"@alpha.test', '"a b"@beta.test', '""@beta.test', '"team"@beta.test',
                 "team+x@beta.test", "team-x@beta.test", "owner-list-x@beta.test",
                 "list-request@beta.test", "x-list-request@beta.test", "postmaster+x@beta.test",
                 "MAILER-DAEMON-x@beta.test", '"-lead"@beta.test', '"-lead+x"@beta.test',
                 "+lead@beta.test", "alice+vip@alpha.test", "alice+vip-x@alpha.test",
                 "bob-x@zeta.test", "dave@alpha.test", "dave+x@alpha.test", "carol@alpha.test",
                 "u@delta.test", "u@x.delta.test", "u@y.x.delta.test", "u@y.epsilon.test",
                 "u+q@x.delta.test", "anyone@gamma.test", "u@inactive.test",
                 '"a..b"@beta.test', '"a..b+x"@beta.test', '"a..b"+x@beta.test',
                 '"c..d"@beta.test', '"c..d-y"@beta.test', '"e.f."@beta.test', '"e f"@beta.test',
                 '"e.f.+z"@beta.test', '"e+f"@beta.test', '"x\\"y"@beta.test',
                 '"team+q"@beta.test', '"Team-Q"@Beta.Test']


# HELO names for check_helo_access: host names walk their parent domains.
# Not an address literal or a bare IPv4/IPv6 address: Postfix looks those up
# whole, while the daemon cannot tell them from a client address and tries
# the networks too (README).
HELOS = ["client.test"] * 24 + ["mail.spam.test", "x.dotspam.test", "dotspam.test",
                               "host.bad.test", "a.b.bad.test", "Mail.Spam.Test", "good.test",
                               "sub.test.example", "helo.test."]


def client(rng):
    """Half the cases from a client no rule names, so that the sender and
    recipient rules get their turn."""
    return CLIENTS[0] if rng.random() < 0.5 else rng.choice(CLIENTS)


def build_cases(rng):
    cases = []
    for s in SPECIAL_SENDERS:
        cases.append((client(rng), s, ["alice@alpha.test"], "client.test"))
    for rcpt in SPECIAL_RCPTS:
        cases.append((CLIENTS[0], "someone@good.test", [rcpt], "client.test"))
    for c in CLIENTS:
        cases.append((c, "someone@good.test", ["bob@alpha.test"], "client.test"))
    for h in HELOS:
        cases.append((CLIENTS[0], "someone@good.test", ["bob@alpha.test"], h))
    while len(cases) < MIN_CASES + 40:
        roll = rng.random()
        sender = (address(rng, SENDER_DOMAINS) if roll < 0.5 else
                  address(rng, ["good.test", "elsewhere.test"]) if roll < 0.92 else "")
        rcpts = [address(rng, RCPT_DOMAINS) for _ in range(rng.randint(1, 3))]
        cases.append((client(rng), sender, rcpts, rng.choice(HELOS)))
    return cases


# ---------------------------------------------------------------- Postfix side

def main_cf(maps, pdms, propagate, delims):
    d, u, a, t, acc, rel = maps
    return {
        "relay_domains": rel,
        "virtual_mailbox_domains": d,
        "virtual_mailbox_maps": u,
        "virtual_alias_maps": a,
        "virtual_transport": "discard:vbox",
        "transport_maps": t,
        "default_transport": "discard:default",
        "relay_transport": "discard:relay",
        "recipient_delimiter": delims,
        "propagate_unmatched_extensions": propagate,
        "parent_domain_matches_subdomains": pdms,
        # After XCLIENT the client is the one named: it must be allowed to
        # send the next XCLIENT (smtpd listens on 127.0.0.1 only).
        "smtpd_authorized_xclient_hosts": "0.0.0.0/0, [::]/0",
        "smtpd_recipient_restrictions": (f"check_client_access {acc}, check_helo_access {acc}, "
                                         f"check_sender_access {acc}, "
                                         f"check_recipient_access {acc}, permit"),
        "inet_protocols": "all",        # XCLIENT takes IPv6 client addresses
        "smtpd_error_sleep_time": "0",
        "smtpd_soft_error_limit": "100000",
        "smtpd_hard_error_limit": "100000",
        "smtpd_junk_command_limit": "100000",
        "smtpd_recipient_limit": "10000",
        "smtpd_client_connection_count_limit": "0",
        "smtpd_timeout": "120s",
        "line_length_limit": "4096",
        "bounce_queue_lifetime": "0",
        "maximal_queue_lifetime": "0",
    }


def lmdb_maps(dirpath, rows, postmap_conf):
    """Build the lmdb: tables with postmap; return the six map names."""
    names = {}
    for table, entries in rows.sources().items():
        src = dirpath / table
        src.write_bytes(b"".join(k.encode() + b"\t" + v.encode() + b"\n"
                                 for k, v in entries.items()))
        subprocess.run(["postmap", "-c", str(postmap_conf), f"lmdb:{src}"], check=True,
                       capture_output=True, timeout=60)
        names[table] = f"lmdb:{src}"
    return (names["domains"], names["users"], names["virtual_aliases"], names["transport"],
            names["access"], names["relay_domains"])


QUEUED = re.compile(r"queued as (\w+)")
DELIVERY = re.compile(r"postfix/\w+(?:/\w+)?\[\d+\]: (\w+): to=<([^>]*)>,(?: orig_to=<([^>]*)>,)?"
                      r" relay=([^,]*), .*? dsn=([\d.]+), status=(\w+) \((.*)\)$")


def run_dialogue(pf, cases):
    """All cases through one SMTP session; returns per case the list of
    (command, code, text) and the queue id of its message, if any."""
    out = []
    with Dialogue(pf.port) as s:
        for (addr, name), sender, rcpts, helo in cases:
            steps = []
            code, text = s.cmd(f"XCLIENT ADDR={addr} NAME={name}")
            steps.append(("XCLIENT", code, text.split(" ", 1)[0]))
            steps.append(("EHLO", s.cmd(f"EHLO {helo}")[0], ""))
            snd = sender if isinstance(sender, bytes) else sender.encode()
            code, text = s.cmd(b"MAIL FROM:<" + snd + b">")
            steps.append(("MAIL", code, text))
            accepted = 0
            for r in rcpts:
                rb = r if isinstance(r, bytes) else r.encode()
                code, text = s.cmd(b"RCPT TO:<" + rb + b">")
                steps.append(("RCPT", code, text))
                accepted += code // 100 == 2
            qid = None
            if accepted and steps[2][1] // 100 == 2:
                code, text = s.cmd("DATA")
                if code == 354:
                    code, text = s.cmd("Subject: oracle\r\n\r\nhello\r\n.")
                    m = QUEUED.search(text)
                    qid = m.group(1) if m else None
                    text = QUEUED.sub("queued as QID", text)
                steps.append(("DATA", code, text))
            else:
                steps.append(("RSET", s.cmd("RSET")[0], ""))
            out.append((steps, qid))
    return out


def deliveries(pf, qids, timeout=180):
    """{qid: sorted delivery tuples} once every message left the queue."""
    want = {q for q in qids if q}

    def done():
        log = pf.log()
        removed = set(re.findall(r": (\w+): removed", log))
        return log if want <= removed else None
    log = wait_for(done, timeout=timeout, interval=0.5, what=f"{pf.dir}: queue to drain")
    got = {}
    for line in log.splitlines():
        m = DELIVERY.search(line)
        if m and m.group(1) in want:
            qid, to, orig, relay, dsn, status, text = m.groups()
            got.setdefault(qid, []).append((to, orig or "", relay.split("[")[0], dsn, status, text))
    return {q: sorted(v) for q, v in got.items()}


def observe(pf, cases):
    """What a person sees for each case: replies and deliveries."""
    dialogue = run_dialogue(pf, cases)
    dl = deliveries(pf, [q for _, q in dialogue])
    return [(steps, dl.get(q, []) if q else []) for steps, q in dialogue]


def show(case):
    (addr, name), sender, rcpts, helo = case
    return f"client {addr} ({name}), EHLO {helo}, MAIL FROM:<{sender!r}>, RCPT TO: {rcpts!r}"


def compare(cases, ref_name, ref, other_name, other):
    diffs = []
    for case, a, b in zip(cases, ref, other):
        if a != b:
            diffs.append(f"{show(case)}\n  {ref_name}: {a}\n  {other_name}: {b}")
    return diffs


# ---------------------------------------------------------------- the test

def test_daemon_answers_as_postfix_lmdb_tables_do(tmp_path, start_cqld, start_daemon):
    rng = random.Random(SEED)
    rows = build_rows(rng)
    cases = build_cases(rng)
    assert len(cases) >= MIN_CASES

    cql = tmp_path / "oracle.cql"
    cql.write_text(rows.cql())
    # PAC_ORACLE_PHASES=A runs phase A alone (no map file: a build older
    # than parent_domains = dot can be compared too).
    phases = {p: PHASES[p] for p in os.environ.get("PAC_ORACLE_PHASES", "AB")}
    conf = tmp_path / "oracle.conf"
    conf.write_text(DAEMON_CONF if "B" in phases else "")
    # Postfix's daemons run as the postfix user: the socket's directory and
    # the lmdb files must be reachable by it (pytest's tmp_path is not).
    shared = Path(tempfile.mkdtemp(prefix="pac-oracle-"))
    shared.chmod(0o755)
    pm_conf = tmp_path / "postmap-conf"
    pm_conf.mkdir()
    (pm_conf / "main.cf").write_text("compatibility_level = 3.6\n")
    instances = []
    try:
        cqld = start_cqld(cql)
        lmdb = lmdb_maps(shared, rows, pm_conf)
        failures, summary = [], []
        for phase, spec in phases.items():
            # One daemon per phase: RECIPIENT_DELIMITER is the daemon's own.
            sock = shared / f"pac-{phase}.sock"
            daemon = start_daemon(cqld.port, RECIPIENT_DELIMITER=spec["delims"],
                                  CONFIG_FILE=conf, LISTEN_MODE="0666",
                                  LISTEN=f"inet:127.0.0.1:0,unix:{sock}")
            wait_for(sock.exists, what="the daemon's unix socket")
            inet = f"socketmap:inet:127.0.0.1:{daemon.port}:"
            unix = f"socketmap:unix:{sock}:"
            setups = [("lmdb", lmdb), ("socketmap:inet", tuple(inet + n for n in spec["names"]))]
            if phase == "A":
                setups.append(("socketmap:unix", tuple(unix + n for n in spec["names"])))
            seen = {}
            for label, maps in setups:
                pf = PostfixInstance(main_cf(maps, spec["pdms"], spec["propagate"],
                                             spec["delims"]))
                instances.append(pf)
                pf.start()
                seen[label] = observe(pf, cases)
                if os.environ.get("PAC_ORACLE_DUMP"):
                    with open(f"{os.environ['PAC_ORACLE_DUMP']}.{phase}.{label.replace(':', '_')}",
                              "w") as f:
                        for case, obs in zip(cases, seen[label]):
                            f.write(f"{show(case)}\n  {obs}\n")
                        f.write(pf.log())
            for label, _ in setups[1:]:
                diffs = compare(cases, "lmdb", seen["lmdb"], label, seen[label])
                if diffs:
                    summary.append(f"phase {phase}, {label}: {len(diffs)} of {len(cases)} cases")
                failures += [f"[phase {phase}, {label}] {d}" for d in diffs]
            # The suite must see both outcomes, or it proves nothing.
            replies = [st for obs in seen["lmdb"] for st in obs[0]]
            assert any(c // 100 == 5 and cmd == "RCPT" for cmd, c, _ in replies)
            assert sum(1 for obs in seen["lmdb"] if obs[1]) > 50
        assert not failures, ("differences from Postfix with lmdb: tables (seed "
                              f"{SEED}): " + "; ".join(summary) + "\n" +
                              "\n".join(failures[:40]))
    finally:
        for pf in instances:
            pf.stop()
        shutil.rmtree(shared, ignore_errors=True)
