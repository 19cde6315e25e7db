#!/usr/bin/env bash
# Captures what the real Alertmanager 0.25 sends to VictorOps for alerts.json / alerts_resolved.json; see README.md.
# Usage: capture.sh [alertmanager binary]   (the driver, sink and big.tmpl live in ../golden_pagerduty)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../golden_pagerduty/run.sh" "$HERE" 3 "$@"
