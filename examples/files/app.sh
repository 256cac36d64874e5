#!/bin/sh
# A tiny "service": reads its config, writes a heartbeat every second.
conf="$1"
. "$conf"
while :; do
  date +%s > "$APP_DIR/heartbeat"
  echo "$(date +%T) $APP_NAME serving on port $APP_PORT" >> "$APP_DIR/app.log"
  sleep 1
done
