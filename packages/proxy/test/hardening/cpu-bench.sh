#!/usr/bin/env bash
# CPU per request of the gateway process under a short bounded loopback load (docs/reliability.md).
# nginx answers `return 200` on 127.0.0.1:$BE; `gatehouse run` routes / to it on 127.0.0.1:$GW;
# wrk -t1 -c20 -d${SECS}s; the gateway's utime+stime delta (from /proc) / requests = CPU per request.
# Usage: packages/proxy/test/hardening/cpu-bench.sh [extra gatehouse run flags...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
BE=${BE:-28480}; GW=${GW:-28481}; ADMIN=${ADMIN:-28482}; SECS=${SECS:-5}
TMP=$(mktemp -d)
cleanup() { [ -n "${GPID:-}" ] && kill "$GPID" 2>/dev/null || true; [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true; sleep 0.3; rm -rf "$TMP"; }
trap cleanup EXIT
cat > "$TMP/nginx.conf" <<NG
worker_processes 1; daemon on; pid $TMP/nginx.pid; error_log /dev/null;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$BE; keepalive_requests 100000; location / { return 200 "ok\n"; } } }
NG
nginx -c "$TMP/nginx.conf" -p "$TMP" 2>/dev/null
mkdir "$TMP/gw"
cat > "$TMP/gw/gw.yaml" <<Y
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gh}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: gh
  listeners: [{name: http, protocol: HTTP, port: $GW}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: be, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: be, namespace: default}
spec: {ports: [{port: 80, targetPort: $BE}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: be, namespace: default, labels: {kubernetes.io/service-name: be}}
addressType: IPv4
ports: [{port: $BE}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
Y
node "$ROOT/packages/cli/dist/bin.js" run "$TMP/gw" --bind 127.0.0.1 --admin 127.0.0.1:$ADMIN --access-log off --log-level warn --no-watch "$@" &
GPID=$!
for i in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$GW/" && break; sleep 0.2; done
wrk -t1 -c20 -d2s "http://127.0.0.1:$GW/" >/dev/null   # warm-up
ticks() { awk '{print $14+$15}' "/proc/$GPID/stat"; }
T0=$(ticks)
OUT=$(wrk -t1 -c20 -d${SECS}s "http://127.0.0.1:$GW/")
T1=$(ticks)
REQS=$(echo "$OUT" | awk '/requests in/ {print $1}')
RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
HZ=$(getconf CLK_TCK)
echo "$OUT" | grep -E 'Latency|Requests/sec|Non-2xx|errors' || true
awk -v t=$((T1-T0)) -v hz=$HZ -v n=$REQS -v rps=$RPS 'BEGIN { printf "requests=%d rps=%s cpu_s=%.2f cpu_us_per_req=%.1f\n", n, rps, t/hz, t/hz*1e6/n }'
