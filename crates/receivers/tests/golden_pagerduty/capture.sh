#!/usr/bin/env bash
# Captures what the real Alertmanager 0.25 sends to PagerDuty for alerts.json / alerts_resolved.json; see README.md.
# Usage: capture.sh [alertmanager binary]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/run.sh" "$HERE" 4 "$@"
