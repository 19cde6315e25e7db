#!/usr/bin/env bash
# Captures the Discord bodies the real Alertmanager 0.25 sends; see README.md.
# Usage: capture.sh [alertmanager binary]   (writes <path>.body.json and <path>.headers beside this script)
set -euo pipefail
AM=${1:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
# 200 runes of two-byte characters: non-ASCII titles below the 256-rune limit (0.25 does not truncate; 0.26+ does).
PAD=$(python3 -c 'print("é" * 200)')
sed -e "s|@SINK_PORT@|$SINK_PORT|g" -e "s|@PAD@|$PAD|g" "$HERE/am.yml.in" > "$WORK/am.yml"
python3 "$HERE/../golden/sink.py" "$SINK_PORT" "$WORK/out" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
post() {
  curl -fsS -H 'Content-Type: application/json' --data-binary @"$1" "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null
}
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
# A resolved-only group is notified only after it was notified firing: post it firing first, then resolved.
post "$HERE/../golden/alerts.json"
post "$HERE/alerts_resolved_firing.json"
for _ in $(seq 50); do [ -f "$WORK/out/3.body" ] && break; sleep 0.2; done
post "$HERE/alerts_resolved.json"
for _ in $(seq 50); do [ -f "$WORK/out/4.body" ] && break; sleep 0.2; done
for f in "$WORK"/out/*.headers; do
  n=$(basename "$f" .headers)
  name=$(head -1 "$f" | sed 's|^POST /||')
  # The resolved receiver gets the firing notification first and the resolved one last.
  if [ "$name" = resolved ] && head -c 200 "$WORK/out/$n.body" | grep -q FIRING; then name=resolved-firing-first; fi
  cp "$WORK/out/$n.body" "$HERE/$name.body.json"; cp "$f" "$HERE/$name.headers"
done
ls "$WORK/out"
