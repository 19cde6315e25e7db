#!/usr/bin/env bash
# Captures the Slack bodies the real Alertmanager 0.25 sends for ../golden/alerts.json; see README.md.
# Usage: capture.sh [alertmanager binary]   (writes default.json, full.json and *.headers beside this script)
set -euo pipefail
AM=${1:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
# 1100 runes of two-byte characters: the title is cut to 1024 runes.
PAD=$(python3 -c 'print("é" * 1100)')
sed -e "s|@SINK_PORT@|$SINK_PORT|g" -e "s|@PAD@|$PAD|g" "$HERE/am.yml.in" > "$WORK/am.yml"
python3 "$HERE/../golden/sink.py" "$SINK_PORT" "$WORK/out" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
curl -fsS -H 'Content-Type: application/json' --data-binary @"$HERE/../golden/alerts.json" \
  "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null
for _ in $(seq 50); do [ -f "$WORK/out/2.body" ] && break; sleep 0.2; done
for f in "$WORK"/out/*.headers; do
  n=$(basename "$f" .headers)
  name=$(head -1 "$f" | sed 's|^POST /||')
  cp "$WORK/out/$n.body" "$HERE/$name.json"; cp "$f" "$HERE/$name.headers"
done
ls "$WORK/out"
