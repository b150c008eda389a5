'use strict';
/*
 * driver_check.js - drive cqld (or any Cassandra) with the DataStax Node.js
 * driver the way an application would, and print what it saw as one JSON
 * object on stdout. tests/e2e/test_cqld_drivers.py runs it and asserts on
 * the JSON; the driver comes from node_modules (package-lock.json,
 * installed by scripts/install-deps.sh).
 *
 * Usage:
 *   node driver_check.js --host 127.0.0.1 --port PORT [--user U --password P]
 *                        [--ca FILE] [--dc NAME] [--tag NAME]
 *                        [--max-version N]
 *
 * Steps, each recorded in the JSON: connect (TLS when --ca is given, the
 * server certificate verified against that CA and the host name; password
 * authentication when --user is given), prepare and execute with bound
 * values INSERTs into mailion.domains (text, boolean) and mailion.mailboxes
 * (text, set<text>, bigint, int), read them and fixture rows of
 * tests/e2e/data/driver.cql back, and run a query on a table that does not
 * exist (its error code and message).
 *
 * A failure to connect is {"connected": false, "error": ..., "error_kinds":
 * [...]} with exit status 1; everything else exits 0 and the test decides.
 */
const fs = require('fs');
const path = require('path');
const cassandra = require(path.join(__dirname, 'node_modules', 'cassandra-driver'));

const REQUEST_TIMEOUT_MS = 10000;

/* args - --name value pairs into an object */
function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error('usage: driver_check.js --host H --port P [--user U --password P] [--ca FILE] [--dc DC] [--tag T]');
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

/* errInfo - the CQL error code and message of err, or its text */
function errInfo(err) {
  if (!err) {
    return null;
  }
  return { code: typeof err.code === 'number' ? err.code : null, message: err.message };
}

/* innerKinds - the error classes behind a NoHostAvailableError */
function innerKinds(err) {
  if (!err || !err.innerErrors) {
    return [];
  }
  return Object.values(err.innerErrors).map(e => `${e.name}: ${e.message}`);
}

function emit(res, status) {
  process.stdout.write(JSON.stringify(res) + '\n', () => process.exit(status));
}

async function main() {
  const a = args(process.argv.slice(2));
  const tag = a.tag || 'node';
  const res = { driver: 'node', connected: false };
  const options = {
    contactPoints: [a.host || '127.0.0.1'],
    localDataCenter: a.dc || 'datacenter1',
    protocolOptions: { port: Number(a.port) },
    socketOptions: { connectTimeout: REQUEST_TIMEOUT_MS, readTimeout: REQUEST_TIMEOUT_MS },
    queryOptions: { consistency: cassandra.types.consistencies.localOne, prepare: true },
  };
  if (a['max-version']) {
    options.protocolOptions.maxVersion = Number(a['max-version']);
  }
  if (a.user) {
    options.authProvider = new cassandra.auth.PlainTextAuthProvider(a.user, a.password || '');
  }
  if (a.ca) {
    // Node's tls checks the certificate against the CA and the name
    // (127.0.0.1: the IP SAN) as for any HTTPS client
    options.sslOptions = { ca: [fs.readFileSync(a.ca)], rejectUnauthorized: true };
  }
  const client = new cassandra.Client(options);
  try {
    await client.connect();
  } catch (err) {
    res.error = `${err.name}: ${String(err.message).split('\n')[0]}`;
    res.error_kinds = innerKinds(err);
    await client.shutdown().catch(() => {});
    emit(res, 1);
    return;
  }
  res.connected = true;
  res.protocol_version = client.controlConnection.protocolVersion;

  const domain = `${tag}.example`;
  const step = async (name, fn) => {
    try {
      return await fn();
    } catch (err) {
      res[name + '_error'] = errInfo(err);
      return null;
    }
  };
  await step('insert_domain', () => client.execute(
    'INSERT INTO mailion.domains (domain, active) VALUES (?, ?)', [domain, true]));
  await step('insert_mailbox', () => client.execute(
    'INSERT INTO mailion.mailboxes (domain, localpart, aliases, quota, msgs) VALUES (?, ?, ?, ?, ?)',
    [domain, 'dave', ['d2', 'd1'], cassandra.types.Long.fromString('1099511627776'), -2147483648]));

  let rs = await step('domain', () => client.execute(
    'SELECT domain, active FROM mailion.domains WHERE domain = ?', [domain]));
  res.domain = rs && rs.first() ? { domain: rs.first().domain, active: rs.first().active } : null;
  rs = await step('inactive', () => client.execute(
    'SELECT active FROM mailion.domains WHERE domain = ?', ['inactive.example']));
  res.inactive = rs && rs.first() ? { active: rs.first().active } : null;

  const mailbox = async (dom, local) => {
    const r = await step('mailbox', () => client.execute(
      'SELECT aliases, quota, msgs FROM mailion.mailboxes WHERE domain = ? AND localpart = ?', [dom, local]));
    const row = r && r.first();
    return row ? { aliases: row.aliases, quota: row.quota.toString(), msgs: row.msgs } : null;
  };
  res.mailbox_written = await mailbox(domain, 'dave');
  res.mailbox_fixture = await mailbox('example.com', 'alice');
  rs = await step('missing', () => client.execute(
    'SELECT domain FROM mailion.domains WHERE domain = ?', ['missing.example']));
  res.missing_rows = rs ? rs.rowLength : null;

  try {
    await client.execute('SELECT * FROM mailion.nope WHERE k = ?', ['x']);
    res.bad_query_error = null;
  } catch (err) {
    res.bad_query_error = errInfo(err);
  }
  res.hosts = client.hosts.values().map(h => h.address).sort();
  await client.shutdown();
  emit(res, 0);
}

main().catch(err => emit({ driver: 'node', connected: false, error: String(err && err.stack) }, 1));
