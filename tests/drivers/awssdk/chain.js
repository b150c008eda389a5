// chain.js - run the AWS SDK for JavaScript v3's default credential chain once
//
// Used by tests/e2e/test_aws_sdk_chain.py as the oracle: the environment
// (HOME, AWS_*) is the test's; prints one JSON line on stdout:
//   {"ok": true, "access_key_id": "...", "expires": "..."|null}
//   {"ok": false, "error": "ErrorName: message"}
// The secret is never printed.
"use strict";
const { defaultProvider } = require("@aws-sdk/credential-provider-node");

(async () => {
  try {
    const c = await defaultProvider()();
    process.stdout.write(JSON.stringify({
      ok: true,
      access_key_id: c.accessKeyId,
      expires: c.expiration ? c.expiration.toISOString() : null,
    }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({
      ok: false, error: `${e && e.name}: ${e && e.message}`,
    }) + "\n");
  }
})();
