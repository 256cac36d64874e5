#!/bin/sh
# A tiny "service": reads its config, writes a heartbeat every second.
# It stops on SIGTERM (the play's `stop` tag does that), when its folder
# is removed, or by itself after APP_TTL seconds (default 900): a demo
# never stays behind for good.
conf="$1"
. "$conf"
end=$(( $(date +%s) + ${APP_TTL:-900} ))
while [ -d "$APP_DIR" ] && [ "$(date +%s)" -lt "$end" ]; do
  date +%s > "$APP_DIR/heartbeat"
  echo "$(date +%T) $APP_NAME serving on port $APP_PORT" >> "$APP_DIR/app.log"
  sleep 1
done
