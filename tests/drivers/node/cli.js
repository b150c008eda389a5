'use strict';
/*
 * cli.js - what the driver scripts share: their --name value arguments,
 * and one JSON line on stdout as their result, written before they exit.
 */

/* args - "--name value" pairs into {name: value} */
function args(argv) {
  const out = {};
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

/* emit - print the result as one JSON line, then exit with status */
function emit(res, status) {
  process.stdout.write(JSON.stringify(res) + '\n', () => process.exit(status));
}

module.exports = { args, emit };
