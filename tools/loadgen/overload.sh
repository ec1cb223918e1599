#!/usr/bin/env bash
# The overload scenarios of BENCHMARKS.md ("Overload"): a traffic spike over 20,000 stores.
#
#   tools/loadgen/overload.sh BIN_DIR sqlite|postgres closed|open
#
# BIN_DIR holds release builds of `payments` and `loadgen` (target/release). Starts a fresh
# server (SQLite in a temporary folder, or a fresh schema of the `loadgen` database on the
# local PostgreSQL), drives it, waits until every event is applied, and prints one line:
# peak resident memory, WARN lines and log size, the apply rate while sending and after,
# and the drain time. The server's `payments_events_applied_total` is sampled every second.
set -euo pipefail

bin_dir=$1 backend=$2 mode=$3
port=18300
secret=whsec_overload
work=$(mktemp -d)
case "$backend" in
    sqlite) url="sqlite://$work/payments.db?mode=rwc" ;;
    postgres)
        schema="overload_$$"
        psql -q -h 127.0.0.1 -U postgres -d loadgen \
            -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
        url="postgres://postgres@127.0.0.1:5432/loadgen?options=-c%20search_path%3D$schema"
        ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
case "$mode" in
    closed) load=(--events 60000 --concurrency 256) ;;
    open) load=(--rate 4000 --duration 40s --concurrency 256) ;;
    *) echo "mode: closed or open" >&2; exit 2 ;;
esac

env -u ADMIN_TOKEN ${EXTRA_ENV:-} BIND_ADDR=127.0.0.1:$port DATABASE_URL="$url" DATA_DIR="$work" \
    STRIPE_WEBHOOK_SECRET=$secret LOG_FORMAT=text "$bin_dir/payments" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null; do sleep 0.2; done

applied() {
    curl -s "http://127.0.0.1:$port/metrics" |
        awk '/^payments_events_applied_total/ && !/retried/ { n += $2 } END { print n + 0 }'
}
(while sleep 1; do echo "$(date +%s.%N) $(applied)"; done) >"$work/applied.txt" &
sampler=$!

start=$(date +%s.%N)
"$bin_dir/loadgen" --url "http://127.0.0.1:$port/webhooks/stripe" --secret $secret \
    --stores 20000 "${load[@]}" --shuffle --database-url "$url" --wait-applied 600s \
    --server-pid $server --no-check >"$work/summary.json"
kill $sampler
end=$(date +%s.%N)

python3 - "$work" "$start" "$end" "$backend" "$mode" <<'EOF'
import json, sys
work, start, end, backend, mode = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
summary = json.load(open(f"{work}/summary.json"))
samples = [tuple(map(float, line.split())) for line in open(f"{work}/applied.txt") if len(line.split()) == 2]
send_end = start + summary["elapsed_s"]
during = [n for t, n in samples if t <= send_end]
applied_during = during[-1] if during else 0
total = samples[-1][1] if samples else 0
drain = summary["apply_wait_s"] or 0
log = open(f"{work}/server.log", errors="replace").read()
print(json.dumps({
    "backend": backend, "mode": mode,
    "sent": summary["sent"], "acknowledged": summary["acknowledged"],
    "errors": summary["errors"], "failed": summary["failed"], "unapplied": summary["unapplied"],
    "send_s": round(summary["elapsed_s"], 1),
    "ack_p99_ms": summary["ack_latency_ms"]["p99"],
    "apply_rate_during": round(applied_during / summary["elapsed_s"]),
    "apply_rate_after": round((total - applied_during) / drain) if drain > 1 else None,
    "drain_s": round(drain, 1),
    "peak_rss_mib": round(summary["server_peak_rss_bytes"] / 2**20),
    "warn_lines": log.count(" WARN "),
    "log_mib": round(len(log.encode()) / 2**20, 1),
}))
EOF
