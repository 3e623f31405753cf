#!/bin/sh
# Writes pgbouncer.ini and userlist.txt from the environment, then runs PgBouncer in the
# foreground (its log on stderr). Nothing is written to the image: the password stays in the
# container's environment and a 0600 file under /run/pgbouncer.
set -eu

: "${UPSTREAM_HOST:=db}"
: "${UPSTREAM_PORT:=5432}"
: "${UPSTREAM_USER:?UPSTREAM_USER is not set (the database user the pooler logs in as)}"
: "${UPSTREAM_PASSWORD:?UPSTREAM_PASSWORD is not set}"
: "${UPSTREAM_DB:=$UPSTREAM_USER}"
# Neon's pooler: transaction mode, max_client_conn 10000, query_wait_timeout 120 s. Locally the
# queue wait matches the backend's DB_POOL_TIMEOUT (10 s), so a full pool is shed at the same
# bound whichever pool is full; and a failed login to a restarting db is retried after 1 s,
# not PgBouncer's default 15 s, so the backend's retries (DB_RETRY_MAX_SECONDS) see it return.
: "${PGBOUNCER_POOL_MODE:=transaction}"
: "${PGBOUNCER_MAX_CLIENT_CONN:=1000}"
: "${PGBOUNCER_DEFAULT_POOL_SIZE:=20}"
: "${PGBOUNCER_QUERY_WAIT_TIMEOUT:=10}"
: "${PGBOUNCER_SERVER_LOGIN_RETRY:=1}"

dir=/run/pgbouncer
umask 077
# userlist.txt: "user" "password", with any double quote doubled.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
printf '%s %s\n' "$(quote "$UPSTREAM_USER")" "$(quote "$UPSTREAM_PASSWORD")" > "$dir/userlist.txt"

cat > "$dir/pgbouncer.ini" <<INI
[databases]
; Every database name goes to the same server, under the name the client asked for.
* = host=$UPSTREAM_HOST port=$UPSTREAM_PORT

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 5432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = $UPSTREAM_USER
pool_mode = $PGBOUNCER_POOL_MODE
max_client_conn = $PGBOUNCER_MAX_CLIENT_CONN
default_pool_size = $PGBOUNCER_DEFAULT_POOL_SIZE
query_wait_timeout = $PGBOUNCER_QUERY_WAIT_TIMEOUT
server_login_retry = $PGBOUNCER_SERVER_LOGIN_RETRY
server_connect_timeout = 5
ignore_startup_parameters = extra_float_digits
INI

echo "pgbouncer: $PGBOUNCER_POOL_MODE mode, to $UPSTREAM_HOST:$UPSTREAM_PORT as $UPSTREAM_USER," \
     "$PGBOUNCER_DEFAULT_POOL_SIZE server connections, $PGBOUNCER_MAX_CLIENT_CONN clients" >&2
exec pgbouncer "$dir/pgbouncer.ini"
