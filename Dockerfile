# The payments service as a container image: a Rust build stage, then a small Debian runtime
# with only the binary (its migrations are compiled in), its configuration files and CA
# certificates.
#
#   docker build -t stripe-payments-service .
#   docker run -p 8000:8000 -e STRIPE_API_KEY=sk_... -e STRIPE_WEBHOOK_SECRET=whsec_... \
#       -e DATABASE_URL=postgresql://user:password@host:5432/db stripe-payments-service
#
# The base images are build arguments (a registry mirror, a pinned digest, a local image):
#   docker build --build-arg RUST_IMAGE=... --build-arg RUNTIME_IMAGE=... .
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /build

# The dependency recipe: every Cargo.toml and Cargo.lock, nothing else, so that the layer of
# compiled dependencies below is rebuilt only when they change, not at every source change.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --package payments --bin payments
COPY . .
RUN cargo build --release --locked --package payments --bin payments

FROM ${RUNTIME_IMAGE} AS runtime
# ca-certificates is not pinned (hadolint DL3008): it follows the base image's Debian
# release, and a rebuild takes in its updates, which is what CA certificates want.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 payments \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home payments \
    && mkdir -p /app/data \
    && chown payments:payments /app/data
WORKDIR /app
COPY config/ config/
COPY --from=builder /build/target/release/payments /usr/local/bin/payments
# Inside a container the service listens on every address (the port is what is published);
# SQLite, when DATABASE_URL is not set, goes to /app/data (mount a volume there to keep it).
# Shutdown waits less than the 10 s a container runtime gives before SIGKILL; what is left
# unapplied stays in the inbox and is applied at the next start.
ENV APP_ENV=production \
    BIND_ADDR=0.0.0.0:8000 \
    DATA_DIR=/app/data \
    SHUTDOWN_TIMEOUT_SECS=8
# Numeric, so that a runtime can check it is not root (Kubernetes runAsNonRoot) without
# reading the image's /etc/passwd.
USER 10001:10001
EXPOSE 8000
# The image has no curl: the binary asks its own /health.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["payments", "health"]
ENTRYPOINT ["payments"]
CMD ["serve"]
