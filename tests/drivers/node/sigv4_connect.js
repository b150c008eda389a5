'use strict';
/*
 * sigv4_connect.js - connect to cqld (or Keyspaces) with the DataStax Node.js
 * driver and AWS's SigV4 plugin, the way an application on AWS does, run one
 * query, print one JSON object: {"connected": true, "rows": [...]} or
 * {"connected": false, "error": ...}.
 *
 * Usage:
 *   node sigv4_connect.js --host H --port P --region R --ca FILE --query CQL
 *
 * Credentials come from the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and are handed to the plugin's
 * SigV4AuthProvider, never put on the command line.
 */
const fs = require('fs');
const path = require('path');
const { args, emit } = require('./cli');
const cassandra = require(path.join(__dirname, 'node_modules', 'cassandra-driver'));
const { SigV4AuthProvider } = require(path.join(__dirname, 'node_modules',
                                                'aws-sigv4-auth-cassandra-plugin'));


async function main() {
  const a = args(process.argv.slice(2));
  const auth = new SigV4AuthProvider({
    region: a.region,
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN || undefined,
  });
  const client = new cassandra.Client({
    contactPoints: [`${a.host}:${a.port}`],
    localDataCenter: 'datacenter1',
    authProvider: auth,
    sslOptions: { ca: [fs.readFileSync(a.ca)], host: a.host, servername: a.host,
                  rejectUnauthorized: true },
    socketOptions: { connectTimeout: 10000, readTimeout: 10000 },
    queryOptions: { consistency: cassandra.types.consistencies.localOne },
  });
  try {
    await client.connect();
  } catch (err) {
    const inner = err.innerErrors ? Object.values(err.innerErrors).map(e => `${e.name}: ${e.message}`) : [];
    await client.shutdown().catch(() => {});
    return emit({ connected: false, error: err.message, inner }, 1);
  }
  try {
    const rs = await client.execute(a.query, [], { prepare: true });
    const rows = rs.rows.map(r => Object.fromEntries(r.keys().map(k => [k, String(r[k])])));
    await client.shutdown();
    emit({ connected: true, rows }, 0);
  } catch (err) {
    await client.shutdown().catch(() => {});
    emit({ connected: true, error: err.message }, 1);
  }
}

main().catch(err => emit({ connected: false, error: String(err) }, 1));
