#!/usr/bin/env bash
# Captures the sendMessage requests the real Alertmanager 0.25 makes for ../golden/alerts.json; see README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(mktemp)
LONG=$(python3 -c 'print("ü" * 4200)')
cat > "$R" <<YML
  - name: tg-html
    telegram_configs:
      - api_url: '@SINK@/tg-html'
        bot_token: '123456:AAE-golden_Token'
        chat_id: -1001234567890
        disable_notifications: true
        message: |-
          {{ template "__subject" . }}
          {{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}
          {{ end }}<a href="{{ .ExternalURL }}">AM</a> "q" 'a'
  - name: tg-md
    telegram_configs:
      - api_url: '@SINK@/tg-md'
        bot_token: '123456:AAE-golden_Token'
        chat_id: 42
        parse_mode: Markdown
        message: '{{ .Status }} $LONG'
  - name: tg-plain
    telegram_configs:
      - api_url: '@SINK@/tg-plain'
        bot_token: '123456:AAE-golden_Token'
        chat_id: 42
        parse_mode: ''
        message: |-
          {{ template "__subject" . }}
          {{ range .Alerts }}* {{ .Labels.instance }}: {{ .Annotations.summary }}
          {{ end }}
YML
"$HERE/../golden_pushover/run_am.sh" "$R" 3 "$HERE"
rm -f "$R"
