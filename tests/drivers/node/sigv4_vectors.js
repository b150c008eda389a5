// sigv4_vectors.js - the answers AWS's aws-sigv4-auth-cassandra-plugin gives
//
// Usage: node sigv4_vectors.js < cases.json > answers.json
//
// Reads a JSON array of cases {accessKeyId, secretAccessKey, sessionToken?,
// region, challenge, epochMs} and writes a JSON array of
// {initial, answer}: the plugin's initial response and its answer to the
// challenge, both as base64 of the exact bytes. The plugin's own
// SigV4Authenticator is driven (nonce extraction included), with the time
// fixed through its `date` option and the credentials through a static
// AWS.CredentialProviderChain, so nothing here re-implements signing.
'use strict';

const AWS = require('aws-sdk');
const { SigV4Authenticator } = require('aws-sigv4-auth-cassandra-plugin');

function answer(c) {
  const creds = new AWS.Credentials(c.accessKeyId, c.secretAccessKey, c.sessionToken);
  const auth = new SigV4Authenticator({
    region: c.region,
    chain: new AWS.CredentialProviderChain([creds]),
    date: new Date(c.epochMs),
  });
  return new Promise((resolve, reject) => {
    auth.initialResponse((err, initial) => {
      if (err) return reject(err);
      auth.evaluateChallenge(Buffer.from(c.challenge, 'utf8'), (err2, resp) => {
        if (err2) return resolve({ initial: initial.toString('base64'), error: err2.message });
        resolve({ initial: initial.toString('base64'), answer: resp.toString('base64') });
      });
    });
  });
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const cases = JSON.parse(input);
  const out = [];
  for (const c of cases) out.push(await answer(c));
  process.stdout.write(JSON.stringify(out));
});
