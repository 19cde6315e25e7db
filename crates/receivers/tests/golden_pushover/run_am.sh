#!/usr/bin/env bash
# Shared by the capture.sh of golden_{telegram,pushover,webex,wechat}: runs the real Alertmanager 0.25 with the
# receivers in $1 (a YAML `receivers:` list in which @SINK@ stands for the sink's base URL and @SINKPORT@ for its
# port), posts ../golden/alerts.json, waits for $2 requests and copies them into $3 as
# <name>-<last path segment>.{headers,body}; <name> is the first path segment, or the `token` query parameter for
# requests that arrived through the CONNECT tunnel (pushover's API URL is fixed, so it is reached via proxy_url).
set -euo pipefail
RECEIVERS=$1; WANT=$2; DEST=$3
AM=${AM:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=api.pushover.net -days 1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
{
  cat <<YML
route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 4h
  routes:
YML
  grep -E '^  - name:' "$RECEIVERS" | sed -E "s/^  - name: *'?([^']*)'?.*/    - receiver: '\1'\n      continue: true/"
  echo "receivers:"
  echo "  - name: blackhole"
  sed -e "s#@SINK@#http://127.0.0.1:$SINK_PORT#g" -e "s#@SINKPORT@#$SINK_PORT#g" "$RECEIVERS"
} > "$WORK/am.yml"
python3 "$HERE/sink.py" "$SINK_PORT" "$WORK/out" "$WORK/cert.pem" "$WORK/key.pem" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
curl -fsS -H 'Content-Type: application/json' --data-binary @"$HERE/../golden/alerts.json" \
  "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null
for _ in $(seq 100); do [ -f "$WORK/out/$WANT.body" ] && break; sleep 0.2; done
sleep 1
[ -f "$WORK/out/$WANT.body" ] || { cat "$WORK/am.log"; echo "only $(ls "$WORK/out" | wc -l) files" >&2; exit 1; }
python3 - "$WORK/out" "$DEST" <<'PY'
import os, re, shutil, sys, urllib.parse
src, dest = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    if not f.endswith(".headers"):
        continue
    n = f[:-len(".headers")]
    first = open(os.path.join(src, f)).readline().split()
    target = urllib.parse.urlsplit(first[1])
    segs = [s for s in target.path.split("/") if s]
    name = segs[0]
    if target.path == "/1/messages.json":
        name = urllib.parse.parse_qs(target.query)["token"][0]
    last = re.sub(r"\.json$", "", segs[-1])
    for ext in ("headers", "body"):
        shutil.copy(os.path.join(src, n + "." + ext), os.path.join(dest, f"{name}-{last}.{ext}"))
    print(f"{name}-{last}: {first[0]} {first[1][:100]}")
PY
grep -E 'level=(error|warn)' "$WORK/am.log" || true
