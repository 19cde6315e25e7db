#!/usr/bin/env bash
# Captures the webhook bodies the real Alertmanager 0.25 sends for alerts.json; see README.md.
# Usage: capture.sh [alertmanager binary]   (writes full.json and truncated.json beside this script)
set -euo pipefail
AM=${1:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
cat > "$WORK/am.yml" <<YML
route:
  receiver: 'golden-hook.v1+'
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 4h
  routes:
    - receiver: 'golden-hook.v1+'
      continue: true
    - receiver: 'truncating'
      matchers: ['alertname="Golden"']
receivers:
  - name: 'golden-hook.v1+'
    webhook_configs:
      - url: 'http://127.0.0.1:$SINK_PORT/full'
  - name: 'truncating'
    webhook_configs:
      - url: 'http://127.0.0.1:$SINK_PORT/truncated'
        max_alerts: 2
YML
python3 "$HERE/sink.py" "$SINK_PORT" "$WORK/out" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
curl -fsS -H 'Content-Type: application/json' --data-binary @"$HERE/alerts.json" \
  "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null
for _ in $(seq 50); do [ -f "$WORK/out/2.body" ] && break; sleep 0.2; done
for f in "$WORK"/out/*.headers; do
  n=$(basename "$f" .headers)
  case "$(head -1 "$f")" in
    "POST /full") cp "$WORK/out/$n.body" "$HERE/full.json"; cp "$f" "$HERE/full.headers" ;;
    "POST /truncated") cp "$WORK/out/$n.body" "$HERE/truncated.json"; cp "$f" "$HERE/truncated.headers" ;;
  esac
done
ls "$WORK/out"
