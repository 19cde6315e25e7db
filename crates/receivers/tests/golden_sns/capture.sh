#!/usr/bin/env bash
# Captures the SNS Publish requests the real Alertmanager 0.25 sends for ../golden/alerts.json; see README.md.
# Usage: capture.sh [alertmanager binary]   (writes <receiver>.body and <receiver>.headers beside this script)
set -euo pipefail
AM=${1:-/usr/bin/prometheus-alertmanager}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SINK_PORT=$(free_port); AM_PORT=$(free_port)
mkdir -p "$WORK/out" "$WORK/data"
# 1598 ASCII bytes then "é€": the SMS limit (1600 bytes) falls right after "é", before "€".
LONG="$(printf 'x%.0s' $(seq 1598))é€ tail"
SIGV4="{region: us-east-1, access_key: AKIDEXAMPLE, secret_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY}"
cat > "$WORK/am.yml" <<YML
route:
  receiver: topic
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 4h
  routes:
    - {receiver: topic, continue: true}
    - {receiver: fifo, continue: true}
    - {receiver: sms, continue: true}
    - {receiver: target}
receivers:
  - name: topic
    sns_configs:
      - api_url: 'http://127.0.0.1:$SINK_PORT/topic'
        sigv4: $SIGV4
        topic_arn: 'arn:aws:sns:us-east-1:123456789012:golden'
        subject: '{{ template "__subject" . }}'
        message: |-
          {{ range .Alerts }}{{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }}
          {{ .Annotations.description }}
          {{ end }}
        attributes:
          alertname: '{{ .GroupLabels.alertname }}'
          'key with space': 'v&=+/é~*'
          a: '1'
  - name: fifo
    sns_configs:
      - api_url: 'http://127.0.0.1:$SINK_PORT/'
        sigv4: $SIGV4
        topic_arn: 'arn:aws:sns:us-east-1:123456789012:golden.fifo'
        message: 'fifo {{ len .Alerts }}'
  - name: sms
    sns_configs:
      - api_url: 'http://127.0.0.1:$SINK_PORT/sms'
        sigv4: $SIGV4
        phone_number: '+15555550100'
        subject: 'sms subject'
        message: '$LONG'
  - name: target
    sns_configs:
      - api_url: 'http://127.0.0.1:$SINK_PORT'
        sigv4: $SIGV4
        target_arn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/0a1b'
        message: 'target {{ .Status }}'
YML
python3 "$HERE/sink.py" "$SINK_PORT" "$WORK/out" & SINK_PID=$!
"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="http://am.example:9093/prefix" \
  --cluster.listen-address= >"$WORK/am.log" 2>&1 & AM_PID=$!
trap 'kill "$AM_PID" "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null && break; sleep 0.2; done
curl -fsS -H 'Content-Type: application/json' --data-binary @"$HERE/../golden/alerts.json" \
  "http://127.0.0.1:$AM_PORT/prefix/api/v2/alerts" >/dev/null
for _ in $(seq 50); do [ -f "$WORK/out/4.body" ] && break; sleep 0.2; done
sleep 1
for f in "$WORK"/out/*.headers; do
  n=$(basename "$f" .headers)
  body="$WORK/out/$n.body"
  if grep -q 'golden.fifo' "$body"; then name=fifo
  elif grep -q 'PhoneNumber' "$body"; then name=sms
  elif grep -q 'TargetArn' "$body"; then name=target
  else name=topic; fi
  cp "$body" "$HERE/$name.body"; cp "$f" "$HERE/$name.headers"
done
ls "$WORK/out"; cat "$WORK/am.log" | grep -v level=info || true
