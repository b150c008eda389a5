"""The daemon's AWS credential chain against a real AWS SDK's (differential).

The oracle is the AWS SDK for JavaScript v3's default chain
(`@aws-sdk/credential-provider-node`, pinned by tests/drivers/awssdk/
package-lock.json, run by tests/drivers/awssdk/chain.js). For every case
below both run under the same clean environment: HOME in tmp_path with the
case's ~/.aws/credentials and ~/.aws/config, the same fake IMDSv2 and
container endpoints on loopback (tests/e2e/aws_fakes.py), no real metadata
service (AWS_EC2_METADATA_SERVICE_ENDPOINT always points at a fake or at a
closed loopback port). The daemon reports its choice with
`postfix-aws-cassandra --credentials` (source and access key id, never the
secret). Both must end with the case's access key id, or both fail
(expect=None).

Where the JS SDK answers differently from botocore and the Go SDK v2, the
case follows the majority: `expect` is the majority's answer, `js` is what
the JS SDK does, and `note` names the code of each SDK (read in boto/botocore,
aws/aws-sdk-go-v2, and the installed JS packages). The JS SDK's deviation is
still asserted, so a change in it shows up here.

Cases are a table: add yours to CASES (or CASES.extend(...)) with the same
fields. `imds` and `container` say which fake endpoints run and how they
behave; `env` may use the {imds}, {container}, {container_localhost},
{closed} (a loopback port nothing listens on), {home} and {tmp}
placeholders; `files` are written under tmp_path. Other fakes (an STS
endpoint, say) plug in through SETUP_HOOKS and the case's `extra` options.

The daemon from an older build (without --credentials) is asked by starting
it in service mode and reading which key its log says it took, so the
same cases can be run against the base build (PAC_BUILD=/work/base/build).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Optional

import pytest

from aws_fakes import ROLE, Creds, FakeEndpoint
from conftest import DAEMON, ROOT

AWSSDK_DIR = ROOT / "tests" / "drivers" / "awssdk"
NODE = shutil.which("node")

K_ENV = "AKIAENVIRONMENT00001"
K_CRED = "AKIACREDFILEDEFAULT1"
K_CONF = "AKIACONFIGDEFAULT001"
K_WORK = "AKIAWORKPROFILE00001"
K_OTHER = "AKIAOTHERPROFILE0001"
K_IMDS = "ASIAINSTANCEROLE0001"
K_CONTAINER = "ASIACONTAINERROLE001"
K_PROCESS = "ASIACREDPROCESS00001"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

pytestmark = pytest.mark.skipif(
    NODE is None or not (AWSSDK_DIR / "node_modules" / "@aws-sdk" / "credential-provider-node").is_dir(),
    reason="node or tests/drivers/awssdk/node_modules missing (scripts/install-deps.sh)")


@dataclass
class Case:
    name: str
    expect: Optional[str]             # the access key id both must end with; None: both fail
    credentials: Optional[str] = None  # ~/.aws/credentials text (str, written as UTF-8)
    config: Optional[str] = None       # ~/.aws/config text
    env: dict = field(default_factory=dict)
    imds: Optional[str] = None         # None (closed port), "ok", "expired", "500"
    container: Optional[str] = None    # None, "ok", "500", "closed"
    container_token: Optional[str] = None   # the container endpoint wants this Authorization
    files: dict = field(default_factory=dict)   # more files under tmp: name -> text
    js: Optional[object] = "same"      # the JS SDK's answer where it differs from the majority
    note: str = ""                     # why, with the SDKs' sources
    extra: dict = field(default_factory=dict)   # options for SETUP_HOOKS


# Hooks for more fakes: each is called as hook(case, setup, subst) after the
# IMDS and container fakes have started and before the case's files and env
# are written; it may start servers (append them to setup.fakes: they are
# stopped after the case), add placeholders to subst and variables to
# setup.env.
SETUP_HOOKS = []


def static(key, secret=SECRET):
    return f"aws_access_key_id = {key}\naws_secret_access_key = {secret}\n"


PROCESS_OK = ("#!/bin/sh\n"
              "printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"" + K_PROCESS + "\", "
              "\"SecretAccessKey\": \"" + SECRET + "\"}'\n")
PROCESS_FAIL = "#!/bin/sh\necho 'sso session expired' >&2\nexit 1\n"

CASES = [
    # ---- each source alone, and the order between them ----
    Case("env_only", K_ENV, env={"AWS_ACCESS_KEY_ID": K_ENV, "AWS_SECRET_ACCESS_KEY": SECRET}),
    Case("env_before_files_and_imds", K_ENV, credentials="[default]\n" + static(K_CRED),
         imds="ok", env={"AWS_ACCESS_KEY_ID": K_ENV, "AWS_SECRET_ACCESS_KEY": SECRET}),
    Case("env_key_without_secret_is_skipped", K_IMDS, imds="ok",
         env={"AWS_ACCESS_KEY_ID": K_ENV},
         note="Go (config/envconfig.go NewEnvConfig: creds kept only if HasKeys) and JS "
              "(credential-provider-env fromEnv: CredentialsProviderError, next link) go on; "
              "botocore (credentials.py EnvProvider) raises PartialCredentialsError. Majority: go on."),
    Case("credentials_file_default", K_CRED, credentials="[default]\n" + static(K_CRED), imds="ok"),
    Case("config_file_default", K_CONF, config="[default]\n" + static(K_CONF), imds="ok"),
    Case("credentials_file_wins_over_config", K_CRED, credentials="[default]\n" + static(K_CRED),
         config="[default]\n" + static(K_CONF)),
    Case("files_before_container", K_CRED, credentials="[default]\n" + static(K_CRED),
         container="ok"),
    Case("aws_profile_in_credentials", K_WORK, env={"AWS_PROFILE": "work"},
         credentials="[default]\n" + static(K_CRED) + "[work]\n" + static(K_WORK)),
    Case("aws_profile_in_config", K_WORK, env={"AWS_PROFILE": "work"},
         config="[default]\n" + static(K_CONF) + "[profile work]\n" + static(K_WORK)),
    Case("aws_profile_missing_stops_the_chain", None, env={"AWS_PROFILE": "nosuch"},
         credentials="[default]\n" + static(K_CRED), imds="ok",
         js=K_IMDS,
         note="botocore (session.py: ProfileNotFound) and Go (config/resolve_credentials.go: "
              "SharedConfigProfileNotExistError) fail; JS fromIni fails with tryNextLink and the "
              "chain reaches IMDS. Majority: fail."),
    Case("aws_profile_wins_over_env_keys_in_js_only", K_ENV, env={
         "AWS_PROFILE": "work", "AWS_ACCESS_KEY_ID": K_ENV, "AWS_SECRET_ACCESS_KEY": SECRET},
         credentials="[work]\n" + static(K_WORK),
         js=K_WORK,
         note="botocore (credentials.py create_credential_resolver: env first) and Go "
              "(resolve_credentials.go resolveCredentialChain: env keys before profile unless "
              "the profile is given in code) take the environment's keys; JS "
              "(credential-provider-node defaultProvider) skips fromEnv when AWS_PROFILE is set. "
              "Majority: environment."),
    Case("aws_default_profile_is_read", K_WORK, env={"AWS_DEFAULT_PROFILE": "work"},
         credentials="[default]\n" + static(K_CRED) + "[work]\n" + static(K_WORK),
         js=K_CRED,
         note="botocore (configprovider.py: profile from AWS_DEFAULT_PROFILE, AWS_PROFILE) and Go "
              "(config/envconfig.go profileEnvKeys) read AWS_DEFAULT_PROFILE; JS reads only "
              "AWS_PROFILE. Majority: read it."),
    Case("aws_profile_wins_over_aws_default_profile", K_WORK,
         env={"AWS_PROFILE": "work", "AWS_DEFAULT_PROFILE": "other"},
         credentials="[other]\n" + static(K_OTHER) + "[work]\n" + static(K_WORK),
         note="Go (envconfig.go profileEnvKeys: AWS_PROFILE first) and JS (only AWS_PROFILE) take "
              "AWS_PROFILE; botocore lists AWS_DEFAULT_PROFILE first and would take 'other'. "
              "Majority: AWS_PROFILE."),
    Case("aws_profile_empty_means_default", K_CRED, env={"AWS_PROFILE": ""},
         credentials="[default]\n" + static(K_CRED), imds="ok"),
    Case("missing_credentials_file_then_config", K_CONF, imds="ok",
         env={"AWS_SHARED_CREDENTIALS_FILE": "{tmp}/no-such-file"},
         config="[default]\n" + static(K_CONF)),
    Case("session_token_in_credentials_file", K_CRED, imds="ok",
         credentials="[default]\n" + static(K_CRED) + "aws_session_token = tok\n"),
    Case("container_full_uri", K_CONTAINER, container="ok", imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds"}),
    Case("container_localhost_name", K_CONTAINER, container="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container_localhost}/creds"}),
    Case("container_authorization_token", K_CONTAINER, container="ok", container_token="tok-123",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds",
              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok-123"}),
    Case("container_authorization_token_file", K_CONTAINER, container="ok",
         container_token="tok-from-file",
         files={"token": "tok-from-file"},
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds",
              "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "{tmp}/token"}),
    Case("container_wrong_token_stops", None, container="ok", container_token="right", imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds",
              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"}),
    # item 1: a container endpoint that is set but failing stops the chain
    Case("container_http_500_does_not_fall_to_imds", None, container="500", imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds"}),
    Case("container_refused_does_not_fall_to_imds", None, imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{closed}/creds"}),
    # item 5: the FULL_URI host is checked by address, not by a string prefix
    Case("container_full_uri_127_name_refused", None, imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.example.invalid/creds"}),
    Case("container_full_uri_foreign_host_refused", None, imds="ok",
         env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.1/creds"}),
    Case("imds_role", K_IMDS, imds="ok"),
    Case("imds_disabled", None, imds="ok", env={"AWS_EC2_METADATA_DISABLED": "true"}),
    Case("imds_disabled_false_is_enabled", K_IMDS, imds="ok",
         env={"AWS_EC2_METADATA_DISABLED": "false"}),
    Case("imds_down", None),
    Case("imds_http_500", None, imds="500"),
    # item 3: static stability: expired credentials from IMDS are extended, not refused
    Case("imds_expired_credentials_are_extended", K_IMDS, imds="expired",
         note="botocore (utils.py InstanceMetadataFetcher._evaluate_expiration), Go "
              "(ec2rolecreds HandleFailToRefresh / AdjustExpiresBy) and JS "
              "(credential-provider-imds staticStabilityProvider) all extend them."),
    Case("no_source_at_all", None),
    # ---- item 4: a profile present but broken or unsupported stops the chain ----
    Case("default_key_without_secret_stops", None, credentials="[default]\naws_access_key_id = "
         + K_CRED + "\n", imds="ok", js=K_IMDS,
         note="botocore (credentials.py SharedCredentialProvider: PartialCredentialsError) fails; "
              "Go (resolveCredsFromProfile: no HasKeys, default case) and JS (fromIni: not a "
              "static profile, next link) reach IMDS. Issue 17 item 4 asks for the stop: a "
              "profile the operator wrote must not be replaced by the instance role."),
    Case("default_secret_without_key_stops", None,
         credentials="[default]\naws_secret_access_key = " + SECRET + "\n", imds="ok", js=K_IMDS,
         note="as default_key_without_secret_stops"),
    Case("default_empty_key_value_stops", None,
         credentials="[default]\naws_access_key_id =\naws_secret_access_key = " + SECRET + "\n",
         imds="ok", js=K_IMDS, note="as default_key_without_secret_stops"),
    Case("role_arn_with_source_profile_not_signed_as_someone_else", None, imds="ok",
         config="[default]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n"
                "[profile base]\n" + static(K_OTHER),
         note="STS is a closed port here: the daemon, as the JS SDK, fails and never signs "
              "with the base profile's or the instance's keys. The cases with a fake STS are "
              "in test_aws_sdk_chain_sts.py."),
    Case("role_arn_with_credential_source_not_signed_as_instance", None, imds="ok",
         config="[default]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
                "credential_source = Ec2InstanceMetadata\n"),
    Case("credential_process", K_PROCESS, imds="ok", files={"proc.sh": PROCESS_OK},
         config="[default]\ncredential_process = sh {tmp}/proc.sh\n"),
    Case("credential_process_failing_stops", None, imds="ok", files={"proc.sh": PROCESS_FAIL},
         config="[default]\ncredential_process = sh {tmp}/proc.sh\n", js=K_IMDS,
         note="botocore (credentials.py ProcessProvider: CredentialRetrievalError) and Go "
              "(config/resolve_credentials.go resolveCredsFromProfile -> processcreds: the "
              "error is returned) stop; JS (credential-provider-ini resolveProcessCredentials, "
              "then fromProcess) fails with tryNextLink and the chain reaches IMDS. Majority: "
              "stop, never another identity."),
    Case("static_keys_win_over_credential_process", K_CRED, files={"proc.sh": PROCESS_OK},
         credentials="[default]\n" + static(K_CRED),
         config="[default]\ncredential_process = sh {tmp}/proc.sh\n"),
    # ---- item 5: files ----
    Case("aws_config_file_tilde", K_WORK, env={"AWS_CONFIG_FILE": "~/elsewhere/cfg"},
         files={"home/elsewhere/cfg": "[default]\n" + static(K_WORK)}, imds="ok",
         note="botocore (configloader.py raw_config_parse: expanduser) and JS "
              "(shared-ini-file-loader loadSharedConfigFiles: '~/') expand '~'."),
    Case("aws_shared_credentials_file_tilde", K_WORK,
         env={"AWS_SHARED_CREDENTIALS_FILE": "~/elsewhere/creds"},
         files={"home/elsewhere/creds": "[default]\n" + static(K_WORK)}, imds="ok"),
    Case("utf8_bom_is_skipped", K_CRED, credentials="\ufeff[default]\n" + static(K_CRED), imds="ok",
         note="JS reads it (its \\s matches U+FEFF); botocore (configparser: "
              "MissingSectionHeaderError) and Go (internal/ini tokenize: unrecognized token) "
              "refuse the file. Issue 17 item 5 asks for the BOM to be skipped: the file is what "
              "the operator wrote."),
    Case("crlf_line_ends", K_CRED, credentials=("[default]\n" + static(K_CRED)).replace("\n", "\r\n"),
         imds="ok"),
    Case("full_line_comments", K_CRED, imds="ok",
         credentials="# a comment\n; another\n[default]\n  # indented comment\n" + static(K_CRED)),
    Case("inline_comment_after_blank", K_CRED, imds="ok",
         credentials=f"[default]  # the usual\naws_access_key_id = {K_CRED}  # prod key\n"
                     f"aws_secret_access_key = {SECRET} ; rotated\n",
         note="Go (internal/ini strings.go trimComment: cut at any # or ;) and JS (parseIni: "
              "[;#] at the start or after a blank) strip it; botocore (RawConfigParser, no "
              "inline_comment_prefixes) keeps it in the value. Majority: a # or ; after a blank "
              "starts a comment."),
    Case("hash_inside_value_is_kept", "AKIA#NOTACOMMENT0001", imds="ok",
         credentials="[default]\naws_access_key_id = AKIA#NOTACOMMENT0001\n"
                     f"aws_secret_access_key = {SECRET}\n",
         note="botocore and JS keep a # not preceded by a blank; Go cuts it. Majority: keep."),
    Case("profile_default_in_config", K_CONF, config="[profile default]\n" + static(K_CONF)),
    Case("profile_prefix_in_credentials_is_a_plain_name", None, env={"AWS_PROFILE": "work"},
         credentials="[profile work]\n" + static(K_WORK), imds="ok",
         js=K_IMDS,
         note="in the credentials file '[profile work]' is a profile named 'profile work' "
              "(all three); the missing named profile then stops the chain as in "
              "aws_profile_missing_stops_the_chain (JS goes on to IMDS)."),
    Case("config_section_without_profile_prefix_is_ignored", None, env={"AWS_PROFILE": "work"},
         config="[work]\n" + static(K_WORK), imds="ok", js=K_IMDS,
         note="botocore (build_profile_map), Go (shared_config.go) and JS (getConfigData) ignore "
              "a config section that is neither [default] nor [profile NAME]; then as "
              "aws_profile_missing_stops_the_chain."),
    Case("nested_section_is_skipped", K_CONF, imds="ok",
         config="[default]\ns3 =\n  max_concurrent_requests = 20\n  aws_access_key_id = AKIANESTED\n"
                + static(K_CONF)),
    Case("duplicate_sections_merge", K_CRED, imds="ok",
         credentials=f"[default]\naws_access_key_id = {K_CRED}\n[work]\n" + static(K_WORK)
                     + f"[default]\naws_secret_access_key = {SECRET}\n",
         note="Go (internal/ini parse.go: same section continued) and JS merge; botocore "
              "(RawConfigParser strict: DuplicateSectionError) refuses the file. Majority: merge."),
    Case("duplicate_key_last_wins", K_CRED, imds="ok",
         credentials=f"[default]\naws_access_key_id = {K_OTHER}\n" + static(K_CRED),
         note="Go and JS take the last; botocore (strict: DuplicateOptionError) refuses. "
              "Majority: last wins."),
    Case("upper_case_keys", K_CRED, imds="ok",
         credentials=f"[default]\nAWS_ACCESS_KEY_ID = {K_CRED}\nAws_Secret_Access_Key = {SECRET}\n",
         js=K_IMDS,
         note="botocore (configparser optionxform: lower) and Go (tokenize.go asProperty: "
              "ToLower) ignore key case; JS matches keys exactly and goes on to IMDS. "
              "Majority: case-insensitive."),
    Case("quoted_values_keep_their_quotes", '"AKIAQUOTED0000000001"', imds="ok",
         credentials='[default]\naws_access_key_id = "AKIAQUOTED0000000001"\n'
                     f'aws_secret_access_key = "{SECRET}"\n',
         note="botocore and JS take the value as written, quotes included; Go (strings.go "
              "legacyStrconv) unquotes. Majority: as written."),
    Case("no_blanks_around_equals", K_CRED, imds="ok",
         credentials=f"[default]\naws_access_key_id={K_CRED}\n\taws_secret_access_key\t=\t{SECRET}\n"
                     .replace("\n\t", "\n"),
         ),
    Case("blank_lines_and_tabs", K_CRED, imds="ok",
         credentials=f"\n\n[default]\n\naws_access_key_id\t=\t{K_CRED}\t\n\n"
                     f"aws_secret_access_key =   {SECRET}\n\n"),
]


# Cases the daemon still gets wrong; the fixes of issue 17 remove them one by
# one (strict: a case that starts passing must leave this set).
NOT_YET = {
}


def case_params(cases):
    """AWS_CHAIN_NO_XFAIL=1 runs every case plainly (to see what an old build prints)."""
    plain = os.environ.get("AWS_CHAIN_NO_XFAIL") == "1"
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason="issue 17")]
                         if c.name in NOT_YET and not plain else []) for c in cases]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fill(text, subst):
    """The {name} placeholders of subst replaced; other braces left alone."""
    for k, v in subst.items():
        text = text.replace("{" + k + "}", v)
    return text


def imds_creds(kind):
    if kind == "expired":
        return Creds(K_IMDS, SECRET, token="imds-session-token", lifetime=-600)
    return Creds(K_IMDS, SECRET, token="imds-session-token", lifetime=3600)


class Setup:
    """The case's files and endpoints; .env is the environment both run with."""

    def __init__(self, case, tmp_path):
        self.fakes = []
        home = tmp_path / "home"
        (home / ".aws").mkdir(parents=True)
        closed = f"http://127.0.0.1:{free_port()}"
        subst = {"home": str(home), "tmp": str(tmp_path), "closed": closed}
        imds_url = closed
        if case.imds:
            e = FakeEndpoint("imds", imds_creds(case.imds))
            e.failing = case.imds == "500"
            self.fakes.append(e)
            imds_url = e.url
        subst["imds"] = imds_url
        if case.container:
            e = FakeEndpoint("container", Creds(K_CONTAINER, SECRET, token="container-token",
                                                lifetime=3600), auth_token=case.container_token)
            e.failing = case.container == "500"
            self.fakes.append(e)
            subst["container"] = e.url
            subst["container_localhost"] = f"http://localhost:{e.port}"
        self.env = {}
        for hook in SETUP_HOOKS:
            hook(case, self, subst)
        for name, text in case.files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(fill(text, subst))
        for name, text in (("credentials", case.credentials), ("config", case.config)):
            if text is not None:
                (home / ".aws" / name).write_bytes(fill(text, subst).encode("utf-8"))
        self.env = dict({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                         "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url,
                         "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "1",
                         "AWS_METADATA_SERVICE_TIMEOUT": "2",
                         # No real STS either (the JS SDK assumes roles itself).
                         "AWS_ENDPOINT_URL_STS": closed,
                         "AWS_REGION": "us-west-2"}, **self.env)
        for k, v in case.env.items():
            self.env[k] = fill(v, subst)

    def close(self):
        for e in self.fakes:
            e.stop()


def sdk_answer(env):
    """The JS SDK's access key id, or None when its chain fails."""
    r = subprocess.run([NODE, str(AWSSDK_DIR / "chain.js")], env=env, cwd=AWSSDK_DIR,
                       capture_output=True, text=True, timeout=120)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, f"chain.js printed nothing:\n{r.stdout}\n{r.stderr}"
    doc = json.loads(lines[-1])
    return (doc["access_key_id"] if doc["ok"] else None), doc.get("error", ""), r.stderr


def daemon_answer(env, tmp_path):
    """The daemon's access key id (or None) and its log."""
    r = subprocess.run([str(DAEMON), "--credentials"], env=env, capture_output=True, text=True,
                       timeout=120)
    if r.returncode == 2 and "unknown or incomplete option" in r.stderr:
        return daemon_answer_from_log(env, tmp_path)
    m = re.search(r"^access_key_id: (.*)$", r.stdout, re.M)
    if r.returncode == 0:
        assert m, r.stdout
        return m.group(1), r.stdout + r.stderr
    assert r.returncode == 1 and r.stdout.strip() == "none", (r.returncode, r.stdout, r.stderr)
    return None, r.stdout + r.stderr


def daemon_answer_from_log(env, tmp_path):
    """An older build: serve with an unreachable database and read the log."""
    log = tmp_path / "daemon.log"
    e = dict(env, KEYSPACE_NAME="mailion", CASSANDRA_HOSTS=f"127.0.0.1:{free_port()}",
             CASSANDRA_TLS="off", CASSANDRA_AUTH="sigv4", PORT="0", LOG_LEVEL="info")
    with open(log, "wb") as f:
        p = subprocess.Popen([str(DAEMON), "--foreground", "--port-file", str(tmp_path / "pf")],
                             env=e, stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            m = re.search(r"aws: credentials from .*?: access key id ([^\s,]+)", text)
            if m:
                # Credentials that arrived expired are dropped a second later.
                time.sleep(2.5)
                text = log.read_text(errors="replace")
                if f"access key id {m.group(1)}) expired" in text:
                    return None, text
                return m.group(1), text
            if "no AWS credentials found" in text or p.poll() is not None:
                return None, text
            time.sleep(0.1)
        raise AssertionError("the daemon neither found nor gave up on credentials:\n" + text)
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("case", case_params(CASES))
def test_daemon_chooses_what_the_sdks_choose(case, tmp_path):
    setup = Setup(case, tmp_path)
    try:
        js, js_err, js_log = sdk_answer(setup.env)
        ours, log = daemon_answer(setup.env, tmp_path)
    finally:
        setup.close()
    js_expect = case.expect if case.js == "same" else case.js
    assert SECRET not in log, "the daemon printed a secret"
    assert ours == case.expect, (
        f"daemon: {ours!r}, expected {case.expect!r} ({case.note or 'all SDKs agree'})\n{log}")
    assert js == js_expect, (
        f"JS SDK: {js!r} ({js_err}), the table says {js_expect!r}: the oracle changed?\n{js_log}")


def test_info_log_names_the_source_and_why_a_set_up_source_is_unusable(tmp_path):
    """Acceptance of issue 17: at info level the log names the source in
    use and, for a source that is set up but unusable, why; sources that
    are simply absent stay at debug. --credentials prints the same choice."""
    case = Case("log", K_IMDS, imds="ok", env={"AWS_ACCESS_KEY_ID": K_ENV},
                config="[default]\nregion = eu-west-1\n")
    setup = Setup(case, tmp_path)
    try:
        r = subprocess.run([str(DAEMON), "--credentials"], env=dict(setup.env, LOG_LEVEL="info"),
                           capture_output=True, text=True, timeout=120)
    finally:
        setup.close()
    assert r.returncode == 0, r.stderr
    assert f"access_key_id: {K_IMDS}" in r.stdout
    assert "source: instance metadata (IMDSv2) at http://127.0.0.1:" in r.stdout
    assert ("info: aws: credential source env is set but unusable: AWS_ACCESS_KEY_ID is set "
            "but AWS_SECRET_ACCESS_KEY is not; trying the next") in r.stderr, r.stderr
    assert "info: aws: credentials from instance metadata (IMDSv2) at http://127.0.0.1:" \
           in r.stderr
    # The default profile with a region only, and the container endpoint not
    # set, are not problems: nothing about them at info.
    assert "profile" not in r.stderr and "container" not in r.stderr, r.stderr
    assert SECRET not in r.stdout + r.stderr


def test_imds_is_asked_once_by_default_as_the_reference_guide_says(tmp_path):
    """Issue 17 item 5: AWS_METADATA_SERVICE_NUM_ATTEMPTS defaults to 1 (AWS
    SDKs and Tools Reference Guide; botocore; the JS SDK's maxRetries 0).
    Against an IMDS that answers 500 for the role's credentials, the JS SDK
    and the daemon each ask once. (18c8247 asked 3 times.)"""
    case = Case("attempts", None, imds="500")
    setup = Setup(case, tmp_path)
    imds = setup.fakes[0]
    path = "/latest/meta-data/iam/security-credentials/" + ROLE
    env = {k: v for k, v in setup.env.items() if k != "AWS_METADATA_SERVICE_NUM_ATTEMPTS"}
    try:
        js, _, _ = sdk_answer(env)
        js_asks = imds.count("GET", path)
        ours, log = daemon_answer(env, tmp_path)
        our_asks = imds.count("GET", path) - js_asks
    finally:
        setup.close()
    assert js is None and ours is None, log
    assert js_asks == 1, js_asks
    assert our_asks == 1, (our_asks, log)
