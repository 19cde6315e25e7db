#!/usr/bin/env bash
# Captures the requests the real Alertmanager 0.25 makes to the WeChat work API for ../golden/alerts.json (an
# access token from gettoken, then message/send); see README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=$(mktemp)
cat > "$R" <<YML
  - name: wc-text
    wechat_configs:
      - api_url: '@SINK@/wc-text/cgi-bin/'
        api_secret: 'golden secret/+&='
        corp_id: 'ww-golden-corp'
        agent_id: '1000002'
        to_user: '{{ .CommonLabels.job }}|ops'
        to_party: '2'
        to_tag: 'tag<1>'
        message: |-
          {{ template "__subject" . }}
          {{ range .Alerts }}* {{ .Status }} {{ .Labels.instance }}: {{ .Annotations.summary }} {{ .Annotations.description }}
          {{ end }}
  - name: wc-md
    wechat_configs:
      - api_url: '@SINK@/wc-md/cgi-bin'
        api_secret: 'golden-secret'
        corp_id: 'ww-golden-corp'
        message_type: markdown
        message: '# {{ .Status }} {{ len .Alerts }}'
YML
"$HERE/../golden_pushover/run_am.sh" "$R" 4 "$HERE"
rm -f "$R"
