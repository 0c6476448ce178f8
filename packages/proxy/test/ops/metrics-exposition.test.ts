// The exposition after a fixed sequence of calls, byte for byte. The expected texts were produced by the
// implementation that fed prom-client on every request (before the per-request accounting moved into
// typed arrays published at scrape time): names, labels, label order, series order, HELP, TYPE, buckets
// and values must not change. Later additions: the series that exist before any traffic
// (gatehouse_listener_connections_open 0 for every prepared listener, gatehouse_process_errors_total 0).
import t from 'tap';
import type { RoutingTable } from '@gatehouse/core';
import { Metrics, aggregateMetrics, durationBucket, DURATION_BUCKETS } from '../../src/metrics.js';
import { sampleRequest, sampleTable } from './helpers.js';

/** The sample table after a reload: route default/web is gone, default/api (one rule) and a backend arrive. */
function reloadedTable(): RoutingTable {
  const t = sampleTable();
  const group = t.ports[0].httpGroups[0];
  group.rules = [{ ...group.rules[0], route: 'default/api', ruleIndex: 0 }];
  t.backends = [{ ...t.backends[0], id: 'Service default/api:80' }];
  return t;
}

function sequence(m: Metrics): void {
  m.prepare(sampleTable());
  m.onRequest(sampleRequest());
  m.onRequest(sampleRequest({ method: 'POST', status: 201, durationMs: 0.5 })); // exactly on a bound
  m.onRequest(sampleRequest({ method: 'HEAD', status: 304, durationMs: 1, rule: 1 }));
  m.onRequest(sampleRequest({ method: 'get', status: 404, durationMs: 0.01, route: null, rule: -1, backend: null, endpoint: null, error: 'no_route' }));
  m.onRequest(sampleRequest({ method: 'PROPFIND', status: 503, durationMs: 70_000, backend: 'Backend default/x' })); // above the last bound
  m.onRequest(sampleRequest({ listener: 'default/gw/other', gateway: 'default/gw', status: 200, durationMs: 2500 })); // not prepared
  m.onRequest(sampleRequest({ method: 'DELETE', status: 200, durationMs: 60_000 })); // the last bound
  m.onRequest(sampleRequest({ status: 404, durationMs: 0.3, route: null, rule: -1, backend: null, endpoint: null }));
  m.onRequest(sampleRequest({ durationMs: 12.5 }));
  m.onRequest(sampleRequest({ durationMs: 0 }));
  m.onConnection('default/gw/http', 1);
  m.onBackendError('Service default/web:80', 'connect_refused');
  m.onL4({ gateway: 'default/gw', listener: 'default/gw/tcp', route: 'default/t', backend: null, endpoint: null, protocol: 'TCP', sni: null, bytesIn: 1, bytesOut: 2, durationMs: 3, result: 'ok', client: '1.2.3.4', startTime: 0 });
  m.onUdpDatagram('default/gw/dns', 'in', 'forwarded');
  m.onReload(true, 1_700_000_000_000);
  // reload: default/web disappears from the table but keeps its totals
  m.prepare(reloadedTable());
  m.onReload(true, 1_700_000_060_000);
  m.onRequest(sampleRequest({ route: 'default/api', rule: 0, backend: 'Service default/api:80', status: 502, durationMs: 7 }));
  m.onRequest(sampleRequest({ route: 'default/api', rule: 0, backend: 'Service default/api:80', method: 'PATCH', status: 200, durationMs: 0.9 }));
  m.onRequest(sampleRequest({ status: 200, durationMs: 40 }));
}

// Build info carries the Node.js version; the texts have it as NODE.
const EXPECTED = `# HELP gatehouse_listener_requests_total HTTP requests answered, per Gateway listener, method and status code.
# TYPE gatehouse_listener_requests_total counter
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="200"} 4
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="POST",code="201"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="HEAD",code="304"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="404"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="OTHER",code="503"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/other",method="GET",code="200"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="DELETE",code="200"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="502"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="PATCH",code="200"} 1

# HELP gatehouse_listener_request_duration_seconds Time from the first request byte to the last response byte, per Gateway listener.
# TYPE gatehouse_listener_request_duration_seconds histogram
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/http"} 4
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/http"} 7
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/http"} 9
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/http"} 11
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/http"} 130.07470999999998
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/other"} 2.5
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/other"} 1

# HELP gatehouse_listener_connections_open Client connections currently open, per listener.
# TYPE gatehouse_listener_connections_open gauge
gatehouse_listener_connections_open{listener="default/gw/http"} 1
gatehouse_listener_connections_open{listener="default/gw/dns"} 0

# HELP gatehouse_route_requests_total HTTP requests matched by a route rule, per status code.
# TYPE gatehouse_route_requests_total counter
gatehouse_route_requests_total{route="default/web",rule="0",code="200"} 6
gatehouse_route_requests_total{route="default/web",rule="0",code="201"} 1
gatehouse_route_requests_total{route="default/web",rule="1",code="304"} 1
gatehouse_route_requests_total{route="default/web",rule="0",code="503"} 1
gatehouse_route_requests_total{route="default/api",rule="0",code="502"} 1
gatehouse_route_requests_total{route="default/api",rule="0",code="200"} 1

# HELP gatehouse_backend_requests_total HTTP requests sent to a backend, per status code answered.
# TYPE gatehouse_backend_requests_total counter
gatehouse_backend_requests_total{backend="Service default/web:80",code="200"} 6
gatehouse_backend_requests_total{backend="Service default/web:80",code="201"} 1
gatehouse_backend_requests_total{backend="Service default/web:80",code="304"} 1
gatehouse_backend_requests_total{backend="Backend default/x",code="503"} 1
gatehouse_backend_requests_total{backend="Service default/api:80",code="502"} 1
gatehouse_backend_requests_total{backend="Service default/api:80",code="200"} 1

# HELP gatehouse_backend_errors_total Upstream failures per backend and reason (connect_refused, reset, timeout, dns, ...).
# TYPE gatehouse_backend_errors_total counter
gatehouse_backend_errors_total{backend="Service default/web:80",reason="connect_refused"} 1

# HELP gatehouse_tcp_connections_total TCP and TLS (passthrough/terminated) connections handled by L4 listeners, per result.
# TYPE gatehouse_tcp_connections_total counter
gatehouse_tcp_connections_total{listener="default/gw/tcp",result="ok"} 1

# HELP gatehouse_udp_datagrams_total UDP datagrams per listener, direction (in = client to backend) and result.
# TYPE gatehouse_udp_datagrams_total counter
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="forwarded"} 1
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="dropped"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="forwarded"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="dropped"} 0

# HELP gatehouse_config_reloads_total Configuration reloads attempted, per result (success, failure).
# TYPE gatehouse_config_reloads_total counter
gatehouse_config_reloads_total{result="success"} 2
gatehouse_config_reloads_total{result="failure"} 0

# HELP gatehouse_config_last_reload_successful 1 when the last configuration reload succeeded, 0 when it was rejected.
# TYPE gatehouse_config_last_reload_successful gauge
gatehouse_config_last_reload_successful 1

# HELP gatehouse_config_last_reload_timestamp_seconds Unix time of the last successful configuration reload.
# TYPE gatehouse_config_last_reload_timestamp_seconds gauge
gatehouse_config_last_reload_timestamp_seconds 1700000060

# HELP gatehouse_build_info Build information (always 1).
# TYPE gatehouse_build_info gauge
gatehouse_build_info{version="1.2.3",node="NODE"} 1

# HELP gatehouse_access_log_dropped_total Access-log lines dropped because the destination could not keep up.
# TYPE gatehouse_access_log_dropped_total counter
gatehouse_access_log_dropped_total 0

# HELP gatehouse_process_errors_total Errors nobody handled (logged with their stack; the process kept serving), per kind (uncaughtException, unhandledRejection).
# TYPE gatehouse_process_errors_total counter
gatehouse_process_errors_total{kind="uncaughtException"} 0
gatehouse_process_errors_total{kind="unhandledRejection"} 0
`;

const EXPECTED_TWICE = `# HELP gatehouse_listener_requests_total HTTP requests answered, per Gateway listener, method and status code.
# TYPE gatehouse_listener_requests_total counter
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="200"} 8
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="POST",code="201"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="HEAD",code="304"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="404"} 4
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="OTHER",code="503"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/other",method="GET",code="200"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="DELETE",code="200"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="502"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="PATCH",code="200"} 2

# HELP gatehouse_listener_request_duration_seconds Time from the first request byte to the last response byte, per Gateway listener.
# TYPE gatehouse_listener_request_duration_seconds histogram
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/http"} 8
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/http"} 14
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/http"} 18
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/http"} 20
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/http"} 22
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/http"} 24
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/http"} 260.14941999999996
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/http"} 24
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/other"} 5
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/other"} 2

# HELP gatehouse_listener_connections_open Client connections currently open, per listener.
# TYPE gatehouse_listener_connections_open gauge
gatehouse_listener_connections_open{listener="default/gw/http"} 2
gatehouse_listener_connections_open{listener="default/gw/dns"} 0

# HELP gatehouse_route_requests_total HTTP requests matched by a route rule, per status code.
# TYPE gatehouse_route_requests_total counter
gatehouse_route_requests_total{route="default/web",rule="0",code="200"} 12
gatehouse_route_requests_total{route="default/web",rule="0",code="201"} 2
gatehouse_route_requests_total{route="default/web",rule="1",code="304"} 2
gatehouse_route_requests_total{route="default/web",rule="0",code="503"} 2
gatehouse_route_requests_total{route="default/api",rule="0",code="502"} 2
gatehouse_route_requests_total{route="default/api",rule="0",code="200"} 2

# HELP gatehouse_backend_requests_total HTTP requests sent to a backend, per status code answered.
# TYPE gatehouse_backend_requests_total counter
gatehouse_backend_requests_total{backend="Service default/web:80",code="200"} 12
gatehouse_backend_requests_total{backend="Service default/web:80",code="201"} 2
gatehouse_backend_requests_total{backend="Service default/web:80",code="304"} 2
gatehouse_backend_requests_total{backend="Backend default/x",code="503"} 2
gatehouse_backend_requests_total{backend="Service default/api:80",code="502"} 2
gatehouse_backend_requests_total{backend="Service default/api:80",code="200"} 2

# HELP gatehouse_backend_errors_total Upstream failures per backend and reason (connect_refused, reset, timeout, dns, ...).
# TYPE gatehouse_backend_errors_total counter
gatehouse_backend_errors_total{backend="Service default/web:80",reason="connect_refused"} 2

# HELP gatehouse_tcp_connections_total TCP and TLS (passthrough/terminated) connections handled by L4 listeners, per result.
# TYPE gatehouse_tcp_connections_total counter
gatehouse_tcp_connections_total{listener="default/gw/tcp",result="ok"} 2

# HELP gatehouse_udp_datagrams_total UDP datagrams per listener, direction (in = client to backend) and result.
# TYPE gatehouse_udp_datagrams_total counter
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="forwarded"} 2
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="dropped"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="forwarded"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="dropped"} 0

# HELP gatehouse_config_reloads_total Configuration reloads attempted, per result (success, failure).
# TYPE gatehouse_config_reloads_total counter
gatehouse_config_reloads_total{result="success"} 4
gatehouse_config_reloads_total{result="failure"} 0

# HELP gatehouse_config_last_reload_successful 1 when the last configuration reload succeeded, 0 when it was rejected.
# TYPE gatehouse_config_last_reload_successful gauge
gatehouse_config_last_reload_successful 1

# HELP gatehouse_config_last_reload_timestamp_seconds Unix time of the last successful configuration reload.
# TYPE gatehouse_config_last_reload_timestamp_seconds gauge
gatehouse_config_last_reload_timestamp_seconds 1700000060

# HELP gatehouse_build_info Build information (always 1).
# TYPE gatehouse_build_info gauge
gatehouse_build_info{version="1.2.3",node="NODE"} 1

# HELP gatehouse_access_log_dropped_total Access-log lines dropped because the destination could not keep up.
# TYPE gatehouse_access_log_dropped_total counter
gatehouse_access_log_dropped_total 0

# HELP gatehouse_process_errors_total Errors nobody handled (logged with their stack; the process kept serving), per kind (uncaughtException, unhandledRejection).
# TYPE gatehouse_process_errors_total counter
gatehouse_process_errors_total{kind="uncaughtException"} 0
gatehouse_process_errors_total{kind="unhandledRejection"} 0
`;

const EXPECTED_WORKER_LABEL = `# HELP gatehouse_listener_requests_total HTTP requests answered, per Gateway listener, method and status code.
# TYPE gatehouse_listener_requests_total counter
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="200",worker="1"} 4
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="POST",code="201",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="HEAD",code="304",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="404",worker="1"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="OTHER",code="503",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/other",method="GET",code="200",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="DELETE",code="200",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="502",worker="1"} 1
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="PATCH",code="200",worker="1"} 1

# HELP gatehouse_listener_request_duration_seconds Time from the first request byte to the last response byte, per Gateway listener.
# TYPE gatehouse_listener_request_duration_seconds histogram
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",worker="1",gateway="default/gw",listener="default/gw/http"} 4
gatehouse_listener_request_duration_seconds_bucket{le="0.001",worker="1",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",worker="1",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.005",worker="1",gateway="default/gw",listener="default/gw/http"} 6
gatehouse_listener_request_duration_seconds_bucket{le="0.01",worker="1",gateway="default/gw",listener="default/gw/http"} 7
gatehouse_listener_request_duration_seconds_bucket{le="0.025",worker="1",gateway="default/gw",listener="default/gw/http"} 9
gatehouse_listener_request_duration_seconds_bucket{le="0.05",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.1",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.25",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="0.5",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="1",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="2.5",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="5",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="10",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="30",worker="1",gateway="default/gw",listener="default/gw/http"} 10
gatehouse_listener_request_duration_seconds_bucket{le="60",worker="1",gateway="default/gw",listener="default/gw/http"} 11
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",worker="1",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_sum{worker="1",gateway="default/gw",listener="default/gw/http"} 130.07470999999998
gatehouse_listener_request_duration_seconds_count{worker="1",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.001",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.005",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.01",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.025",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.05",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.1",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.25",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.5",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="1",worker="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="2.5",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="5",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="10",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="30",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="60",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",worker="1",gateway="default/gw",listener="default/gw/other"} 1
gatehouse_listener_request_duration_seconds_sum{worker="1",gateway="default/gw",listener="default/gw/other"} 2.5
gatehouse_listener_request_duration_seconds_count{worker="1",gateway="default/gw",listener="default/gw/other"} 1

# HELP gatehouse_listener_connections_open Client connections currently open, per listener.
# TYPE gatehouse_listener_connections_open gauge
gatehouse_listener_connections_open{listener="default/gw/http",worker="1"} 1
gatehouse_listener_connections_open{listener="default/gw/dns",worker="1"} 0

# HELP gatehouse_route_requests_total HTTP requests matched by a route rule, per status code.
# TYPE gatehouse_route_requests_total counter
gatehouse_route_requests_total{route="default/web",rule="0",code="200",worker="1"} 6
gatehouse_route_requests_total{route="default/web",rule="0",code="201",worker="1"} 1
gatehouse_route_requests_total{route="default/web",rule="1",code="304",worker="1"} 1
gatehouse_route_requests_total{route="default/web",rule="0",code="503",worker="1"} 1
gatehouse_route_requests_total{route="default/api",rule="0",code="502",worker="1"} 1
gatehouse_route_requests_total{route="default/api",rule="0",code="200",worker="1"} 1

# HELP gatehouse_backend_requests_total HTTP requests sent to a backend, per status code answered.
# TYPE gatehouse_backend_requests_total counter
gatehouse_backend_requests_total{backend="Service default/web:80",code="200",worker="1"} 6
gatehouse_backend_requests_total{backend="Service default/web:80",code="201",worker="1"} 1
gatehouse_backend_requests_total{backend="Service default/web:80",code="304",worker="1"} 1
gatehouse_backend_requests_total{backend="Backend default/x",code="503",worker="1"} 1
gatehouse_backend_requests_total{backend="Service default/api:80",code="502",worker="1"} 1
gatehouse_backend_requests_total{backend="Service default/api:80",code="200",worker="1"} 1

# HELP gatehouse_backend_errors_total Upstream failures per backend and reason (connect_refused, reset, timeout, dns, ...).
# TYPE gatehouse_backend_errors_total counter
gatehouse_backend_errors_total{backend="Service default/web:80",reason="connect_refused",worker="1"} 1

# HELP gatehouse_tcp_connections_total TCP and TLS (passthrough/terminated) connections handled by L4 listeners, per result.
# TYPE gatehouse_tcp_connections_total counter
gatehouse_tcp_connections_total{listener="default/gw/tcp",result="ok",worker="1"} 1

# HELP gatehouse_udp_datagrams_total UDP datagrams per listener, direction (in = client to backend) and result.
# TYPE gatehouse_udp_datagrams_total counter
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="forwarded",worker="1"} 1
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="dropped",worker="1"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="forwarded",worker="1"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="dropped",worker="1"} 0

# HELP gatehouse_config_reloads_total Configuration reloads attempted, per result (success, failure).
# TYPE gatehouse_config_reloads_total counter
gatehouse_config_reloads_total{result="success",worker="1"} 2
gatehouse_config_reloads_total{result="failure",worker="1"} 0

# HELP gatehouse_config_last_reload_successful 1 when the last configuration reload succeeded, 0 when it was rejected.
# TYPE gatehouse_config_last_reload_successful gauge
gatehouse_config_last_reload_successful{worker="1"} 1

# HELP gatehouse_config_last_reload_timestamp_seconds Unix time of the last successful configuration reload.
# TYPE gatehouse_config_last_reload_timestamp_seconds gauge
gatehouse_config_last_reload_timestamp_seconds{worker="1"} 1700000060

# HELP gatehouse_build_info Build information (always 1).
# TYPE gatehouse_build_info gauge
gatehouse_build_info{version="1.2.3",node="NODE",worker="1"} 1

# HELP gatehouse_access_log_dropped_total Access-log lines dropped because the destination could not keep up.
# TYPE gatehouse_access_log_dropped_total counter
gatehouse_access_log_dropped_total{worker="1"} 0

# HELP gatehouse_process_errors_total Errors nobody handled (logged with their stack; the process kept serving), per kind (uncaughtException, unhandledRejection).
# TYPE gatehouse_process_errors_total counter
gatehouse_process_errors_total{kind="uncaughtException",worker="1"} 0
gatehouse_process_errors_total{kind="unhandledRejection",worker="1"} 0
`;

const EXPECTED_AGGREGATE = `# HELP gatehouse_listener_requests_total HTTP requests answered, per Gateway listener, method and status code.
# TYPE gatehouse_listener_requests_total counter
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="200"} 8
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="POST",code="201"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="HEAD",code="304"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="404"} 4
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="OTHER",code="503"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/other",method="GET",code="200"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="DELETE",code="200"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="502"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="PATCH",code="200"} 2
gatehouse_listener_requests_total{gateway="default/gw",listener="default/gw/http",method="GET",code="418"} 1

# HELP gatehouse_listener_request_duration_seconds Time from the first request byte to the last response byte, per Gateway listener.
# TYPE gatehouse_listener_request_duration_seconds histogram
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/http"} 8
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/http"} 12
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/http"} 14
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/http"} 19
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/http"} 21
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/http"} 23
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/http"} 25
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/http"} 260.16191999999995
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/http"} 25
gatehouse_listener_request_duration_seconds_bucket{le="0.0005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.001",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.0025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.005",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.01",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.025",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.05",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.25",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="0.5",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="1",gateway="default/gw",listener="default/gw/other"} 0
gatehouse_listener_request_duration_seconds_bucket{le="2.5",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="5",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="10",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="30",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="60",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_bucket{le="+Inf",gateway="default/gw",listener="default/gw/other"} 2
gatehouse_listener_request_duration_seconds_sum{gateway="default/gw",listener="default/gw/other"} 5
gatehouse_listener_request_duration_seconds_count{gateway="default/gw",listener="default/gw/other"} 2

# HELP gatehouse_listener_connections_open Client connections currently open, per listener.
# TYPE gatehouse_listener_connections_open gauge
gatehouse_listener_connections_open{listener="default/gw/http"} 2
gatehouse_listener_connections_open{listener="default/gw/dns"} 0

# HELP gatehouse_route_requests_total HTTP requests matched by a route rule, per status code.
# TYPE gatehouse_route_requests_total counter
gatehouse_route_requests_total{route="default/web",rule="0",code="200"} 12
gatehouse_route_requests_total{route="default/web",rule="0",code="201"} 2
gatehouse_route_requests_total{route="default/web",rule="1",code="304"} 2
gatehouse_route_requests_total{route="default/web",rule="0",code="503"} 2
gatehouse_route_requests_total{route="default/api",rule="0",code="502"} 2
gatehouse_route_requests_total{route="default/api",rule="0",code="200"} 2
gatehouse_route_requests_total{route="default/web",rule="0",code="418"} 1

# HELP gatehouse_backend_requests_total HTTP requests sent to a backend, per status code answered.
# TYPE gatehouse_backend_requests_total counter
gatehouse_backend_requests_total{backend="Service default/web:80",code="200"} 12
gatehouse_backend_requests_total{backend="Service default/web:80",code="201"} 2
gatehouse_backend_requests_total{backend="Service default/web:80",code="304"} 2
gatehouse_backend_requests_total{backend="Backend default/x",code="503"} 2
gatehouse_backend_requests_total{backend="Service default/api:80",code="502"} 2
gatehouse_backend_requests_total{backend="Service default/api:80",code="200"} 2
gatehouse_backend_requests_total{backend="Service default/web:80",code="418"} 1

# HELP gatehouse_backend_errors_total Upstream failures per backend and reason (connect_refused, reset, timeout, dns, ...).
# TYPE gatehouse_backend_errors_total counter
gatehouse_backend_errors_total{backend="Service default/web:80",reason="connect_refused"} 2

# HELP gatehouse_tcp_connections_total TCP and TLS (passthrough/terminated) connections handled by L4 listeners, per result.
# TYPE gatehouse_tcp_connections_total counter
gatehouse_tcp_connections_total{listener="default/gw/tcp",result="ok"} 2

# HELP gatehouse_udp_datagrams_total UDP datagrams per listener, direction (in = client to backend) and result.
# TYPE gatehouse_udp_datagrams_total counter
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="forwarded"} 2
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="in",result="dropped"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="forwarded"} 0
gatehouse_udp_datagrams_total{listener="default/gw/dns",direction="out",result="dropped"} 0

# HELP gatehouse_config_reloads_total Configuration reloads attempted, per result (success, failure).
# TYPE gatehouse_config_reloads_total counter
gatehouse_config_reloads_total{result="success"} 4
gatehouse_config_reloads_total{result="failure"} 0

# HELP gatehouse_config_last_reload_successful 1 when the last configuration reload succeeded, 0 when it was rejected.
# TYPE gatehouse_config_last_reload_successful gauge
gatehouse_config_last_reload_successful 1

# HELP gatehouse_config_last_reload_timestamp_seconds Unix time of the last successful configuration reload.
# TYPE gatehouse_config_last_reload_timestamp_seconds gauge
gatehouse_config_last_reload_timestamp_seconds 1700000060

# HELP gatehouse_build_info Build information (always 1).
# TYPE gatehouse_build_info gauge
gatehouse_build_info{version="1.2.3",node="NODE"} 1

# HELP gatehouse_access_log_dropped_total Access-log lines dropped because the destination could not keep up.
# TYPE gatehouse_access_log_dropped_total counter
gatehouse_access_log_dropped_total 0

# HELP gatehouse_process_errors_total Errors nobody handled (logged with their stack; the process kept serving), per kind (uncaughtException, unhandledRejection).
# TYPE gatehouse_process_errors_total counter
gatehouse_process_errors_total{kind="uncaughtException"} 0
gatehouse_process_errors_total{kind="unhandledRejection"} 0
`;


t.test('exposition after a fixed sequence is byte-identical to the per-request prom-client output', async (t) => {
  const m = new Metrics({ version: '1.2.3', processMetrics: false });
  sequence(m);
  const text = (await m.text()).replaceAll(process.version, 'NODE');
  t.equal(text, EXPECTED);
});

t.test('a second scrape after more traffic (series published earlier are updated in place)', async (t) => {
  const m = new Metrics({ version: '1.2.3', processMetrics: false });
  await m.text(); // a scrape before any traffic
  sequence(m);
  const first = await m.text();
  sequence(m);
  const twice = new Metrics({ version: '1.2.3', processMetrics: false });
  sequence(twice);
  sequence(twice);
  t.not(first, await m.text());
  t.equal(await m.text(), await twice.text());
  t.equal((await m.text()).replaceAll(process.version, 'NODE'), EXPECTED_TWICE);
});

t.test('default labels and --workers aggregation (getMetricsAsJSON → AggregatorRegistry)', async (t) => {
  const w1 = new Metrics({ version: '1.2.3', processMetrics: false, defaultLabels: { worker: '1' } });
  sequence(w1);
  t.equal((await w1.text()).replaceAll(process.version, 'NODE'), EXPECTED_WORKER_LABEL);
  const a = new Metrics({ version: '1.2.3', processMetrics: false });
  const b = new Metrics({ version: '1.2.3', processMetrics: false });
  sequence(a);
  sequence(b);
  b.onRequest(sampleRequest({ status: 418 }));
  // through IPC the JSON is serialised: do the same
  const parts = [JSON.parse(JSON.stringify(await a.json())), JSON.parse(JSON.stringify(await b.json()))];
  const agg = await aggregateMetrics(parts);
  t.equal(agg.body.replaceAll(process.version, 'NODE'), EXPECTED_AGGREGATE);
});

t.test('bucket search agrees with a linear scan (value <= bound), bounds included', async (t) => {
  const linear = (v: number) => {
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (v <= DURATION_BUCKETS[i]) return i;
    return DURATION_BUCKETS.length;
  };
  const values = [-1, 0, Number.MIN_VALUE, 1e-9, 1e9, Infinity];
  for (const b of DURATION_BUCKETS) values.push(b, b * (1 - 1e-15), b * (1 + 1e-15), b / 2, (b * 3) / 2);
  for (let i = 0; i < 2000; i++) values.push(Math.exp(-12 + (i / 2000) * 18));
  let bad = 0;
  for (const v of values) if (durationBucket(v) !== linear(v)) bad++;
  t.equal(bad, 0, `${values.length} values`);
});

t.test('non-finite durations are counted as requests but not observed', async (t) => {
  const m = new Metrics({ version: '1', processMetrics: false });
  m.onRequest(sampleRequest({ durationMs: NaN }));
  m.onRequest(sampleRequest({ durationMs: Infinity }));
  m.onRequest(sampleRequest({ durationMs: 5 }));
  const text = await m.text();
  t.match(text, /gatehouse_listener_requests_total\{gateway="default\/gw",listener="default\/gw\/http",method="GET",code="200"\} 3\n/);
  t.match(text, /gatehouse_listener_request_duration_seconds_count\{gateway="default\/gw",listener="default\/gw\/http"\} 1\n/);
});
