#!/usr/bin/env bash
# demo.sh - run the daemon on the demo setup: cqld with examples/demo.cql and
# postfix-aws-cassandra on 127.0.0.1:${PORT:-9999}, in the foreground. Ctrl-C stops both.
#
# Usage: scripts/demo.sh [--no-build]
# PORT and CQL_PORT (default 19042) may be 0: any free port, printed below.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-build" ]; then
  scripts/install-deps.sh
  make -s
fi

BUILD=${PAC_BUILD:-build}
PORT=${PORT:-9999}
CQL_PORT=${CQL_PORT:-19042}
tmp=$(mktemp -d)
# Stop both and wait for them: nothing of the demo outlives it.
cleanup() {
	kill "${cqld_pid:-}" "${daemon_pid:-}" 2>/dev/null || true
	wait ${cqld_pid:-} ${daemon_pid:-} 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$BUILD/cqld" --listen "127.0.0.1:$CQL_PORT" --load examples/demo.cql --port-file "$tmp/cqld.port" &
cqld_pid=$!
for _ in $(seq 100); do [ -s "$tmp/cqld.port" ] && break; sleep 0.05; done
[ -s "$tmp/cqld.port" ] || { echo "demo: cqld did not start" >&2; exit 1; }
CQL_PORT=$(cat "$tmp/cqld.port")

export KEYSPACE_NAME=mailion CASSANDRA_HOSTS="127.0.0.1:$CQL_PORT" PORT
"$BUILD/postfix-aws-cassandra" --foreground --port-file "$tmp/daemon.port" &
daemon_pid=$!
for _ in $(seq 100); do [ -s "$tmp/daemon.port" ] && break; sleep 0.05; done
[ -s "$tmp/daemon.port" ] || { echo "demo: the daemon did not start" >&2; exit 1; }
PORT=$(cat "$tmp/daemon.port")

cat <<EOT

Demo running: cqld (test CQL server) on 127.0.0.1:$CQL_PORT, postfix-aws-cassandra on 127.0.0.1:$PORT.
Try, in another terminal (a private Postfix config dir keeps /etc/postfix out of it):

  mkdir -p /tmp/pac-demo && echo 'compatibility_level = 3.6' > /tmp/pac-demo/main.cf
  postmap -c /tmp/pac-demo -q example.com       socketmap:inet:127.0.0.1:$PORT:domains
  postmap -c /tmp/pac-demo -q Alice@Example.com socketmap:inet:127.0.0.1:$PORT:users
  postmap -c /tmp/pac-demo -q team@example.com  socketmap:inet:127.0.0.1:$PORT:virtual_aliases
  postmap -c /tmp/pac-demo -q example.net       socketmap:inet:127.0.0.1:$PORT:transport_maps
  postmap -c /tmp/pac-demo -q bad.example       socketmap:inet:127.0.0.1:$PORT:access_maps
  postmap -c /tmp/pac-demo -q old.example       socketmap:inet:127.0.0.1:$PORT:domains   # inactive: not found

Press Ctrl-C to stop.
EOT
wait "$daemon_pid"
