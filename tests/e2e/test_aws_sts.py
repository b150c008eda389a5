"""Roles through STS, as an operator meets them: EKS web identity (IRSA) and
cross-account roles in ~/.aws/config.

cqld plays Amazon Keyspaces with SigV4 and accepts only the key of the role
STS hands out; tests/e2e/fake_sts.py plays STS over HTTPS (the test CA, given
to the daemon as AWS_CA_BUNDLE, the endpoint as AWS_ENDPOINT_URL_STS) and
checks what it gets: the web identity token read from its file, the SigV4
signature of AssumeRole against the source credentials, the ExternalId. A
fake IMDS offers an instance role in the tests where signing with it would
be the wrong identity: it must not even be asked.

The story: a pod's web identity signs lookups, its token is read again and
the role refreshed before expiry; a profile's role_arn is assumed from a
source_profile (static keys, chained roles) or a credential_source (IMDS,
container endpoint); a loop, an STS error, an untrusted certificate stop the
chain loudly; STS down at refresh keeps the old credentials until they
expire. No token, secret or signature ever reaches the log.
"""
import re
import time

import pytest

import test_aws_credentials as tac
from test_aws_credentials import endpoints  # noqa: F401  (the fake endpoints fixture)
from aws_fakes import Creds
from conftest import wait_for
from fake_sts import FakeSTS
from tls_certs import session_pki

REGION = tac.REGION
ROLE_ARN = "arn:aws:iam::111122223333:role/mail-lookup"
XACCT_ARN = "arn:aws:iam::444455556666:role/keyspaces-reader"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


@pytest.fixture
def sts(pki):
    s = FakeSTS(pki, region=REGION)
    yield s
    s.stop()


def sts_env(pki, node, tmp_path, sts, **more):
    return tac.keyspaces_env(pki, node, tmp_path, AWS_ENDPOINT_URL_STS=sts.url,
                             AWS_CA_BUNDLE=pki.ca_cert, **more)


def instance_role(endpoints):
    """An IMDS with a role of its own: the identity that must not be used."""
    return endpoints("imds", Creds("ASIAINSTANCEROLE99", "instance/secret", token="inst-token",
                                   lifetime=3600))


def no_leak(daemon, *creds, tokens=()):
    log = daemon.log_text()
    tac.secrets_absent(log, *creds)
    for t in tokens:
        assert t not in log, "a web identity token reached the log"


@pytest.mark.parametrize("endpoint", ["cqld", "keyspaces"])
def test_web_identity_from_the_environment_signs_as_the_role(pki, start_cqld, start_daemon,
                                                             postmap, endpoints, sts, tmp_path,
                                                             endpoint):
    role = Creds("ASIAWEBIDENTITY001", "web/role/secret", token="web-role-session", lifetime=3600)
    sts.role(ROLE_ARN, role)
    sts.web_tokens.add("eyJhbGciOiJSUzI1NiJ9.pod-token-1.sig")
    (tmp_path / "token").write_text("eyJhbGciOiJSUzI1NiJ9.pod-token-1.sig\n")
    node = tac.sigv4_node(start_cqld, pki, role, endpoint)
    imds = instance_role(endpoints)
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, AWS_ROLE_ARN=ROLE_ARN,
                                    AWS_WEB_IDENTITY_TOKEN_FILE=tmp_path / "token",
                                    AWS_ROLE_SESSION_NAME="mail-lookup-pod",
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    assert postmap.query(daemon.port, "users", "alice@example.com") == ("OK", "example.com/alice/")
    calls = sts.ok_calls("AssumeRoleWithWebIdentity")
    assert len(calls) == 1, sts.calls
    assert calls[0]["session"] == "mail-lookup-pod"
    assert calls[0]["content_type"].startswith("application/x-www-form-urlencoded")
    assert imds.count("PUT", "/") == 0, "the instance role was asked"
    assert tac.auth_stats(node)["last"] == role.key_id
    assert (f"aws: credentials from web identity: role {ROLE_ARN} (AWS_ROLE_ARN), token file "
            f"{tmp_path / 'token'}, STS at {sts.url}, as arn:aws:sts::111122223333:"
            f"assumed-role/mail-lookup/mail-lookup-pod: access key id {role.key_id}"
            in daemon.log_text()), tac.cred_lines(daemon)
    no_leak(daemon, role, tokens=["pod-token-1"])


def test_web_identity_token_is_read_again_and_the_role_refreshed(pki, start_cqld, start_daemon,
                                                                 postmap, sts, tmp_path):
    """Credentials live 8 s, refreshed 3 s ahead; meanwhile the platform
    rotates the token file and STS accepts only the new token. No
    AWS_ROLE_SESSION_NAME: the session name is generated."""
    gens = [Creds(f"ASIAWEBROTATE{i:05d}", f"web/rot/{i}", token=f"web-rot-{i}",
                  lifetime=8 if i == 0 else 3600) for i in range(2)]
    sts.role(ROLE_ARN, gens[0])
    sts.web_tokens.add("token-generation-0")
    (tmp_path / "token").write_text("token-generation-0")
    node = tac.sigv4_node(start_cqld, pki, gens[0])
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, AWS_ROLE_ARN=ROLE_ARN,
                                    AWS_WEB_IDENTITY_TOKEN_FILE=tmp_path / "token",
                                    AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=3))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert re.fullmatch(r"postfix-aws-cassandra-\d{13}", sts.ok_calls()[0]["session"])
    (tmp_path / "token").write_text("token-generation-1\n")
    sts.web_tokens = {"token-generation-1"}
    sts.role(ROLE_ARN, gens[1])
    node.control(f"auth key {gens[1].key_id}:{gens[1].secret}:{REGION}")
    wait_for(lambda: any(gens[1].key_id in l for l in tac.cred_lines(daemon)), timeout=8,
             what="the refresh before expiry")
    assert time.time() < gens[0].expiration
    assert [c["token"] for c in sts.ok_calls()] == ["token-generation-0", "token-generation-1"]
    node.control("drop")
    wait_for(lambda: tac.auth_stats(node)["last"] == gens[1].key_id, timeout=5,
             what="the new key in use")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups with the new key")
    no_leak(daemon, *gens, tokens=["token-generation"])


def test_web_identity_in_a_profile(pki, start_cqld, start_daemon, postmap, sts, tmp_path):
    role = Creds("ASIAPROFILEWEB0001", "profile/web/secret", token="pw-session", lifetime=3600)
    sts.role(ROLE_ARN, role)
    sts.web_tokens.add("profile-token")
    (tmp_path / "token").write_text("profile-token")
    (tmp_path / "config").write_text(f"[profile mail]\nrole_arn = {ROLE_ARN}\n"
                                     f"web_identity_token_file = {tmp_path / 'token'}\n"
                                     "role_session_name = from-profile\n")
    node = tac.sigv4_node(start_cqld, pki, role)
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, AWS_PROFILE="mail",
                                    AWS_CONFIG_FILE=tmp_path / "config",
                                    AWS_SHARED_CREDENTIALS_FILE=tmp_path / "none"))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert [c["session"] for c in sts.ok_calls("AssumeRoleWithWebIdentity")] == ["from-profile"]
    assert (f"profile mail: role {ROLE_ARN} assumed with STS at {sts.url} from web identity "
            f"token file {tmp_path / 'token'}, as arn:aws:sts::111122223333:assumed-role/"
            f"mail-lookup/from-profile: access key id {role.key_id}") in daemon.log_text()
    no_leak(daemon, role, tokens=["profile-token"])


def role_files(tmp_path, config, credentials=""):
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    return dict(AWS_CONFIG_FILE=tmp_path / "config",
                AWS_SHARED_CREDENTIALS_FILE=tmp_path / "credentials")


def test_assume_role_from_a_source_profile(pki, start_cqld, start_daemon, postmap, endpoints,
                                           sts, tmp_path):
    """The cross-account set-up: [default] assumes a role in another account
    with the keys of [base], an ExternalId, a session name and a duration.
    STS checks the SigV4 signature of AssumeRole against [base]'s keys."""
    base = Creds("AKIABASEUSER000001", "base/user/secret")
    role = Creds("ASIACROSSACCOUNT01", "xacct/secret", token="xacct-session", lifetime=3600)
    sts.callers[base.key_id] = base
    sts.role(XACCT_ARN, role, external_id="ext-7f3a")
    node = tac.sigv4_node(start_cqld, pki, role)
    imds = instance_role(endpoints)
    files = role_files(tmp_path,
                       f"[default]\nrole_arn = {XACCT_ARN}\nsource_profile = base\n"
                       "external_id = ext-7f3a\nrole_session_name = postfix-mx1\n"
                       "duration_seconds = 1800\nregion = us-west-2\n",
                       f"[base]\naws_access_key_id = {base.key_id}\n"
                       f"aws_secret_access_key = {base.secret}\n")
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, **files,
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    calls = sts.ok_calls("AssumeRole")
    assert len(calls) == 1, sts.calls
    assert calls[0]["caller"] == base.key_id
    assert (calls[0]["external_id"], calls[0]["session"], calls[0]["duration"]) == \
        ("ext-7f3a", "postfix-mx1", "1800")
    assert imds.count("PUT", "/") == 0
    assert (f"profile default: role {XACCT_ARN} assumed with STS at {sts.url} from "
            f"source_profile base (static keys), as arn:aws:sts::444455556666:assumed-role/"
            f"keyspaces-reader/postfix-mx1: access key id {role.key_id} (temporary"
            in daemon.log_text()), tac.cred_lines(daemon)
    no_leak(daemon, base, role)


def test_chained_roles_through_source_profiles(pki, start_cqld, start_daemon, postmap, sts,
                                              tmp_path):
    """mail -> hub (a role itself) -> base (static keys): hub's role is
    assumed with base's keys, then mail's role with hub's temporary keys
    (signed with their session token)."""
    base = Creds("AKIACHAINBASE00001", "chain/base/secret")
    hub = Creds("ASIACHAINHUB000001", "chain/hub/secret", token="hub-session", lifetime=3600)
    final = Creds("ASIACHAINFINAL0001", "chain/final/secret", token="final-session", lifetime=3600)
    hub_arn = "arn:aws:iam::111122223333:role/hub"
    sts.callers.update({base.key_id: base, hub.key_id: hub})
    sts.role(hub_arn, hub)
    sts.role(XACCT_ARN, final)
    node = tac.sigv4_node(start_cqld, pki, final)
    files = role_files(tmp_path,
                       f"[profile mail]\nrole_arn = {XACCT_ARN}\nsource_profile = hub\n"
                       f"[profile hub]\nrole_arn = {hub_arn}\nsource_profile = base\n",
                       f"[base]\naws_access_key_id = {base.key_id}\n"
                       f"aws_secret_access_key = {base.secret}\n")
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, AWS_PROFILE="mail", **files))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert [(c["role"], c["caller"]) for c in sts.ok_calls("AssumeRole")] == \
        [(hub_arn, base.key_id), (XACCT_ARN, hub.key_id)]
    assert "through chained roles" in tac.cred_lines(daemon)[0]
    no_leak(daemon, base, hub, final)


@pytest.mark.parametrize("source", ["Ec2InstanceMetadata", "EcsContainer"])
def test_assume_role_from_a_credential_source(pki, start_cqld, start_daemon, postmap, endpoints,
                                              sts, tmp_path, source):
    """The instance's (or task's) own role only signs AssumeRole; lookups
    are signed by the assumed role."""
    own = Creds("ASIAOWNROLE0000001", "own/role/secret", token="own-session", lifetime=3600)
    role = Creds("ASIAFROMSOURCE0001", "from/source/secret", token="fs-session", lifetime=3600)
    sts.callers[own.key_id] = own
    sts.role(XACCT_ARN, role)
    node = tac.sigv4_node(start_cqld, pki, role)
    env = sts_env(pki, node, tmp_path, sts,
                  **role_files(tmp_path, f"[default]\nrole_arn = {XACCT_ARN}\n"
                                         f"credential_source = {source}\n"))
    if source == "Ec2InstanceMetadata":
        ep = endpoints("imds", own)
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=ep.url)
    else:
        ep = endpoints("container", own)
        # Only the profile may use it: the container provider itself comes
        # after the shared files in the chain.
        env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=ep.url + "/creds")
    daemon = start_daemon(node.port, wait_ready=True, **env)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert [c["caller"] for c in sts.ok_calls("AssumeRole")] == [own.key_id]
    assert tac.auth_stats(node)["last"] == role.key_id
    assert (f"from credential_source {source}, as arn:aws:sts::444455556666:assumed-role/"
            f"keyspaces-reader/postfix-aws-cassandra-") in daemon.log_text()
    assert f"access key id {role.key_id}" in tac.cred_lines(daemon)[0]
    no_leak(daemon, own, role)


def refused(daemon, postmap, imds):
    wait_for(lambda: "no AWS credentials found" in daemon.log_text(), what="the error line")
    line = next(l for l in daemon.log_text().splitlines() if "no AWS credentials found" in l)
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "TEMP"
    assert imds.count("PUT", "/") == 0 and imds.count("GET", "/") == 0, "fell back to IMDS"
    assert not tac.cred_lines(daemon)
    return line


def test_a_source_profile_loop_is_refused(pki, start_cqld, start_daemon, postmap, endpoints, sts,
                                          tmp_path):
    node = tac.sigv4_node(start_cqld, pki, Creds("AKIANEVER000000001", "never"))
    imds = instance_role(endpoints)
    files = role_files(tmp_path, f"[default]\nrole_arn = {XACCT_ARN}\nsource_profile = a\n"
                                 f"[profile a]\nrole_arn = {ROLE_ARN}\nsource_profile = b\n"
                                 f"[profile b]\nrole_arn = {ROLE_ARN}\nsource_profile = a\n")
    daemon = start_daemon(node.port, wait_ready=False,
                          **sts_env(pki, node, tmp_path, sts, **files,
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    line = refused(daemon, postmap, imds)
    assert "source_profile loop: default -> a -> b -> a" in line, line
    assert sts.calls == []


@pytest.mark.parametrize("case", ["no_source", "both", "bad_source", "bad_duration",
                                  "web_token_without_role"])
def test_a_role_profile_that_cannot_be_used_stops_the_chain(pki, start_cqld, start_daemon,
                                                            postmap, endpoints, sts, tmp_path,
                                                            case):
    config, why = {
        "no_source": (f"role_arn = {ROLE_ARN}\n",
                      "has role_arn without source_profile, credential_source or "
                      "web_identity_token_file"),
        "both": (f"role_arn = {ROLE_ARN}\nsource_profile = default\n"
                 "credential_source = Environment\n",
                 "has both source_profile and credential_source"),
        "bad_source": (f"role_arn = {ROLE_ARN}\ncredential_source = Ec2Metadata\n",
                       "credential_source 'Ec2Metadata' is not Environment, "
                       "Ec2InstanceMetadata or EcsContainer"),
        "bad_duration": (f"role_arn = {ROLE_ARN}\ncredential_source = Environment\n"
                         "duration_seconds = 60\n", "duration_seconds '60' is not a number"),
        "web_token_without_role": ("web_identity_token_file = /var/run/token\n",
                                   "has web_identity_token_file without role_arn"),
    }[case]
    node = tac.sigv4_node(start_cqld, pki, Creds("AKIANEVER000000001", "never"))
    imds = instance_role(endpoints)
    files = role_files(tmp_path, "[default]\n" + config)
    daemon = start_daemon(node.port, wait_ready=False,
                          **sts_env(pki, node, tmp_path, sts, **files,
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    line = refused(daemon, postmap, imds)
    assert why in line, line
    assert sts.calls == []


def test_sts_errors_are_named_and_stop_the_chain(pki, start_cqld, start_daemon, postmap,
                                                 endpoints, sts, tmp_path):
    sts.error = ("AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/node is not "
                 "authorized to perform: sts:AssumeRoleWithWebIdentity", 403)
    (tmp_path / "token").write_text("some-pod-token")
    node = tac.sigv4_node(start_cqld, pki, Creds("AKIANEVER000000001", "never"))
    imds = instance_role(endpoints)
    daemon = start_daemon(node.port, wait_ready=False,
                          **sts_env(pki, node, tmp_path, sts, AWS_ROLE_ARN=ROLE_ARN,
                                    AWS_WEB_IDENTITY_TOKEN_FILE=tmp_path / "token",
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    line = refused(daemon, postmap, imds)
    assert (f"AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity at {sts.url}: HTTP 403, AccessDenied: "
            "User: arn:aws:sts::111122223333:assumed-role/node is not authorized") in line, line
    assert "some-pod-token" not in daemon.log_text()


def test_an_sts_certificate_not_from_aws_ca_bundle_is_refused(pki, start_cqld, start_daemon,
                                                              postmap, endpoints, sts, tmp_path):
    role = Creds("ASIAWEBIDENTITY001", "web/role/secret", token="web-role-session", lifetime=3600)
    sts.role(ROLE_ARN, role)
    sts.web_tokens.add("tok")
    (tmp_path / "token").write_text("tok")
    node = tac.sigv4_node(start_cqld, pki, role)
    imds = instance_role(endpoints)
    env = sts_env(pki, node, tmp_path, sts, AWS_ROLE_ARN=ROLE_ARN,
                  AWS_WEB_IDENTITY_TOKEN_FILE=tmp_path / "token",
                  AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    env["AWS_CA_BUNDLE"] = pki.other_ca_cert
    daemon = start_daemon(node.port, wait_ready=False, **env)
    line = refused(daemon, postmap, imds)
    assert "TLS certificate verification failed" in line, line
    assert sts.calls == []


def test_sts_down_at_refresh_keeps_the_old_credentials_until_they_expire(
        pki, start_cqld, start_daemon, postmap, sts, tmp_path):
    base = Creds("AKIABASEUSER000002", "base/user/secret/2")
    old = Creds("ASIAOLDROLE0000001", "old/role/secret", token="old-role-session", lifetime=14)
    new = Creds("ASIANEWROLE0000002", "new/role/secret", token="new-role-session", lifetime=3600)
    sts.callers[base.key_id] = base
    sts.role(XACCT_ARN, old)
    node = tac.sigv4_node(start_cqld, pki, old)
    files = role_files(tmp_path, f"[default]\nrole_arn = {XACCT_ARN}\nsource_profile = base\n",
                       f"[base]\naws_access_key_id = {base.key_id}\n"
                       f"aws_secret_access_key = {base.secret}\n")
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, **files,
                                    AWS_CREDENTIALS_REFRESH_MARGIN_SECONDS=11))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    sts.down = True
    wait_for(lambda: "cannot refresh credentials" in daemon.log_text(), timeout=8,
             what="the failed refresh")
    line = next(l for l in daemon.log_text().splitlines() if "cannot refresh credentials" in l)
    assert f"keeping access key id {old.key_id} until it expires at" in line, line
    assert "STS AssumeRole at" in line, line
    node.control("drop")
    wait_for(lambda: int(tac.auth_stats(node)["accepted"]) >= 2, timeout=5, what="a reconnect")
    wait_for(lambda: postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK",
             timeout=5, what="lookups with the old key")
    sts.role(XACCT_ARN, new)
    node.control(f"auth key {new.key_id}:{new.secret}:{REGION}")
    sts.down = False
    wait_for(lambda: any(new.key_id in l for l in tac.cred_lines(daemon)), timeout=10,
             what="the refresh once STS is back")
    assert time.time() < old.expiration
    no_leak(daemon, base, old, new)


@pytest.mark.parametrize("profile", ["static", "role"])
def test_web_identity_and_a_profile_in_the_majority_order(pki, start_cqld, start_daemon, postmap,
                                                          sts, tmp_path, profile):
    """Both the environment's web identity and [default] offer credentials.
    Static keys in [default]: the web identity wins (botocore's provider
    list, Go's resolveCredentialChain; the JS SDK would take the keys).
    A role from source_profile in [default]: the profile wins (botocore's
    AssumeRoleProvider and the JS SDK's fromIni come first; Go would take
    the web identity)."""
    web = Creds("ASIAWEBIDENTITY777", "web/secret/7", token="web-session-7", lifetime=3600)
    base = Creds("AKIABASEUSER000777", "base/secret/7")
    xacct = Creds("ASIAXACCT000000777", "xacct/secret/7", token="xacct-session-7", lifetime=3600)
    sts.role(ROLE_ARN, web)
    sts.role(XACCT_ARN, xacct)
    sts.callers[base.key_id] = base
    sts.web_tokens.add("pod-token-7")
    (tmp_path / "token").write_text("pod-token-7")
    statics = f"aws_access_key_id = {base.key_id}\naws_secret_access_key = {base.secret}\n"
    if profile == "static":
        files = role_files(tmp_path, "", "[default]\n" + statics)
        want = web
    else:
        files = role_files(tmp_path, f"[default]\nrole_arn = {XACCT_ARN}\nsource_profile = base\n",
                           "[base]\n" + statics)
        want = xacct
    node = tac.sigv4_node(start_cqld, pki, want)
    daemon = start_daemon(node.port, wait_ready=True,
                          **sts_env(pki, node, tmp_path, sts, **files, AWS_ROLE_ARN=ROLE_ARN,
                                    AWS_WEB_IDENTITY_TOKEN_FILE=tmp_path / "token"))
    assert postmap.query(daemon.port, "users", "alice@example.com")[0] == "OK"
    assert tac.auth_stats(node)["last"] == want.key_id
    assert [c["action"] for c in sts.ok_calls()] == \
        ["AssumeRoleWithWebIdentity" if profile == "static" else "AssumeRole"]
    no_leak(daemon, web, base, xacct, tokens=["pod-token-7"])
