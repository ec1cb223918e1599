#!/usr/bin/env bash
# Schemathesis against the real `payments` binary, as an outside client would try it:
#
#   tools/schemathesis/run.sh [PAYMENTS_BIN]
#
# 1. With the admin token: every check, all phases (coverage, fuzzing, stateful), a fixed
#    seed and an example budget sized for CI; any failure fails the run.
# 2. Without the token, on the admin routes only: every request must be 401 with
#    `WWW-Authenticate: Bearer` (the check in hooks.py).
# The server runs on SQLite in a temporary folder, with a few events sent by `payments
# trigger` so the stateful phase has objects to follow. Schemathesis is installed from PyPI
# into a virtualenv under target/ (kept between runs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/payments}"
venv="$root/target/schemathesis-venv"
version="4.32.5"
examples="${SCHEMATHESIS_EXAMPLES:-60}"

if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$version"
fi

work="$(mktemp -d)"
token="schemathesis-admin-token"
secret="whsec_schemathesis"
env -u APP_ENV BIND_ADDR=127.0.0.1:0 DATABASE_URL="sqlite://$work/payments.db?mode=rwc" \
    DATA_DIR="$work" ADMIN_TOKEN="$token" STRIPE_WEBHOOK_SECRET="$secret" LOG_FORMAT=text \
    RUST_LOG=warn,payments::startup=info "$bin" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=""
for _ in $(seq 1 100); do
    port="$(grep -o 'addr=127.0.0.1:[0-9]*' "$work/server.log" | head -n 1 | cut -d: -f2 || true)"
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
    sleep 0.1
done
base="http://127.0.0.1:$port"
for type in account.updated customer.created product.created price.created payment_intent.succeeded; do
    "$bin" trigger "$type" --url "$base/webhooks/stripe" --secret "$secret" >/dev/null
done

cd "$here"
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here"
st() { "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --seed 20261130 --generation-database none --no-color "$@"; }

echo "-- with the admin token: every check, every phase, $examples examples per operation"
st -H "Authorization: Bearer $token" --max-examples "$examples" \
    --phases examples,coverage,fuzzing,stateful --suppress-health-check filter_too_much

echo "-- without the token: every admin route answers 401"
EXPECT_UNAUTHORIZED=1 st --max-examples 10 --phases coverage,fuzzing \
    --include-tag-regex '^(stores|orders|customers|products|events|sync)$' \
    --checks refused_without_the_token,not_a_server_error
