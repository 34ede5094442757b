# syntax=docker/dockerfile:1
#
# Heard in a container: the `heard` binary on Debian bookworm-slim, run as a user of its own,
# with its data directory (/var/lib/heard) on a volume.
#
#   docker build -t heard .
#   docker run -d --name heard -p 127.0.0.1:8080:8080 -v heard-data:/var/lib/heard heard
#
# ops/compose.yaml runs it the same way; ops/compose.postgres.yaml runs two replicas over
# PostgreSQL. `ops/check` lints this file with hadolint.

# ---- build ----------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole workspace: cargo needs every member's manifest to read the lock file. See
# .dockerignore for what stays out (target/, .git, node_modules, data).
COPY . .
# The registry and target directory are BuildKit caches, so a rebuild after a small change
# recompiles only what changed; the binary is copied out of the cache in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p heard --bin heard --locked \
    && install -m 0755 target/release/heard /usr/local/bin/heard

# ---- run ------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# The binary links only libc, libm and libgcc_s (all in the base image); every page,
# stylesheet and script is compiled into it. tzdata: complaint clocks and "today" follow the
# time zone (TZ), and every replica over one database must use the same one. No
# ca-certificates: Heard makes no TLS connections of its own (its PostgreSQL connection is
# plain, so keep the database on a private network).
# DL3008 ("pin versions in apt-get install") is ignored on purpose: bookworm's security updates
# replace a pinned version, so a pin would break the next rebuild instead of fixing anything.
# Rebuild the image to take Debian's updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 heard \
    && useradd --system --uid 10001 --gid heard --home-dir /var/lib/heard --no-create-home \
        --shell /usr/sbin/nologin heard \
    && install -d -o heard -g heard -m 0700 /var/lib/heard

COPY --from=build /usr/local/bin/heard /usr/local/bin/heard
# Every key commented, with the built-in defaults; mount your own over it
# (-v ./heard.toml:/etc/heard/heard.toml:ro). The environment below overrides the file.
COPY ops/heard.example.toml /etc/heard/heard.toml

ENV HEARD_DATA_DIR=/var/lib/heard \
    HEARD_LISTEN=0.0.0.0:8080 \
    TZ=Europe/London

# By number, so that a runtime that checks "not root" (runAsNonRoot) can tell without /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/heard
VOLUME ["/var/lib/heard"]
EXPOSE 8080

# `heard` has no health-check subcommand and the image has no curl: bash opens a TCP
# connection with its /dev/tcp redirection, sends GET /readyz and checks for a 200 (/readyz
# answers 503 while the read models catch up with the log, or when the store does not answer
# reads; /healthz would only say the process is alive). The port follows HEARD_LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HEARD_LISTEN##*:} && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]

# SIGTERM stops Heard gracefully: requests in flight get up to 10 s, then the log is flushed.
# Give `docker stop` more than its default 10 s (docker stop -t 30; stop_grace_period in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["heard"]
CMD ["serve", "--config", "/etc/heard/heard.toml"]
