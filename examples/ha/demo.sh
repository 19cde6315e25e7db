#!/usr/bin/env bash
# `make demo`: the seed scenario on loopback. Two tocsin nodes clustered with each other, a webhook sink, one
# alert posted to BOTH nodes (as two Prometheus servers would), and the proof: the sink got one notification.
# Everything started here is killed by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${TOCSIN_BIN:-target/debug/tocsin}
if [ -z "${TOCSIN_BIN:-}" ]; then
  cargo build --quiet --bin tocsin
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SINK=$(free_port); WEB_A=$(free_port); WEB_B=$(free_port); GOSSIP_A=$(free_port); GOSSIP_B=$(free_port)

python3 examples/ha/sink.py "$SINK" "$tmp/received.jsonl" &
pids+=($!)

cat > "$tmp/alertmanager.yml" <<YAML
route:
  receiver: demo-webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: demo-webhook
    webhook_configs:
      - url: http://127.0.0.1:$SINK/hook
YAML

start_node() { # name web-port gossip-port peer-gossip-port
  mkdir -p "$tmp/$1"
  "$BIN" --config.file="$tmp/alertmanager.yml" --storage.path="$tmp/$1" \
    --web.listen-address="127.0.0.1:$2" \
    --cluster.listen-address="127.0.0.1:$3" --cluster.peer="127.0.0.1:$4" \
    --cluster.peer-timeout=1s --cluster.gossip-interval=50ms --cluster.settle-timeout=2s \
    --log.level=warn 2>"$tmp/$1.log" &
  pids+=($!)
}
start_node A "$WEB_A" "$GOSSIP_A" "$GOSSIP_B"
start_node B "$WEB_B" "$GOSSIP_B" "$GOSSIP_A"

echo "== waiting for both nodes to see each other"
for _ in $(seq 1 100); do
  ready=0
  for port in "$WEB_A" "$WEB_B"; do
    s=$(curl -fsS "http://127.0.0.1:$port/api/v2/status" 2>/dev/null || true)
    if [ "$(jq -r '.cluster.status' <<<"$s" 2>/dev/null)" = ready ] &&
      [ "$(jq '.cluster.peers | length' <<<"$s" 2>/dev/null)" = 2 ]; then ready=$((ready + 1)); fi
  done
  [ "$ready" = 2 ] && break
  sleep 0.2
done
[ "$ready" = 2 ] || { echo "cluster did not form; logs:"; cat "$tmp"/*.log; exit 1; }

alert='[{"labels":{"alertname":"DiskFull","instance":"db1","severity":"critical"},"annotations":{"summary":"disk 95% full"}}]'
echo "== posting the same alert to node A (:$WEB_A) and node B (:$WEB_B)"
for port in "$WEB_A" "$WEB_B"; do
  curl -fsS -XPOST -H 'Content-Type: application/json' -d "$alert" "http://127.0.0.1:$port/api/v2/alerts"
done

# group_wait (1s) + position 1's wait (1s) + margin: a duplicate would have arrived by then.
for _ in $(seq 1 25); do sleep 0.2; done

echo
echo "== the webhook sink received $(wc -l <"$tmp/received.jsonl" 2>/dev/null || echo 0) notification(s):"
[ -f "$tmp/received.jsonl" ] && jq -c '{status, receiver, groupLabels, alerts: [.alerts[] | .labels.alertname]}' "$tmp/received.jsonl"
for n in A B; do
  port=$WEB_A; [ "$n" = B ] && port=$WEB_B
  echo
  echo "== node $n: cluster status and alerts"
  curl -fsS "http://127.0.0.1:$port/api/v2/status" | jq -c '.cluster | {name, status, peers: [.peers[] | .name]}'
  curl -fsS "http://127.0.0.1:$port/api/v2/alerts" | jq -c '.[] | {alertname: .labels.alertname, state: .status.state}'
done
