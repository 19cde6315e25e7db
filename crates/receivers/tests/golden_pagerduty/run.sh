#!/usr/bin/env bash
# Shared driver of the pagerduty, opsgenie and victorops captures (see README.md in each golden_<kind> directory).
# Usage: run.sh <fixture dir> <expected requests per phase> [alertmanager binary]; reads <fixture dir>/am.yml.in,
# where @SINK@ is replaced by the sink's host:port and @WORK@ by the temporary directory.
# Phase "firing" posts alerts.json (two firing alerts, one resolved); phase "resolved" posts alerts_resolved.json.
# Each request is stored as <fixture dir>/<tag>.<phase>.json (+ .headers), <tag> being its path with '/' → '_'.
set -euo pipefail
FIX=$(cd "$1" && pwd); N=$2; AM=${3:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
# A throwaway CA and a certificate for events.pagerduty.com, for the sink's CONNECT tunnel (PagerDuty v1).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=capture-ca -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=events.pagerduty.com -keyout "$WORK/leaf.key" -out "$WORK/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:events.pagerduty.com\n' > "$WORK/ext"
openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/ext" -out "$WORK/leaf.pem" 2>/dev/null
cp "$HERE/big.tmpl" "$WORK/big.tmpl"
sed -e "s|@SINK@|127.0.0.1:$SINK_PORT|g" -e "s|@WORK@|$WORK|g" "$FIX/am.yml.in" > "$WORK/am.yml"
python3 "$HERE/sink.py" "$SINK_PORT" "$WORK/out" "$WORK/leaf.pem" "$WORK/leaf.key" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
collect() { # phase, count to wait for
  for _ in $(seq 100); do [ "$(ls "$WORK/out" | grep -c '\.body$')" -ge "$2" ] && break; sleep 0.2; done
  for f in "$WORK"/out/*.headers; do
    n=$(basename "$f" .headers)
    path=$(head -1 "$f" | cut -d' ' -f2 | cut -d'?' -f1)
    tag=$(echo "${path#/}" | tr '/' '_' | sed -e 's/\.json$//' -e 's/[0-9a-f]\{64\}/alias/')
    # PUT requests of opsgenie's update_alerts share a tag with nothing else; keep the method in the name.
    [ "$(head -1 "$f" | cut -d' ' -f1)" = PUT ] && tag="put_$tag"
    cp "$WORK/out/$n.body" "$FIX/$tag.$1.json"; cp "$f" "$FIX/$tag.$1.headers"
    rm "$f" "$WORK/out/$n.body"
  done
}
post() { curl -fsS -H 'Content-Type: application/json' --data-binary @"$1" "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null; }
post "$FIX/alerts.json"; collect firing "$N"
post "$FIX/alerts_resolved.json"; collect resolved "$N"
grep -i "level=error\|level=warn" "$WORK/am.log" || true
ls "$FIX"
