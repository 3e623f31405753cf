#!/bin/sh
# Render nginx.conf for this container, then run nginx in the foreground (PID 1 gets the
# signals: SIGQUIT from `docker stop` lets in-flight requests finish).
set -eu

# The DNS server that resolves service names here: 127.0.0.11 under Docker, the network's
# gateway under podman. Taken from the container's resolv.conf, not assumed.
resolver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
if [ -z "$resolver" ]; then
    echo "proxy: no nameserver in /etc/resolv.conf; cannot resolve the replicas" >&2
    exit 2
fi
case "$resolver" in
    *:*) resolver="[$resolver]" ;;  # IPv6
esac

upstream="${AIDO_UPSTREAM:-backend:8000}"
case "$upstream" in
    *[!A-Za-z0-9.:_-]*|"") echo "proxy: AIDO_UPSTREAM must be host:port, got something else" >&2; exit 2 ;;
esac

mkdir -p /tmp/nginx
sed -e "s|@RESOLVER@|$resolver|" -e "s|@UPSTREAM@|$upstream|" \
    /etc/aido-proxy/nginx.conf.template > /tmp/nginx/nginx.conf
echo "proxy: passing requests to $upstream (resolver $resolver)" >&2
exec nginx -c /tmp/nginx/nginx.conf -g 'daemon off;'
