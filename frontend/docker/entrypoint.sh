#!/bin/sh
# The image's start: write config.js (and the nginx config) from the environment, then nginx.
set -eu
/opt/aido-ui/render-config.sh
exec nginx -e stderr -c "${UI_RUNTIME_DIR:-/tmp/aido-ui}/nginx.conf" -g "daemon off;"
