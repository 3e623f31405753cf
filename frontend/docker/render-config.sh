#!/bin/sh
# Writes the UI's run-time files from the environment, then (in the image) nginx starts on them:
#   config.js              window.AIDO_CONFIG = {apiUrl: API_URL}, read by the app at load
#   security-headers.conf  CSP whose connect-src is API_URL's origin, and the other headers
#   nginx.conf             nginx.conf.template with the paths and the port filled in
# Environment: API_URL (default http://localhost:8000), UI_LISTEN (8080), UI_ROOT (the built
# files), UI_RUNTIME_DIR (where these files go), UI_ACCESS_LOG (/dev/stdout or off).
# One line on stderr and exit 2 when API_URL is not a plain http(s) URL.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
api_url=${API_URL:-http://localhost:8000}
listen=${UI_LISTEN:-8080}
root=${UI_ROOT:-/usr/share/aido-ui}
runtime=${UI_RUNTIME_DIR:-/tmp/aido-ui}
access_log=${UI_ACCESS_LOG:-/dev/stdout}
template=${UI_NGINX_TEMPLATE:-$here/nginx.conf.template}

# Only characters that are safe unquoted in a JS string, an HTTP header and a sed replacement.
if ! printf '%s' "$api_url" | grep -Eq '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$'; then
    echo "configuration error: API_URL must be an http(s) URL such as http://localhost:8000 (got an unusable value)" >&2
    exit 2
fi
case "$listen" in
    *[!0-9.:]* | "") echo "configuration error: UI_LISTEN must be a port or address:port" >&2; exit 2 ;;
esac
api_url=${api_url%/}
api_origin=$(printf '%s' "$api_url" | sed -E 's#^(https?://[^/]+).*#\1#')

mkdir -p "$runtime"
# nginx workers may run as another user than the one writing these files (root on a CI host).
chmod 755 "$runtime"
printf 'window.AIDO_CONFIG = { apiUrl: "%s" };\n' "$api_url" > "$runtime/config.js"

# The app talks only to its own origin and the API; nothing is inlined, framed or posted away.
cat > "$runtime/security-headers.conf" <<HEADERS
add_header Content-Security-Policy "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' $api_origin; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'" always;
add_header X-Content-Type-Options "nosniff" always;
add_header Referrer-Policy "no-referrer" always;
add_header X-Frame-Options "DENY" always;
add_header Permissions-Policy "camera=(), microphone=(), geolocation=()" always;
HEADERS

sed -e "s#@RUNTIME@#$runtime#g" -e "s#@ROOT@#$root#g" -e "s#@LISTEN@#$listen#g" \
    -e "s#@ACCESS_LOG@#$access_log#g" "$template" > "$runtime/nginx.conf"
echo "aido-ui: API at $api_url; serving $root on $listen" >&2
