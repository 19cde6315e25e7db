#!/usr/bin/env bash
# Captures the requests the real Alertmanager 0.25 makes to the Pushover API for ../golden/alerts.json; see README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(mktemp)
LONG=$(python3 -c 'print("ß" * 1100)')
LONGTITLE=$(python3 -c 'print("T" * 300)')
LONGURL=$(python3 -c 'print("http://x.example/" + "é" * 600)')
cat > "$R" <<YML
  - name: po-basic
    pushover_configs:
      - user_key: 'golden-user/key+1'
        token: 'po-basic'
        http_config: {proxy_url: '@SINK@', tls_config: {insecure_skip_verify: true}}
        title: '{{ template "__subject" . }}'
        message: |-
          {{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}
          {{ end }}
        url: '{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}'
        url_title: 'Open {{ .CommonLabels.job }}'
        sound: 'siren'
        retry: 30s
        expire: 2h
  - name: po-html
    pushover_configs:
      - user_key: 'golden-user'
        token: 'po-html'
        http_config: {proxy_url: '@SINK@', tls_config: {insecure_skip_verify: true}}
        html: true
        priority: '{{ if eq .Status "firing" }}1{{ else }}-1{{ end }}'
        message: '<b>{{ .Status }}</b> {{ range .Alerts }}{{ .Labels.instance }} {{ .Annotations.summary }}; {{ end }}'
  - name: po-long
    pushover_configs:
      - user_key: 'golden-user'
        token: 'po-long'
        http_config: {proxy_url: '@SINK@', tls_config: {insecure_skip_verify: true}}
        title: '$LONGTITLE'
        message: '{{ .Status }} $LONG'
        url: '$LONGURL'
  - name: po-empty
    pushover_configs:
      - user_key: 'golden-user'
        token: 'po-empty'
        http_config: {proxy_url: '@SINK@', tls_config: {insecure_skip_verify: true}}
        message: '  {{/* nothing */}}  '
        retry: 1m30s
        expire: 0s
YML
"$HERE/run_am.sh" "$R" 4 "$HERE"
rm -f "$R"
