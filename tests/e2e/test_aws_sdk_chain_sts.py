"""The STS cases of the differential suite (test_aws_sdk_chain.py): web
identity and role assumption, the AWS SDK for JavaScript v3 as the oracle.

Same table, same rules: both the JS SDK's default chain and the daemon run
under the same environment and files, with the same fake endpoints, and
must end with the case's access key id or both fail; where the JS SDK
differs from botocore and Go, the case follows the majority and says so.
Here the fakes include STS (tests/e2e/fake_sts.py, HTTPS with the test CA:
AWS_CA_BUNDLE for the daemon, NODE_EXTRA_CA_CERTS for node; the endpoint
as AWS_ENDPOINT_URL_STS, which both read). The fake STS verifies the SigV4
signature of every AssumeRole against the credentials of its caller (it
knows the keys of every source of these cases), so a case passes only when
the role was assumed with the right source credentials.
"""
from dataclasses import dataclass, field

import pytest

from aws_fakes import Creds
from fake_sts import FakeSTS
from test_aws_sdk_chain import (K_CONTAINER, K_CRED, K_ENV, K_IMDS, K_OTHER, K_PROCESS,
                                PROCESS_OK, SECRET, Case, Setup, daemon_answer, sdk_answer,
                                static)
from test_aws_sdk_chain import pytestmark  # noqa: F401  (skip without node)
from tls_certs import session_pki

K_WEB = "ASIAWEBIDENTITYROLE1"
K_ROLE = "ASIAASSUMEDROLE00001"
K_HUB = "ASIAHUBROLE000000001"
ARN_WEB = "arn:aws:iam::111122223333:role/pod"
ARN_ROLE = "arn:aws:iam::444455556666:role/keyspaces-reader"
ARN_HUB = "arn:aws:iam::111122223333:role/hub"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.pod.sig"

ROLES = {ARN_WEB: K_WEB, ARN_ROLE: K_ROLE, ARN_HUB: K_HUB}
# Everyone the fake STS lets call AssumeRole, with the keys the fakes hand out.
CALLERS = [Creds(K_ENV, SECRET), Creds(K_CRED, SECRET), Creds(K_OTHER, SECRET),
           Creds(K_IMDS, SECRET, token="imds-session-token"),
           Creds(K_CONTAINER, SECRET, token="container-token"), Creds(K_PROCESS, SECRET)]
WEB_ENV = {"AWS_ROLE_ARN": ARN_WEB, "AWS_WEB_IDENTITY_TOKEN_FILE": "{tmp}/token"}


@dataclass
class StsCase(Case):
    external_ids: dict = field(default_factory=dict)   # ARN -> the ExternalId it requires
    sts_error: tuple = None                            # every call fails: (code, message, status)


def role_profile(name, arn, **keys):
    head = "[default]" if name == "default" else f"[profile {name}]"
    return f"{head}\nrole_arn = {arn}\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


CASES = [
    # ---- item 2: web identity ----
    StsCase("web_identity_env", K_WEB, imds="ok", env=dict(WEB_ENV), files={"token": TOKEN}),
    StsCase("web_identity_env_with_session_name", K_WEB, imds="ok", files={"token": TOKEN},
            env=dict(WEB_ENV, AWS_ROLE_SESSION_NAME="mail-lookup")),
    StsCase("web_identity_env_token_refused_stops", None, imds="ok", files={"token": "forged"},
            env=dict(WEB_ENV),
            note="STS answers InvalidIdentityToken: botocore (AssumeRoleWithWebIdentityProvider "
                 "raises), Go (stscreds WebIdentityRoleProvider error) and JS (fromTokenFile "
                 "error, not a CredentialsProviderError) all stop."),
    StsCase("web_identity_token_file_without_role_arn_stops", None, imds="ok",
            files={"token": TOKEN}, env={"AWS_WEB_IDENTITY_TOKEN_FILE": "{tmp}/token"}, js=K_IMDS,
            note="botocore (AssumeRoleWithWebIdentityProvider: InvalidConfigError, no role ARN) "
                 "and Go (resolve_credentials.go assumeWebIdentity: 'role ARN is not set') fail; "
                 "JS fromTokenFile needs both and lets the chain go on to IMDS. Majority: fail."),
    StsCase("web_identity_env_before_profile_static_keys", K_WEB, files={"token": TOKEN},
            credentials="[default]\n" + static(K_CRED), env=dict(WEB_ENV), js=K_CRED,
            note="botocore (create_credential_resolver: assume-role-with-web-identity before "
                 "shared-credentials-file) and Go (resolveCredentialChain: env web identity "
                 "before the profile) take the web identity; JS (defaultProvider: fromIni before "
                 "fromTokenFile) takes the keys. Majority: web identity."),
    StsCase("profile_role_before_web_identity_env", K_ROLE, files={"token": TOKEN},
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base"), env=dict(WEB_ENV),
            note="botocore (assume-role before assume-role-with-web-identity) and JS (fromIni "
                 "before fromTokenFile) assume the profile's role; Go takes the environment's "
                 "web identity. Majority: the profile's role."),
    StsCase("web_identity_in_profile", K_WEB, imds="ok", files={"token": TOKEN},
            config=role_profile("default", ARN_WEB, web_identity_token_file="{tmp}/token")),
    StsCase("web_identity_in_named_profile", K_WEB, imds="ok", files={"token": TOKEN},
            env={"AWS_PROFILE": "pod"},
            config="[default]\n" + static(K_CONF := "AKIACONFIGDEFAULT001")
                   + role_profile("pod", ARN_WEB, web_identity_token_file="{tmp}/token",
                                  role_session_name="pod-session")),
    # ---- item 4: role_arn with source_profile ----
    StsCase("assume_role_source_profile_static", K_ROLE, imds="ok",
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base")),
    StsCase("assume_role_source_profile_in_config", K_ROLE, imds="ok", env={"AWS_PROFILE": "work"},
            config="[profile base]\n" + static(K_OTHER)
                   + role_profile("work", ARN_ROLE, source_profile="base",
                                  role_session_name="mx1", duration_seconds="1800")),
    StsCase("assume_role_with_external_id", K_ROLE, external_ids={ARN_ROLE: "ext-42"},
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base", external_id="ext-42")),
    StsCase("assume_role_without_the_external_id_stops", None, imds="ok",
            external_ids={ARN_ROLE: "ext-42"}, credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base")),
    StsCase("assume_role_self_source_profile_uses_static_keys", K_ROLE, imds="ok",
            config=role_profile("default", ARN_ROLE, source_profile="default") + static(K_CRED),
            note="a profile naming itself as source_profile signs with its own static keys "
                 "(botocore _resolve_source_credentials, Go's self-reference rule, JS "
                 "resolveProfileData)."),
    StsCase("assume_role_source_profile_credential_process", K_ROLE, imds="ok",
            files={"proc.sh": PROCESS_OK},
            config=role_profile("default", ARN_ROLE, source_profile="helper")
                   + "[profile helper]\ncredential_process = sh {tmp}/proc.sh\n"),
    StsCase("assume_role_chained", K_ROLE, imds="ok",
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="hub")
                   + role_profile("hub", ARN_HUB, source_profile="base")),
    StsCase("assume_role_source_static_keys_win_over_its_role", K_ROLE, imds="ok",
            config=role_profile("default", ARN_ROLE, source_profile="hub")
                   + role_profile("hub", ARN_HUB, source_profile="base") + static(K_OTHER)),
    StsCase("assume_role_source_profile_loop_stops", None, imds="ok",
            config=role_profile("default", ARN_ROLE, source_profile="a")
                   + role_profile("a", ARN_HUB, source_profile="b")
                   + role_profile("b", ARN_HUB, source_profile="a"), js=K_IMDS,
            note="botocore (AssumeRoleProvider _validate_source_profile: InfiniteLoopConfigError) "
                 "and Go (shared_config.go: CredentialRequiresARNError / circular source_profile "
                 "error) fail; JS fromIni's cycle error lets the chain go on to IMDS. "
                 "Majority: fail."),
    StsCase("assume_role_missing_source_profile_stops", None, imds="ok",
            config=role_profile("default", ARN_ROLE, source_profile="nosuch"), js=K_IMDS,
            note="botocore (InvalidConfigError: source profile does not exist) and Go "
                 "(SharedConfigProfileNotExistError) fail; JS lets the chain go on to IMDS. "
                 "Majority: fail."),
    StsCase("role_arn_without_a_source_stops", None, imds="ok",
            config=role_profile("default", ARN_ROLE), js=K_IMDS,
            note="botocore (AssumeRoleProvider _get_role_config: PartialCredentialsError, "
                 "source_profile or credential_source) fails; Go (resolveCredsFromProfile: "
                 "default case) would assume the role with the instance role's keys; JS "
                 "(isAssumeRoleProfile false) goes on. No majority: the daemon refuses, as "
                 "botocore, rather than sign as an identity nobody named."),
    StsCase("role_arn_with_both_sources_stops", None, imds="ok",
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base",
                                credential_source="Ec2InstanceMetadata"), js=K_IMDS,
            note="botocore (InvalidConfigError: both source_profile and credential_source) and "
                 "Go (validateCredentialType: only one credential type per profile) fail; JS "
                 "(isAssumeRoleProfile false) goes on. Majority: fail."),
    StsCase("assume_role_sts_access_denied_stops", None, imds="ok",
            sts_error=("AccessDenied", "not authorized to perform: sts:AssumeRole", 403),
            credentials="[base]\n" + static(K_OTHER),
            config=role_profile("default", ARN_ROLE, source_profile="base")),
    # ---- item 4: role_arn with credential_source ----
    StsCase("assume_role_credential_source_imds", K_ROLE, imds="ok",
            config=role_profile("default", ARN_ROLE, credential_source="Ec2InstanceMetadata")),
    StsCase("assume_role_credential_source_container", K_ROLE, container="ok", imds="ok",
            env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "{container}/creds"},
            config=role_profile("default", ARN_ROLE, credential_source="EcsContainer")),
    StsCase("assume_role_credential_source_environment_env_keys_first", K_ENV,
            env={"AWS_ACCESS_KEY_ID": K_ENV, "AWS_SECRET_ACCESS_KEY": SECRET},
            config=role_profile("default", ARN_ROLE, credential_source="Environment"),
            note="the environment's keys come first in every SDK's default chain."),
    StsCase("assume_role_credential_source_environment_named_profile", K_ENV,
            env={"AWS_PROFILE": "work", "AWS_ACCESS_KEY_ID": K_ENV, "AWS_SECRET_ACCESS_KEY": SECRET},
            config=role_profile("work", ARN_ROLE, credential_source="Environment"), js=K_ROLE,
            note="botocore (env provider first unless the profile is given in code) and Go "
                 "(env keys before the profile) use the environment's keys; JS skips fromEnv "
                 "when AWS_PROFILE is set and assumes the role with them. Majority: the keys."),
    StsCase("assume_role_credential_source_imds_down_stops", None,
            config=role_profile("default", ARN_ROLE, credential_source="Ec2InstanceMetadata")),
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return session_pki(tmp_path_factory)


def sts_for(case, pki):
    sts = FakeSTS(pki, region=None)
    for c in CALLERS:
        sts.callers[c.key_id] = c
    for arn, key in ROLES.items():
        creds = Creds(key, SECRET, token=f"{key.lower()}-session", lifetime=3600)
        sts.role(arn, creds, external_id=case.external_ids.get(arn))
        sts.callers[key] = creds
    sts.web_tokens.add(TOKEN)
    sts.error = case.sts_error
    return sts


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_daemon_assumes_what_the_sdks_assume(case, tmp_path, pki):
    sts = sts_for(case, pki)
    setup = Setup(case, tmp_path)
    setup.env.update(AWS_ENDPOINT_URL_STS=sts.url, AWS_CA_BUNDLE=pki.ca_cert,
                     NODE_EXTRA_CA_CERTS=pki.ca_cert)
    try:
        js, js_err, js_log = sdk_answer(setup.env)
        ours, log = daemon_answer(setup.env, tmp_path)
    finally:
        setup.close()
        sts.stop()
    js_expect = case.expect if case.js == "same" else case.js
    assert SECRET not in log and TOKEN not in log, "the daemon printed a secret or a token"
    assert ours == case.expect, (
        f"daemon: {ours!r}, expected {case.expect!r} ({case.note or 'all SDKs agree'})\n{log}")
    assert js == js_expect, (
        f"JS SDK: {js!r} ({js_err}), the table says {js_expect!r}: the oracle changed?\n{js_log}"
        f"\nSTS calls: {sts.calls}")
