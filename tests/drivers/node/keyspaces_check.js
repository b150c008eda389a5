'use strict';
/*
 * keyspaces_check.js - the DataStax Node.js driver with AWS's SigV4 plugin,
 * set up as AWS's developer guide sets it up for Amazon Keyspaces ("Using a
 * Cassandra Node.js client driver to access Amazon Keyspaces
 * programmatically"), against cqld --keyspaces; prints one JSON object.
 *
 * Usage:
 *   node keyspaces_check.js --port P --region R --ca FILE --name NAME
 *                           [--paged DOMAIN]
 *
 * Credentials come from the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY) into the plugin's SigV4AuthProvider. The TLS name
 * checked for every address of the endpoint is NAME (the endpoint's name,
 * as sslOptions.host in AWS's example). Recorded: the hosts the driver
 * knows ("hosts": address:port, data center), the error of a read at
 * QUORUM ("quorum_error"), and with --paged the rows of each page of that
 * domain's mailboxes ("pages", "paged_rows"), and of those with msgs >= 20
 * read with ALLOW FILTERING ("filtered_pages", "filtered_rows").
 */
const fs = require('fs');
const path = require('path');
const { args, emit } = require('./cli');
const cassandra = require(path.join(__dirname, 'node_modules', 'cassandra-driver'));
const { SigV4AuthProvider } = require(path.join(__dirname, 'node_modules',
                                                'aws-sigv4-auth-cassandra-plugin'));

const REQUEST_TIMEOUT_MS = 10000;
const FETCH_SIZE = 100;         /* rows asked per page; the server cuts sooner */


function errInfo(err) {
  return err ? { code: typeof err.code === 'number' ? err.code : null, message: err.message } : null;
}

/* pageRows - every page of the mailboxes of dom (where: more restrictions):
 * row counts and localparts */
async function pageRows(client, dom, where) {
  const pages = [];
  const rows = [];
  let pageState;
  for (;;) {
    const rs = await client.execute('SELECT localpart FROM mailion.mailboxes WHERE domain = ?' + where,
                                    [dom], { prepare: true, fetchSize: FETCH_SIZE, pageState });
    pages.push(rs.rows.length);
    rs.rows.forEach(r => rows.push(r.localpart));
    if (!rs.pageState) return { pages, rows };
    pageState = rs.pageState;
  }
}

async function main() {
  const a = args(process.argv.slice(2));
  const res = { driver: 'node', connected: false };
  const client = new cassandra.Client({
    contactPoints: ['127.0.0.1'],
    localDataCenter: a.region,
    authProvider: new SigV4AuthProvider({
      region: a.region,
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    }),
    sslOptions: { ca: [fs.readFileSync(a.ca)], host: a.name, servername: a.name,
                  rejectUnauthorized: true },
    protocolOptions: { port: Number(a.port) },
    socketOptions: { connectTimeout: REQUEST_TIMEOUT_MS, readTimeout: REQUEST_TIMEOUT_MS },
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum },
  });
  try {
    await client.connect();
  } catch (err) {
    res.error = err.message;
    await client.shutdown().catch(() => {});
    return emit(res, 1);
  }
  res.connected = true;
  res.protocol_version = client.controlConnection.protocolVersion;
  res.hosts = client.hosts.values().map(h => [h.address, h.datacenter]).sort();
  try {
    await client.execute("SELECT active FROM mailion.domains WHERE domain = 'example.com'", [],
                         { consistency: cassandra.types.consistencies.quorum });
    res.quorum_error = null;
  } catch (err) {
    res.quorum_error = errInfo(err);
  }
  if (a.paged) {
    try {
      const p = await pageRows(client, a.paged, '');
      res.pages = p.pages;
      res.paged_rows = p.rows;
      const f = await pageRows(client, a.paged, ' AND msgs >= 20 ALLOW FILTERING');
      res.filtered_pages = f.pages;
      res.filtered_rows = f.rows;
    } catch (err) {
      res.paged_error = errInfo(err);
    }
  }
  await client.shutdown();
  emit(res, 0);
}

main().catch(err => emit({ connected: false, error: String(err) }, 1));
