#!/usr/bin/env bash
# Captures the requests the real Alertmanager 0.25 makes to the Webex API for ../golden/alerts.json; see README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(mktemp)
LONG=$(python3 -c 'print("x" * 3000 + "€" * 5000)')  # 0.25 panics when the text has fewer runes than 7436
cat > "$R" <<YML
  - name: wx-basic
    webex_configs:
      - api_url: '@SINK@/wx-basic/v1/messages'
        room_id: 'Y2lzY29zcGFyazovL3VzL1JPT00vZ29sZGVu'
        http_config:
          authorization: {credentials: 'golden-webex-token'}
        message: |-
          **{{ template "__subject" . }}**
          {{ range .Alerts }}- {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}
          {{ end }}
  - name: wx-long
    webex_configs:
      - api_url: '@SINK@/wx-long/v1/messages'
        room_id: 'room2'
        http_config:
          authorization: {type: 'Custom', credentials: 'golden-webex-token'}
        message: '{{ .Status }} $LONG'
YML
"$HERE/../golden_pushover/run_am.sh" "$R" 2 "$HERE"
rm -f "$R"
