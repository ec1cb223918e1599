#!/bin/sh
# First start: initialise PGDATA with the official image's variables; then run the server,
# listening on every address with password authentication from outside the container.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"$pwfile"
    initdb --username="${POSTGRES_USER:-postgres}" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    # As the official image: POSTGRES_DB, by default named after the user, is created.
    db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
    if [ "$db" != postgres ]; then
        echo "CREATE DATABASE \"$db\" OWNER \"${POSTGRES_USER:-postgres}\";" |
            postgres --single -D "$PGDATA" postgres >/dev/null
    fi
fi
if [ "$1" = postgres ]; then
    shift
    exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
fi
exec "$@"
