#!/usr/bin/python3
"""make_corpus - write the seed corpora under fuzz/corpus/<target>/.

Small hand-made inputs for each target; the CQL frame seeds are the
driver's frames from tests/unit/driver_frames.h (see gen_driver_frames.py)
plus a few combinations the session produces (a Prepared result followed by
Rows without metadata; a frame with warnings). Run from the repository root:
    /usr/bin/python3 fuzz/make_corpus.py
"""
import hashlib
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, seeds):
    """Replace the generated seeds; inputs named regress-* (saved from
    fuzzer findings, each with a regression unit test) are kept."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if not name.startswith("regress-"):
            os.unlink(os.path.join(d, name))
    for s in seeds:
        if isinstance(s, str):
            s = s.encode("utf-8")
        name = hashlib.sha1(s).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)


def config_env():
    """Environments for the settings table: NAME=value, one per line."""
    write("config_env", [
        "KEYSPACE_NAME=mailion\n",
        "KEYSPACE_NAME=mailion\nAWS_REGION=eu-west-1\n",
        "KEYSPACE_NAME=m\nAWS_DEFAULT_REGION=cn-north-1\nCASSANDRA_TLS=off\n",
        "KEYSPACE_NAME=m\nCASSANDRA_HOSTS=a,b:9142,[::1]:9043\nCASSANDRA_TLS_VERIFY=no\n",
        "KEYSPACE_NAME=m\nCASSANDRA_USERNAME=u\nCASSANDRA_PASSWORD=p\nCASSANDRA_AUTH=password\n",
        "KEYSPACE_NAME=m\nCASSANDRA_AUTH=sigv4\n",
        "KEYSPACE_NAME=m\nPORT=0\nLISTEN=unix:/run/pac.sock,inet:127.0.0.1:0\nLISTEN_MODE=0600\n",
        "KEYSPACE_NAME=m\nLISTEN=inet:0.0.0.0:25\nLISTEN_ALLOW_REMOTE=TRUE\n",
        "KEYSPACE_NAME=m\nRECIPIENT_DELIMITER=\nCACHE=Off\nCACHE_TTL=604800\n",
        "KEYSPACE_NAME=m\nCONSISTENCY=local_quorum\nLOG_LEVEL=warn\nLOG_TARGET=syslog\n",
        "KEYSPACE_NAME=m\nCASSANDRA_PROTOCOL_VERSION=3\nCLIENT_IDLE_TIMEOUT=86400\n",
        "KEYSPACE_NAME=m\nMETRICS_LISTEN=127.0.0.1:9998\nCASSANDRA_LOCAL_DC=dc1\n",
        "PORT=99999\n", "KEYSPACE_NAME=mail-ion\n", "KEYSPACE_NAME=m\nCACHE=maybe\n",
        "KEYSPACE_NAME=m\nAWS_REGION=us-east-1\nCASSANDRA_FAILOVER_HOSTS=h:9043@us-west-2\n"
        "CASSANDRA_FAILBACK_HOLDDOWN_MS=500\n",
        "KEYSPACE_NAME=m\nAWS_REGION=us-east-1\nAWS_FAILOVER_REGIONS=us-west-2,eu-west-1\n",
    ])


def cql_groups():
    """CASSANDRA_FAILOVER_HOSTS (and, read again, AWS_FAILOVER_REGIONS)."""
    write("cql_groups", [
        "127.0.0.1:9043@us-west-2", "cassandra.us-west-2.amazonaws.com",
        "cassandra-fips.us-east-1.amazonaws.com:9142,cassandra.eu-west-1.api.aws",
        "vpce-0a1b-2c3d.cassandra.eu-central-1.vpce.amazonaws.com",
        "cassandra.cn-north-1.amazonaws.com.cn", "a@r1,b@r2,c@r3,d@r4",
        "[::1]:9042@us-west-2, 10.0.0.1@eu-west-1 db1", "us-west-2,eu-west-1",
        "a@", "@us-east-1", "a:0@x", "::1@us-east-1", "a@US", "",
        "CASSANDRA.US-WEST-2.AMAZONAWS.COM.",
    ])


def netstrings():
    write("netstring", [
        "0:,", "5:hello,", "13:users a@b.org,", "3:abc,0:,11:domains x.y,2:z",
        "01:a,", "00:,", "100000:", "100001:", "3:abc;", "5:he", ":,", "x",
        "4:a\0:,,", "9:NOTFOUND ,6:OK a@b,",
    ])


def socketmap():
    write("socketmap", [
        "users alice@example.com", "domains example.com", "access_maps a b  c ",
        "virtual_aliases ", " key", "nospace", "us\0ers k", "users a\0b",
        "n" * 64 + " k", "n" * 65 + " k", "transport_maps INFO@Example.COM",
        "relay_domains \xe9xample.org",
    ])


def result_format():
    write("result_format", [
        "%s\0alice@example.com", "%d/%u/\0alice@example.com", "%d\0postmaster",
        "100%%\0x", "%x\0y", "a%\0v", "smtp:[%s]:25\0mx.example",
        "%u|%d\0\"a@b\"@example.com", "[%u][%d]\0@example.com", "%s\0",
        "%d/%u/\0@example.org", "%d\0user@",
    ])


def search_order():
    keys = ["alice+news@mail.example.com", "example.com", "@example.com",
            "+tag@x.y", "a@b@c.d", "postmaster", "sub.deep.example.co.uk",
            "User-List+x@Example.COM", "user@", "a.", ".a",
            "owner-list+x@mail.example.com", "list-request@x.y", "MAILER-DAEMON-x@x.y",
            "10.20.1.5", "2001:db8:1:2::5", "+a+b@x..y.", "x" * 1100 + "@spam.example"]
    seeds = []
    for kind in range(5):
        for i, k in enumerate(keys):
            delims = ["+", "+-", "", "-"][i % 4]
            seeds.append(bytes([kind, i % 4]) + delims.encode() + b"\0" + k.encode())
    write("search_order", seeds)


def extension():
    write("extension", [
        "+x\0alice@alpha.test", "-a+b\0alice@alpha.test, bob@alpha.test", "+x\0alice",
        "+x\0\"a,b@c\"@d.test", "+x\0\"a\\\",b\"@d.test,e@f", "+x\0a@b,, c@d", "\0a@b",
    ])


def cql_hosts():
    write("cql_hosts", [
        "127.0.0.1", "a.example.com,b:9043 10.0.0.1:1", " ,, x ,  y:65535,,",
        "[::1]:9044,[fe80::1%eth0],[2001:db8::7]", "::1", "[::1", "[::1]9042",
        "[]:9042", ":9042", "h:0", "h:65536", "h:", "h:12x,g", "h:-1", "h: 5",
        "[[a]:1", "a]:1", "[a[b]:1", "cassandra.us-east-1.amazonaws.com:9142",
        ",".join("h%d" % i for i in range(33)), "n" * 255, "n" * 256, "",
    ])


def config_file():
    seeds = [
        "# comment\n[users]\n  result_format = %u@%d\ncache_ttl = 60\r\n\n"
        "; another\n[sender_login_maps]\n"
        "query = SELECT owner FROM mailion.logins WHERE address = ?\n"
        "search = virtual\nparent_domains = no\nfold_case = yes\n"
        "negative_ttl = 0\nstale_ttl = 604800\n",
        "[domains]\nsearch = domain\nparent_domains = yes\n",
        "[x]\nquery = SELECT a FROM t WHERE k = ?; DROP\n",
        "[x]\nquery = SELECT a FROM t WHERE k = '?' AND j = ?\n",
        "query = SELECT a FROM t WHERE k = ?\n",
        "[bad name]\n", "[users\n", "[users]\nresult_format = %x\n",
        "[users]\ncache_ttl = -1\n", "[users]\nsearch = nearby\n",
        "[users]\nfoo = bar\n", "[users]\nno equals sign\n", "[new]\n",
        "[users]\nquery = \n", "[a]\n[b]\n[c]\n",
        "[users]\nresult_format  = %d/%u/   # comment\nparent_domains = dot\n"
        "[x]   # section comment\nquery = SELECT a FROM t WHERE k = ? AND j = ' #'\n"
        "propagate_extension = yes\n",
    ]
    conf = os.path.join(ROOT, "packaging", "etc", "postfix-aws-cassandra.conf")
    if os.path.exists(conf):
        seeds.append(open(conf, "rb").read())
    write("config_file", seeds)


def driver_frames():
    text = open(os.path.join(ROOT, "tests", "unit", "driver_frames.h")).read()
    arrays = {}
    for m in re.finditer(r"static const uint8_t (\w+)\[\] = \{(.*?)\};", text, re.S):
        arrays[m.group(1)] = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", m.group(2)))
    return arrays


def frame(opcode, body, flags=0, stream=1, version=4):
    return struct.pack(">BBhBI", 0x80 | version, flags, stream, opcode, len(body)) + body


def cql_frame():
    a = driver_frames()
    seeds = [v for k, v in a.items() if k != "drv_prep_id"]
    # Prepared then Rows without metadata: the hint path.
    seeds.append(a["drv_res_prepared_v4"] + a["drv_res_rows_nometa"])
    seeds.append(a["drv_res_prepared_v3"][:0] + a["drv_res_rows"] + a["drv_err_0"])
    # Warnings, tracing id and custom payload before the body.
    rows_body = a["drv_res_void"][9:]
    warn = struct.pack(">H", 1) + struct.pack(">H", 4) + b"warn"
    seeds.append(frame(0x08, warn + rows_body, flags=0x08))
    seeds.append(frame(0x08, b"\x11" * 16 + rows_body, flags=0x02))
    seeds.append(frame(0x08, struct.pack(">H", 1) + struct.pack(">H", 1) + b"k" +
                       struct.pack(">i", 2) + b"vv" + rows_body, flags=0x04))
    # SUPPORTED, AUTHENTICATE, AUTH_CHALLENGE, EVENT.
    seeds.append(frame(0x06, struct.pack(">H", 1) + struct.pack(">H", 11) + b"CQL_VERSION" +
                       struct.pack(">H", 1) + struct.pack(">H", 5) + b"3.0.0"))
    cls = b"org.apache.cassandra.auth.PasswordAuthenticator"
    seeds.append(frame(0x03, struct.pack(">H", len(cls)) + cls, stream=0))
    seeds.append(frame(0x0E, struct.pack(">i", 38) + b"nonce=" + b"a" * 32, stream=0))
    seeds.append(frame(0x0C, struct.pack(">H", 13) + b"STATUS_CHANGE", stream=-1))
    # One result in pages: an empty first page with a paging state, a
    # page of rows, an empty middle page, the last page (cql_pages.c).
    def page(state, values):
        flags = 0x0001 | (0x0002 if state else 0)
        b = struct.pack(">ii", 2, flags) + struct.pack(">i", 1)
        if state:
            b += struct.pack(">i", len(state)) + state
        b += struct.pack(">H", 2) + b"ks" + struct.pack(">H", 1) + b"t"
        b += struct.pack(">H", 1) + b"v" + struct.pack(">H", 0x0d)
        b += struct.pack(">i", len(values))
        for v in values:
            b += struct.pack(">i", len(v)) + v
        return frame(0x08, b)
    seeds.append(page(b"p1", []) + page(b"p2", [b"a@example.com", b"b@example.com"]) +
                 page(b"p3", []) + page(None, [b"c@example.com"]))
    # A v3 frame and a header only.
    seeds.append(frame(0x08, rows_body, version=3))
    seeds.append(a["drv_ready"][:5])
    write("cql_frame", seeds)


def sigv4():
    write("sigv4", [
        "nonce=91703fdc2ef562e19fbdab0f58e42fe5",
        "nonce=abc,other=1", "x=1,nonce=", "nonce=" + "a" * 257, "nonce=a\x01b",
        "2020-06-09T22:41:51.000Z", "2020-02-30T00:00:00.000Z", "1970-01-01T00:00:00.000Z",
        "signature=00,access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z",
        "", "nonce", "nonce=nonce=x",
    ])


def cred_parse():
    json_doc = ('{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAEXAMPLE",'
                ' "SecretAccessKey": "secret", "Token": "tok",'
                ' "Expiration": "2026-11-25T20:00:00Z", "LastUpdated": "2026-11-25T14:00:00Z"}')
    creds = ("[default]\naws_access_key_id = AKIDEXAMPLE\n"
             "aws_secret_access_key = secret\n# c\n; c\n"
             "[test]\naws_access_key_id=AKID2\naws_secret_access_key=s2\n"
             "aws_session_token = tok\n")
    config = ("[profile test]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 10\n"
              "aws_access_key_id = AKID3\naws_secret_access_key = s3\n"
              "[default]\nrole_arn = arn:aws:iam::1:role/x\n")
    write("cred_parse", [
        b"\x00" + json_doc.encode(),
        b"\x00" + b'{"Code": "Failure", "Message": "no"}',
        b"\x00" + b'{"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "bad"}',
        b"\x00[1,2]", b"\x00{",
        b"\x01" + creds.encode(), b"\x05" + creds.encode(),
        b"\x02" + config.encode(), b"\x06" + config.encode(),
        b"\x01[default]\naws_access_key_id = only\n", b"\x01no section line\n",
        # Issue 17: a byte order mark, inline comments, a role, CRLF, quotes.
        b"\x01\xef\xbb\xbf[default] # c\r\naws_access_key_id = \"A\" ; k\r\n"
        b"aws_secret_access_key = S#notacomment\r\n",
        b"\x02[profile default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n"
        b"web_identity_token_file = /t\nsso_session = s\ncredential_process = x\n",
    ])


def change_set():
    """A size byte, a map's query, NUL, a Rows body of pac_changes."""
    def rows_body(rows, serial_type=0x0002):
        b = struct.pack(">ii", 0x0001, 2)
        for s in (b"mailion", b"pac_changes", b"table_name"):
            b += struct.pack(">H", len(s)) + s
        b += struct.pack(">H", 0x000D) + struct.pack(">H", 6) + b"serial"
        b += struct.pack(">H", serial_type) + struct.pack(">i", len(rows))
        for name, serial in rows:
            b += struct.pack(">i", len(name)) + name
            b += struct.pack(">iq", 8, serial) if serial is not None else struct.pack(">i", -1)
        return b
    queries = [b"SELECT email, active FROM mailion.users WHERE email = ?",
               b"select x from \"Ks\".\"MixedCase\" where k = ?",
               b"SELECT 'from x' FROM t WHERE k = ?",
               b"SELECT \"a\"\"b\" FROM \"a\"\"b\" WHERE k = ?",
               b"SELECT x FROM"]
    seeds = [bytes([48]) + q for q in queries]
    seeds.append(bytes([48]) + queries[0] + b"\0" +
                 rows_body([(b"users", 3), (b"domains", 7), (b"users2", None)]))
    seeds.append(bytes([5]) + queries[0] + b"\0" + rows_body([(b"users", -1)]))
    seeds.append(bytes([48]) + queries[2] + b"\0" + rows_body([(b"t", 1)], 0x0003))
    write("change_set", seeds)


def sts_xml():
    ns = ' xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
    creds = ("<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
             "<SecretAccessKey>secret</SecretAccessKey><SessionToken>tok</SessionToken>"
             "<Expiration>2026-11-30T20:00:00Z</Expiration></Credentials>")
    user = "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>"
    write("sts_xml", [
        b"\x00" + f"<AssumeRoleResponse{ns}><AssumeRoleResult>{user}{creds}"
                  "</AssumeRoleResult></AssumeRoleResponse>".encode(),
        b"\x01" + f"<?xml version='1.0'?><AssumeRoleWithWebIdentityResponse{ns}>"
                  f"<AssumeRoleWithWebIdentityResult>{creds}</AssumeRoleWithWebIdentityResult>"
                  "</AssumeRoleWithWebIdentityResponse>".encode(),
        b"\x00" + f"<ErrorResponse{ns}><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                  "<Message>no</Message></Error><RequestId>1</RequestId></ErrorResponse>".encode(),
        b"\x00<!DOCTYPE a [<!ENTITY x \"y\">]><AssumeRoleResponse>&x;</AssumeRoleResponse>",
        b"\x01<AssumeRoleResponse/>", b"\x00<a:b xmlns:a='u'><c/></a:b>", b"\x00<",
    ])


def env_file():
    """systemd EnvironmentFile= texts, as --as-service reads them."""
    write("env_file", [
        "# shipped\nKEYSPACE_NAME=mailion\nAWS_REGION=eu-west-1\n",
        "A=\"two words\"\nB='single'\n; comment\n", "A=one \\\ntwo\n",
        "A=\"say \\\"hi\\\" \\\\\"\n", "A=\"open\n", "no equals\n1A=x\n=x\r\nB=2",
    ])


def proc_stats():
    """/proc/PID/stat lines (proc(5)), odd command names included."""
    tail = " S 1 4242 4242 0 -1 4194560 1530 0 0 0 37 12 0 0 20 0 1 0 987654 14884864 1367 0 0\n"
    write("proc_stats", ["4242 (postfix-aws-cas)" + tail, "1 (a) (b))" + tail, "1 (x) S 1 2 3\n", "()"])


def table_source():
    """Postfix table source files, as `import` reads them."""
    write("table_source", [
        "a@example.com\tb@example.org\n",
        "# comment\n\nlist a,\n  b,\n# inside\n\tc\nnext x\n",
        "a x\r\nb\r\n\r\n",
        "\"a b\"@example.com x\na\\ b y\n\"open z\n",
        "  lonely x\nk v\n", "k\0v x\n", b"\xff\xfe y\n", "keyonly\n",
        "example.com\tsmtp:[mx.example.com]:25\n@example.net\tcatchall@example.net",
        "K" * 1025 + " v\n",
    ])


if __name__ == "__main__":
    config_env()
    env_file()
    proc_stats()
    netstrings()
    socketmap()
    result_format()
    search_order()
    extension()
    cql_hosts()
    cql_groups()
    config_file()
    cql_frame()
    sigv4()
    cred_parse()
    sts_xml()
    change_set()
    table_source()
