"""Amazon Keyspaces with SigV4 and the AWS credential chain, as an operator meets it.

cqld plays Keyspaces: TLS, `--auth sigv4:KEYID:SECRET:REGION`, verifying each
answer with a fresh nonce and accepting one key at a time (its control line
`auth key ...` rotates it). The test's own small HTTP servers play the EC2
instance metadata service (IMDSv2 only: every GET without the session token
from `PUT /latest/api/token` is refused with 401, so an IMDSv1 fallback would
fail) and the ECS/EKS container endpoint (which wants its Authorization
header). The daemon finds them through AWS_EC2_METADATA_SERVICE_ENDPOINT and
AWS_CONTAINER_CREDENTIALS_FULL_URI, as the AWS SDKs do.

The story: with an instance role the daemon answers real postmap lookups;
temporary credentials are refreshed before they expire and two rotations pass
under continuous lookups without a TEMP; each source works alone and the SDK
order decides between them; with no source at all the log says what was
tried, lookups answer TEMP, and the daemon recovers once IMDS appears; AWS's
own Node plugin authenticates to the same cqld. No secret, session token or
signature ever appears in the daemon's log.
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from aws_fakes import ROLE, Creds, FakeEndpoint, iso
from conftest import ROOT, wait_for
from tls_certs import session_pki

REGION = "us-west-2"
NODE_DIR = ROOT / "tests" / "drivers" / "node"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


@pytest.fixture
def endpoints():
    started = []

    def start(*a, **kw):
        e = FakeEndpoint(*a, **kw)
        started.append(e)
        return e
    yield start
    for e in started:
        e.stop()


def sigv4_node(start_cqld, pki, creds, endpoint="cqld"):
    """cqld with TLS and SigV4 for creds; endpoint "keyspaces": as the
    Keyspaces endpoint (cqld --keyspaces: 3 addresses in system.peers, all
    reached by the daemon under the name localhost)."""
    ks = ["--keyspaces", REGION, "--endpoint-addresses", "3"] if endpoint == "keyspaces" else []
    return start_cqld(extra=["--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                             "--auth", f"sigv4:{creds.key_id}:{creds.secret}:{REGION}", *ks])


def keyspaces_env(pki, node, tmp_path, **more):
    """AWS_REGION set, CASSANDRA_HOSTS overriding the Keyspaces host (as for a
    VPC endpoint), TLS verified against the test CA, no credential source
    unless given, HOME without ~/.aws."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(AWS_REGION=REGION, CASSANDRA_HOSTS=f"localhost:{node.port}", CASSANDRA_TLS="on",
               CASSANDRA_TLS_CA_FILE=pki.ca_cert, CACHE="off", HOME=str(home),
               AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9",   # discard port: refused
               AWS_METADATA_SERVICE_NUM_ATTEMPTS="1",
               CASSANDRA_RECONNECT_MAX_MS="300")
    env.update({k: str(v) for k, v in more.items()})
    return env


def secrets_absent(text, *creds):
    for c in creds:
        assert c.secret not in text, "a secret access key reached the log"
        if c.token:
            assert c.token not in text, "a session token reached the log"
    assert "signature=" not in text


def cred_lines(daemon):
    return [line for line in daemon.log_text().splitlines() if "aws: credentials" in line]


def auth_stats(node):
    reply = node.control("auth stats")
    return dict(w.split("=", 1) for w in reply.split()[1:])


@pytest.mark.parametrize("endpoint", ["cqld", "keyspaces"])
def test_instance_role_via_imdsv2_answers_postmap_lookups(pki, start_cqld, start_daemon,
                                                          postmap, endpoints, tmp_path, endpoint):
    role = Creds("ASIAROLEKEY0000001", "role/secret+1", token="FwoGZXIvYXdzEJr//role-token-1==",
                 lifetime=3600)
    node = sigv4_node(start_cqld, pki, role, endpoint)
    imds = endpoints("imds", role)
    mport = free_port()
    daemon = start_daemon(node.port, wait_ready=True,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                                          METRICS_LISTEN=f"127.0.0.1:{mport}"))
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5).read().decode()
    assert 'postfix_aws_cassandra_aws_credentials_source{source="imds"} 1' in metrics
    left = [float(l.split()[1]) for l in metrics.splitlines()
            if l.startswith("postfix_aws_cassandra_aws_credentials_expiry_seconds ")]
    assert left and 3500 < left[0] <= 3600, metrics
    assert postmap.query(daemon.port, "domains", "example.com")[0] == "OK"
    assert postmap.query(daemon.port, "users", "nobody@example.com") == ("NOTFOUND", "")

    # IMDSv2: a session token first, every GET carried it; nothing was refused.
    assert imds.count("PUT", "/latest/api/token", 200) >= 1
    assert imds.count("GET", "/latest/meta-data/iam/security-credentials/", 200) >= 2
    assert imds.count("GET", "/", 401) == 0
    # ... and this fake really refuses IMDSv1 (so a fallback would have failed).
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(imds.url + "/latest/meta-data/iam/security-credentials/", timeout=5)
    assert e.value.code == 401

    log = daemon.log_text()
    assert f"amazon keyspaces: region {REGION}, endpoint localhost:{node.port} (CASSANDRA_HOSTS)" in log
    assert (f"aws: credentials from instance metadata (IMDSv2) at {imds.url}: access key id "
            f"{role.key_id} (temporary, with session token)") in log
    assert "auth sigv4" in log and "TLS" in log
    assert int(auth_stats(node)["accepted"]) >= 1
    if endpoint == "keyspaces":
        # every address of the endpoint signed in to, verified as localhost
        wait_for(lambda: all(f"127.0.0.{i}:{node.port} is up" in daemon.log_text()
                             for i in (1, 2, 3)), what="the endpoint's 3 addresses up")
    secrets_absent(log, role)


def test_wrong_secret_is_logged_with_server_message_and_key_id(pki, start_cqld, start_daemon,
                                                               postmap, tmp_path):
    good = Creds("AKIAGOODKEY0000001", "right-secret")
    node = sigv4_node(start_cqld, pki, good)
    daemon = start_daemon(node.port, wait_ready=False,
                          **keyspaces_env(pki, node, tmp_path, AWS_ACCESS_KEY_ID=good.key_id,
                                          AWS_SECRET_ACCESS_KEY="wrong-secret"))
    wait_for(lambda: "authentication failed" in daemon.log_text(), what="the auth failure")
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"
    time.sleep(1.5)     # several reconnects: still one line per burst
    lines = [l for l in daemon.log_text().splitlines() if "authentication failed" in l]
    assert len(lines) == 1, lines
    assert "signature mismatch" in lines[0] and f"access key id {good.key_id}" in lines[0]
    assert "wrong-secret" not in daemon.log_text()


def test_rotation_across_two_expiries_without_temp(pki, start_cqld, start_daemon, postmap,
                                                   endpoints, tmp_path):
    """Credentials live 8 s; IMDS hands out the next ones 5 s before the old
    expire and cqld then accepts only the new key; the daemon refreshes 3 s
    ahead (AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS). Lookups run throughout."""
    lifetime, ahead = 8, 5
    gens = [Creds(f"ASIAROTATE{i:08d}", f"rotating/secret/{i}", token=f"rot-token-{i}",
                  lifetime=lifetime + i * (lifetime - ahead)) for i in range(3)]
    node = sigv4_node(start_cqld, pki, gens[0])
    imds = endpoints("imds", gens[0])
    daemon = start_daemon(node.port, wait_ready=True,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                                          AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=3,
                                          CASSANDRA_CONNECTIONS_PER_HOST=1,
                                          LOG_LEVEL="debug"))   # secrets stay out even here
    results = []            # (start, end, status)
    drops = []              # (start, end): the only connection closed by cqld
    stop = threading.Event()

    def lookups():
        while not stop.is_set():
            t0 = time.monotonic()
            st = postmap.query(daemon.port, "users", "alice@example.com")[0]
            results.append((t0, time.monotonic(), st))

    t = threading.Thread(target=lookups)
    t.start()
    try:
        for i in (1, 2):
            # The next credentials appear `ahead` seconds before the current expire.
            time.sleep(max(0, gens[i - 1].expiration - ahead - time.time()))
            imds.set(gens[i])
            node.control(f"auth key {gens[i].key_id}:{gens[i].secret}:{REGION}")
            wait_for(lambda: any(gens[i].key_id in l for l in cred_lines(daemon)), timeout=ahead,
                     what=f"the refresh to key {i} before the old one expires")
            assert time.time() < gens[i - 1].expiration
            # New connections sign with the new key.
            d0 = time.monotonic()
            node.control("drop")
            wait_for(lambda: auth_stats(node)["last"] == gens[i].key_id
                     and int(auth_stats(node)["accepted"]) >= i + 1, timeout=5,
                     what="a new connection with the new key")
            wait_for(lambda: " is up" in daemon.log_text().rsplit("lost connection", 1)[-1],
                     timeout=5, what="the pool up again")
            drops.append((d0, time.monotonic()))
    finally:
        stop.set()
        t.join()
    # Dropping the only connection is an outage of its own (lookups in that
    # instant answer TEMP); the rotations themselves must not cost a lookup.
    in_drop = [r for r in results if any(r[1] >= d0 and r[0] <= d1 for d0, d1 in drops)]
    outside = [r for r in results if r not in in_drop]
    assert len(outside) > 20
    assert [r for r in outside if r[2] != "OK"] == []
    assert len([r for r in in_drop if r[2] != "OK"]) <= 2
    assert int(auth_stats(node)["rejected"]) == 0
    secrets_absent(daemon.log_text(), *gens)


def test_failed_refresh_keeps_the_old_credentials_until_they_expire(pki, start_cqld,
                                                                     start_daemon, postmap,
                                                                     endpoints, tmp_path):
    """The container endpoint fails when the daemon refreshes: it warns,
    keeps signing new connections with the old key (still valid), retries
    with backoff, and takes the new key once the endpoint answers again.
    (IMDS would have its credentials extended instead: static stability.)"""
    old = Creds("ASIAOLDKEY00000001", "old/secret", token="old-token", lifetime=12)
    new = Creds("ASIANEWKEY00000002", "new/secret", token="new-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, old)
    k = endpoints("container", old)
    daemon = start_daemon(node.port, wait_ready=True,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_CONTAINER_CREDENTIALS_FULL_URI=k.url + "/creds",
                                          AWS_METADATA_SERVICE_NUM_ATTEMPTS=1,
                                          AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=10))
    k.failing = True
    wait_for(lambda: "cannot refresh credentials" in daemon.log_text(), timeout=8,
             what="the failed refresh")
    line = next(l for l in daemon.log_text().splitlines() if "cannot refresh credentials" in l)
    assert f"keeping access key id {old.key_id} until it expires at" in line
    # A new connection still signs with the old, still valid, key.
    node.control("drop")
    wait_for(lambda: int(auth_stats(node)["accepted"]) >= 2, timeout=5, what="a reconnect")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups on the new connection")
    assert int(auth_stats(node)["rejected"]) == 0
    # The chain retries with backoff (1 s, then 2 s, ...) while the endpoint fails.
    wait_for(lambda: k.count("GET", "/creds", 500) >= 2, timeout=8, what="a retried refresh")
    # The endpoint answers again, with the next key: the retry picks it up before expiry.
    k.set(new)
    node.control(f"auth key {new.key_id}:{new.secret}:{REGION}")
    k.failing = False
    wait_for(lambda: any(new.key_id in l for l in cred_lines(daemon)), timeout=8,
             what="the refresh after the failure")
    assert time.time() < old.expiration
    node.control("drop")
    wait_for(lambda: auth_stats(node)["last"] == new.key_id, timeout=5, what="the new key in use")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups")
    secrets_absent(daemon.log_text(), old, new)


def test_imds_down_at_expiry_keeps_the_credentials_static_stability(pki, start_cqld,
                                                                    start_daemon, postmap,
                                                                    endpoints, tmp_path):
    """Issue 17 item 3. IMDS fails from the first refresh until well after
    the credentials expire: as the SDKs do (static stability) the daemon
    keeps signing with them, extended by 5 to 15 minutes, says so once at
    warning level, logs no error, asks IMDS again with backoff instead of
    every second, and takes the new key once IMDS answers. (On 18c8247 it
    dropped them: TEMP, and an error line a second.)"""
    old = Creds("ASIASHORTLIVED0001", "short/secret", token="short-token", lifetime=4)
    new = Creds("ASIAAFTEREXPIRY002", "after/secret", token="after-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, old)
    imds = endpoints("imds", old)
    daemon = start_daemon(node.port, wait_ready=True,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                                          AWS_METADATA_SERVICE_NUM_ATTEMPTS=1,
                                          AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=3))
    imds.failing = True
    wait_for(lambda: "static stability" in daemon.log_text(), timeout=15,
             what="the extension at expiry")
    line = next(l for l in daemon.log_text().splitlines() if "static stability" in l)
    assert "warning:" in line and f"using access key id {old.key_id} up to" in line
    # Past the real expiry, new connections still sign with the old key.
    time.sleep(max(0, old.expiration + 1 - time.time()))
    accepted = int(auth_stats(node)["accepted"])
    node.control("drop")
    wait_for(lambda: int(auth_stats(node)["accepted"]) > accepted, timeout=10,
             what="a reconnect signed with the extended key")
    assert auth_stats(node)["last"] == old.key_id
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=10, what="lookups with the extended key")
    # Some seconds of outage: no error line, and IMDS asked with backoff, not every second.
    t0 = time.time()
    fails0 = imds.count("GET", "/latest/meta-data/iam/security-credentials/" + ROLE, 500)
    time.sleep(6)
    fails = imds.count("GET", "/latest/meta-data/iam/security-credentials/" + ROLE, 500) - fails0
    assert fails <= 4, f"{fails} IMDS requests in {time.time() - t0:.0f} s: no backoff"
    errors = [l for l in daemon.log_text().splitlines() if l.startswith("postfix-aws-cassandra: error:")]
    assert errors == [], errors
    # IMDS answers again: the new key is taken.
    imds.set(new)
    node.control(f"auth key {new.key_id}:{new.secret}:{REGION}")
    imds.failing = False
    wait_for(lambda: any(new.key_id in l for l in cred_lines(daemon)), timeout=70,
             what="the new key once IMDS is back")
    node.control("drop")
    wait_for(lambda: auth_stats(node)["last"] == new.key_id, timeout=10, what="the new key in use")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=10, what="lookups")
    secrets_absent(daemon.log_text(), old, new)


def test_expired_container_credentials_are_not_used_and_the_chain_recovers(
        pki, start_cqld, start_daemon, postmap, endpoints, tmp_path):
    """The container endpoint keeps failing until its credentials expire
    (static stability is IMDS's alone, as in the SDKs): the daemon says so,
    signs nothing with them (new connections fail, lookups TEMP), does not
    fall back to IMDS, and takes new credentials when the endpoint answers."""
    old = Creds("ASIASHORTLIVED0001", "short/secret", token="short-token", lifetime=4)
    new = Creds("ASIAAFTEREXPIRY002", "after/secret", token="after-token", lifetime=3600)
    role = Creds("ASIAINSTANCEROLE01", "role/secret", token="role-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, old)
    k = endpoints("container", old)
    imds = endpoints("imds", role)
    daemon = start_daemon(node.port, wait_ready=True,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_CONTAINER_CREDENTIALS_FULL_URI=k.url + "/creds",
                                          AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                                          AWS_METADATA_SERVICE_NUM_ATTEMPTS=1,
                                          AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=3))
    k.failing = True
    wait_for(lambda: "expired" in daemon.log_text(), timeout=10, what="the expiry")
    assert f"access key id {old.key_id}) expired" in daemon.log_text()
    accepted = auth_stats(node)["accepted"]
    node.control("drop")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP",
             timeout=5, what="TEMP without valid credentials")
    assert "SigV4: no AWS credentials available yet" in daemon.log_text()
    assert auth_stats(node)["accepted"] == accepted     # nothing signed with expired keys
    assert role.key_id not in daemon.log_text()         # and not the instance's role
    k.set(new)
    node.control(f"auth key {new.key_id}:{new.secret}:{REGION}")
    k.failing = False
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=15, what="recovery")
    assert auth_stats(node)["last"] == new.key_id
    secrets_absent(daemon.log_text(), old, new)


def start_with(start_daemon, node, env):
    return start_daemon(node.port, wait_ready=True, **env)


@pytest.mark.parametrize("source", ["env", "profile", "container", "container_file", "imds"])
def test_each_source_alone(pki, start_cqld, start_daemon, postmap, endpoints, tmp_path, source):
    c = Creds(f"AKIA{source.upper().replace('_', '')[:12]:0<12}XX", f"secret/for/{source}",
              token=None if source in ("env", "profile") else f"tok-{source}", lifetime=
              None if source in ("env", "profile") else 3600)
    node = sigv4_node(start_cqld, pki, c)
    env = keyspaces_env(pki, node, tmp_path)
    if source == "env":
        env.update(AWS_ACCESS_KEY_ID=c.key_id, AWS_SECRET_ACCESS_KEY=c.secret)
        where = "environment (AWS_ACCESS_KEY_ID)"
    elif source == "profile":
        # A non-default profile, in the config file's "[profile NAME]" syntax,
        # while the credentials file has only another profile.
        (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKIAOTHER\n"
                                              "aws_secret_access_key = other\n")
        (tmp_path / "config").write_text(f"[default]\nregion = eu-west-1\n\n[profile mail]\n"
                                         f"aws_access_key_id = {c.key_id}\n"
                                         f"aws_secret_access_key = {c.secret}\n")
        env.update(AWS_PROFILE="mail", AWS_SHARED_CREDENTIALS_FILE=tmp_path / "credentials",
                   AWS_CONFIG_FILE=tmp_path / "config")
        where = f"shared files, profile mail in {tmp_path / 'config'}"
    elif source.startswith("container"):
        k = endpoints("container", c, auth_token="Bearer eks-pod-identity-token")
        env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=k.url + "/creds")
        if source == "container_file":
            (tmp_path / "token").write_text("Bearer eks-pod-identity-token\n")
            env.update(AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tmp_path / "token")
        else:
            env.update(AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer eks-pod-identity-token")
        where = f"container endpoint {k.url}/creds"
    else:
        imds = endpoints("imds", c)
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        where = f"instance metadata (IMDSv2) at {imds.url}"
    daemon = start_with(start_daemon, node, env)
    assert postmap.query(daemon.port, "users", "bob@example.com") == ("OK", "example.com/bob/")
    assert f"aws: credentials from {where}: access key id {c.key_id}" in daemon.log_text()
    secrets_absent(daemon.log_text(), c)
    assert "eks-pod-identity-token" not in daemon.log_text()


def test_container_endpoint_refuses_without_its_token(pki, start_cqld, start_daemon, postmap,
                                                      endpoints, tmp_path):
    c = Creds("AKIACONTAINER00001", "s", token="t", lifetime=3600)
    node = sigv4_node(start_cqld, pki, c)
    k = endpoints("container", c, auth_token="Bearer right")
    daemon = start_daemon(node.port, wait_ready=False,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_CONTAINER_CREDENTIALS_FULL_URI=k.url + "/creds",
                                          AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong"))
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), what="the failure")
    assert f"container endpoint {k.url}/creds: HTTP 403" in daemon.log_text()
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"


@pytest.mark.parametrize("first", ["env", "profile", "container", "imds"])
def test_sources_are_tried_in_sdk_order(pki, start_cqld, start_daemon, postmap, endpoints,
                                        tmp_path, first):
    """Every source from `first` on offers its own key; the first in SDK order
    wins (env, shared files, container endpoint, IMDS) and cqld accepts only it."""
    order = ["env", "profile", "container", "imds"]
    keys = {s: Creds(f"AKIAORDER{s.upper():0<9}", f"secret-{s}", lifetime=3600) for s in order}
    node = sigv4_node(start_cqld, pki, keys[first])
    env = keyspaces_env(pki, node, tmp_path)
    offered = order[order.index(first):]
    if "env" in offered:
        env.update(AWS_ACCESS_KEY_ID=keys["env"].key_id, AWS_SECRET_ACCESS_KEY=keys["env"].secret)
    if "profile" in offered:
        (tmp_path / "credentials").write_text(f"[default]\naws_access_key_id = {keys['profile'].key_id}\n"
                                              f"aws_secret_access_key = {keys['profile'].secret}\n")
        env.update(AWS_SHARED_CREDENTIALS_FILE=tmp_path / "credentials")
    if "container" in offered:
        k = endpoints("container", keys["container"])
        env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=k.url + "/creds")
    if "imds" in offered:
        imds = endpoints("imds", keys["imds"])
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    daemon = start_with(start_daemon, node, env)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    lines = cred_lines(daemon)
    assert len(lines) == 1 and f"access key id {keys[first].key_id}" in lines[0], lines
    # Sources after the chosen one were not even asked.
    if first in ("env", "profile", "container") and "imds" in offered:
        assert imds.count("PUT", "/") == 0


def test_a_named_profile_that_is_missing_stops_the_chain(pki, start_cqld, start_daemon, postmap,
                                                         endpoints, tmp_path):
    """AWS_PROFILE=mail while the files lack [mail]: the daemon must not fall
    back to the instance role (IMDS offers one here); it says why, answers
    TEMP, and picks the profile up once it is written."""
    mine = Creds("AKIAPROFILEMAIL001", "mail/profile/secret")
    role = Creds("ASIAINSTANCEROLE01", "role/secret", token="role-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, mine)
    imds = endpoints("imds", role)
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKIAOTHER\n"
                                          "aws_secret_access_key = other\n")
    env = keyspaces_env(pki, node, tmp_path, AWS_PROFILE="mail",
                        AWS_SHARED_CREDENTIALS_FILE=tmp_path / "credentials",
                        AWS_CONFIG_FILE=tmp_path / "config",
                        AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    daemon = start_daemon(node.port, wait_ready=False, **env)
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), what="the error line")
    line = next(l for l in daemon.log_text().splitlines() if "no AWS credentials found" in l)
    for what in ("3. profile: profile mail: ", "credentials: no [mail]",
                 "config: No such file", "AWS_PROFILE names it, so no later source is tried"):
        assert what in line, (what, line)
    assert "4. container" not in line and "5. imds" not in line, line
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"
    assert imds.count("PUT", "/") == 0 and imds.count("GET", "/") == 0
    assert not cred_lines(daemon)

    # The operator adds the profile: the next retry (1 s, doubling) finds it.
    (tmp_path / "config").write_text(f"[profile mail]\naws_access_key_id = {mine.key_id}\n"
                                     f"aws_secret_access_key = {mine.secret}\n")
    wait_for(lambda: cred_lines(daemon), timeout=10, what="the profile after it is written")
    assert f"access key id {mine.key_id}" in cred_lines(daemon)[0]
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups with the profile's key")
    assert imds.count("PUT", "/") == 0
    secrets_absent(daemon.log_text(), mine, role)


HELPER = """\
import json, sys
state = json.load(open(sys.argv[1]))
doc = state["docs"][min(state["runs"], len(state["docs"]) - 1)]
state["runs"] += 1
json.dump(state, open(sys.argv[1], "w"))
print(json.dumps(doc))
"""


def process_doc(c):
    """What a credential_process prints (the SDKs' documented format)."""
    d = {"Version": 1, "AccessKeyId": c.key_id, "SecretAccessKey": c.secret}
    if c.token:
        d["SessionToken"] = c.token
    if c.expiration:
        d["Expiration"] = iso(c.expiration)
    return d


def process_profile(tmp_path, command):
    """AWS_PROFILE=mail from a config file whose profile runs `command`; the
    command carries a marker that must never reach the log (an assignment,
    not a comment: the file's comments never reach the command)."""
    config = tmp_path / "config"
    config.write_text(f"[profile mail]\ncredential_process = PAC_MARK=cmd-s3cr3t {command}\n")
    return dict(AWS_PROFILE="mail", AWS_CONFIG_FILE=config,
                AWS_SHARED_CREDENTIALS_FILE=tmp_path / "no-credentials-file")


def test_credential_process_signs_and_is_run_again_before_expiry(pki, start_cqld, start_daemon,
                                                                 postmap, tmp_path):
    """A profile's credential_process (as IAM Roles Anywhere's signing helper
    or `aws configure export-credentials` are used) gives the key; it is run
    again before Expiration and the new key signs new connections."""
    gens = [Creds("ASIAPROCESS0000001", "proc/secret/1", token="proc-token-1", lifetime=8),
            Creds("ASIAPROCESS0000002", "proc/secret/2", token="proc-token-2", lifetime=3600)]
    node = sigv4_node(start_cqld, pki, gens[0])
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"runs": 0, "docs": [process_doc(gens[0])]}))
    (tmp_path / "helper.py").write_text(HELPER)
    env = keyspaces_env(pki, node, tmp_path, AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=4,
                        CASSANDRA_CONNECTIONS_PER_HOST=1, LOG_LEVEL="debug",
                        **process_profile(tmp_path, f"/usr/bin/python3 {tmp_path}/helper.py "
                                                    f"{state}"))
    daemon = start_daemon(node.port, wait_ready=True, **env)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    where = f"shared files, profile mail, credential_process in {tmp_path}/config"
    assert f"aws: credentials from {where}: access key id {gens[0].key_id}" in daemon.log_text()

    # The next run of the command gives the next key, which cqld then wants.
    state.write_text(json.dumps({"runs": 1, "docs": [process_doc(g) for g in gens]}))
    node.control(f"auth key {gens[1].key_id}:{gens[1].secret}:{REGION}")
    wait_for(lambda: any(gens[1].key_id in l for l in cred_lines(daemon)), timeout=8,
             what="the command run again before the first key expires")
    assert time.time() < gens[0].expiration
    node.control("drop")
    wait_for(lambda: auth_stats(node)["last"] == gens[1].key_id, timeout=5,
             what="a new connection signed with the new key")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups with the new key")
    assert json.loads(state.read_text())["runs"] >= 2
    assert int(auth_stats(node)["rejected"]) == 0
    secrets_absent(daemon.log_text(), *gens)
    assert "cmd-s3cr3t" not in daemon.log_text()


FAILING_HELPER = """\
import json, sys
state = json.load(open(sys.argv[1]))
state["runs"] += 1
json.dump(state, open(sys.argv[1], "w"))
if state["runs"] > 1:
    sys.exit("ExpiredToken: the session behind this helper has ended")
print(json.dumps(state["doc"]))
"""


def test_credential_process_whose_refresh_fails_never_switches_identity(
        pki, start_cqld, start_daemon, postmap, endpoints, tmp_path):
    """Issue 17 item 4. The default profile's credential_process works once,
    then fails at every refresh, while an instance role is there for the
    taking: the daemon keeps the command's key until it expires, then has
    no credentials (TEMP) and says why, but never signs as the instance
    role and never asks IMDS (Go and botocore keep the provider and return
    its error). On 18c8247 it walked on to IMDS and signed as the role."""
    mine = Creds("ASIAPROCESSONCE001", "once/secret", token="once-token", lifetime=5)
    role = Creds("ASIAINSTANCEROLE01", "role/secret", token="role-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, mine)
    imds = endpoints("imds", role)
    env = keyspaces_env(pki, node, tmp_path, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                        AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=3)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"runs": 0, "doc": process_doc(mine)}))
    (tmp_path / "helper.py").write_text(FAILING_HELPER)
    (tmp_path / "home" / ".aws").mkdir(parents=True)
    (tmp_path / "home" / ".aws" / "config").write_text(
        f"[default]\ncredential_process = /usr/bin/python3 {tmp_path}/helper.py {state}\n")
    daemon = start_daemon(node.port, wait_ready=True, **env)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    wait_for(lambda: "cannot refresh credentials" in daemon.log_text(), timeout=10,
             what="the failed refresh")
    wait_for(lambda: f"access key id {mine.key_id}) expired" in daemon.log_text(), timeout=15,
             what="the expiry")
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), timeout=10,
             what="the error naming the profile")
    line = next(l for l in daemon.log_text().splitlines() if "no AWS credentials found" in l)
    assert "ExpiredToken" in line and "so no later source is tried" in line, line
    node.control("drop")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP",
             timeout=10, what="TEMP without the profile's credentials")
    time.sleep(2)   # a retry or two of the walk
    assert role.key_id not in daemon.log_text()
    assert imds.count("PUT", "/") == 0 and imds.count("GET", "/") == 0
    assert auth_stats(node)["last"] == mine.key_id
    secrets_absent(daemon.log_text(), mine, role)


@pytest.mark.parametrize("case,command,said", [
    ("status", "sh -c 'echo \"AccessDenied: role not trusted\" >&2; exit 3'",
     "credential_process exited with status 3: AccessDenied: role not trusted"),
    ("missing", "/nonexistent/helper",      # dash's words, as on Debian
     "credential_process exited with status 127: sh: 1: /nonexistent/helper: not found"),
    ("garbage", "echo hello", "credential_process output: credential document is not JSON"),
    ("no_version", """echo '{"AccessKeyId": "A", "SecretAccessKey": "S"}'""",
     "credential_process output: no Version (expected \"Version\": 1)"),
    ("flood", "head -c 70000 /dev/zero", "credential_process output over 65536 bytes"),
    ("chatty", "yes complaint >&2", "credential_process did not finish in 1000 ms"),
    ("hang", "sleep 41.25", "credential_process did not finish in 1000 ms"),
])
def test_credential_process_failures_are_named(pki, start_cqld, start_daemon, postmap, tmp_path,
                                               case, command, said):
    node = sigv4_node(start_cqld, pki, Creds("AKIANEVERUSED00001", "x"))
    env = keyspaces_env(pki, node, tmp_path, AWS_CREDENTIAL_PROCESS_TIMEOUT_SECONDS=1,
                        **process_profile(tmp_path, command))
    daemon = start_daemon(node.port, wait_ready=False, **env)
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), timeout=10,
             what="the error line")
    line = next(l for l in daemon.log_text().splitlines() if "no AWS credentials found" in l)
    assert f"3. profile: profile mail: {said}" in line, line
    assert line.endswith(", so no later source is tried"), line   # never another identity
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"
    assert "cmd-s3cr3t" not in daemon.log_text()
    if case == "hang":
        # Each attempt that timed out was killed with its process group and
        # reaped: at most the retry now in flight runs, and no zombie stays.
        assert len(process_groups("sleep 41.25")) <= 1
        assert not zombie_children(daemon.proc.pid)
        assert daemon.stop() == 0
        assert process_groups("sleep 41.25") == set()     # stopping ends the one in flight


def process_groups(pattern):
    """Process groups of the processes whose command line has pattern."""
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    groups = set()
    for pid in out.split():
        try:
            groups.add(os.getpgid(int(pid)))
        except ProcessLookupError:
            pass
    return groups


def zombie_children(pid):
    zombies = []
    for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
        try:
            if "State:\tZ" in open(f"/proc/{child}/status").read():
                zombies.append(child)
        except FileNotFoundError:
            pass
    return zombies


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_source_serves_temp_names_what_was_tried_and_recovers(pki, start_cqld, start_daemon,
                                                                 postmap, endpoints, tmp_path):
    role = Creds("ASIALATEROLE000001", "late/secret", token="late-token", lifetime=3600)
    node = sigv4_node(start_cqld, pki, role)
    port = free_port()      # nothing listens here yet: IMDS unreachable
    daemon = start_daemon(node.port, wait_ready=False,
                          **keyspaces_env(pki, node, tmp_path,
                                          AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{port}",
                                          AWS_METADATA_SERVICE_NUM_ATTEMPTS=2,
                                          # the default ceiling: recovery must not wait it out
                                          CASSANDRA_RECONNECT_MAX_MS=30000))
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), what="the error line")
    line = next(l for l in daemon.log_text().splitlines() if "no AWS credentials found" in l)
    assert "lookups answer TEMP" in line
    for what in ("1. env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                 "2. web_identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set",
                 "3. profile: profile default: ", "/.aws/credentials: No such file",
                 "4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
                 f"5. imds: IMDSv2 at http://127.0.0.1:{port}: PUT /latest/api/token: ",
                 "(2 attempts)"):
        assert what in line, (what, line)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"

    # IMDS comes up (the instance got its role): the daemon recovers on its own.
    time.sleep(6)      # let the nodes' reconnect backoff grow past what the test waits below
    endpoints("imds", role, port=port)
    wait_for(lambda: cred_lines(daemon), timeout=20, what="credentials after IMDS appears")
    assert "credentials available again; reconnecting now" in daemon.log_text()
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=3, what="lookups answering again at once")
    errors = [l for l in daemon.log_text().splitlines() if "aws: no AWS credentials" in l or "aws: still no" in l]
    assert len(errors) <= 2, errors     # retries are not logged each time


def test_keyspaces_endpoint_from_region_alone(tmp_path):
    """AWS_REGION without CASSANDRA_HOSTS: cassandra.<region>.amazonaws.com:9142,
    TLS, SigV4 (the --check output names the endpoint; nothing is reachable here)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KEYSPACE_NAME": "mailion",
           "AWS_REGION": "eu-north-1", "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIAX",
           "AWS_SECRET_ACCESS_KEY": "s", "CASSANDRA_CONNECT_TIMEOUT_MS": "300",
           "PORT": "0", "LOG_LEVEL": "info"}
    from conftest import DAEMON
    log = tmp_path / "daemon.log"
    with open(log, "wb") as f:
        p = subprocess.Popen([str(DAEMON), "--port-file", str(tmp_path / "port")], env=env,
                             stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "amazon keyspaces" in log.read_text(), what="the startup lines")
    finally:
        p.terminate()
        p.wait(10)
    text = log.read_text()
    assert "cassandra cassandra.eu-north-1.amazonaws.com:9142 (TLS, auth sigv4)" in text
    assert ("amazon keyspaces: region eu-north-1, endpoint "
            "cassandra.eu-north-1.amazonaws.com:9142; SigV4") in text
    assert "aws: credentials from environment (AWS_ACCESS_KEY_ID): access key id AKIAX" in text
    bad = subprocess.run([str(DAEMON), "--check"], env=dict(env, CASSANDRA_AUTH="sigv4",
                                                            AWS_REGION="", AWS_DEFAULT_REGION=""),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "CASSANDRA_AUTH=sigv4 needs AWS_REGION" in bad.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="node is missing")
def test_aws_node_plugin_authenticates_to_cqld_sigv4(pki, start_cqld, tmp_path):
    c = Creds("ASIANODEPLUGIN0001", "node/plugin+secret", token="node-session-token")
    node = sigv4_node(start_cqld, pki, c)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=c.key_id, AWS_SECRET_ACCESS_KEY=c.secret,
               AWS_SESSION_TOKEN=c.token)
    r = subprocess.run(["node", str(NODE_DIR / "sigv4_connect.js"), "--host", "localhost",
                        "--port", str(node.port), "--region", REGION, "--ca", pki.ca_cert,
                        "--query", "SELECT email FROM mailion.users WHERE email = 'alice@example.com'"],
                       cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out.get("connected") and out.get("rows") == [{"email": "alice@example.com"}], (out, r.stderr)
    assert int(auth_stats(node)["accepted"]) >= 1
    # With the wrong secret the plugin is refused.
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    r = subprocess.run(["node", str(NODE_DIR / "sigv4_connect.js"), "--host", "localhost",
                        "--port", str(node.port), "--region", REGION, "--ca", pki.ca_cert,
                        "--query", "SELECT email FROM mailion.users"],
                       cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert not out.get("connected")
    assert "signature mismatch" in json.dumps(out)


def test_check_reports_sigv4_and_the_credential_source(pki, start_cqld, tmp_path):
    from conftest import DAEMON
    c = Creds("AKIACHECK000000001", "check/secret")
    node = sigv4_node(start_cqld, pki, c)
    env = keyspaces_env(pki, node, tmp_path, KEYSPACE_NAME="mailion",
                        PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    ok = subprocess.run([str(DAEMON), "--check"], capture_output=True, text=True, timeout=60,
                        env=dict(env, AWS_ACCESS_KEY_ID=c.key_id, AWS_SECRET_ACCESS_KEY=c.secret))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (f"auth         SigV4, region {REGION}, credentials: environment (AWS_ACCESS_KEY_ID)"
            in ok.stdout)
    none = subprocess.run([str(DAEMON), "--check"], capture_output=True, text=True, timeout=60,
                          env=env)
    assert none.returncode == 1
    assert "credentials: NONE (see the aws: error above)" in none.stdout
    assert "aws: no AWS credentials found" in none.stderr
    secrets_absent(ok.stdout + ok.stderr + none.stdout + none.stderr, c)
