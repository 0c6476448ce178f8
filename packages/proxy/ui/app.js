// Gatehouse dashboard: renders GET /api/model, follows GET /api/events (SSE) for live numbers,
// explains requests with POST /api/explain and reloads with POST /reload. No framework, no CDN.
'use strict';
(function () {
  var NEGATIVE = { Conflicted: 1, OverlappingTLSConfig: 1, Degraded: 1 };
  var VIEWS = ['gateways', 'routes', 'backends', 'explain', 'diagnostics'];
  var model = null;
  var stats = {};
  var explainTouched = false;

  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(function (x) { add(e, x); });
    else e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function fill(el) { el.textContent = ''; for (var i = 1; i < arguments.length; i++) add(el, arguments[i]); }
  function getJson(url, opts) {
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var body; try { body = JSON.parse(t); } catch (e) { body = { error: t }; }
        return { status: r.status, body: body };
      });
    });
  }

  // ------------------------------------------------------------------ badges
  function condClass(c) {
    if (c.status === 'Unknown') return 'unknown';
    var good = NEGATIVE[c.type] ? c.status === 'False' : c.status === 'True';
    return good ? 'ok' : 'bad';
  }
  function badge(c) {
    return h('span', { class: 'badge ' + condClass(c), title: c.reason + ': ' + c.message, 'data-cond': c.type + '=' + c.status }, c.type + '=' + c.status);
  }
  function badges(cs) { return (cs || []).map(badge); }

  // ------------------------------------------------------------------ live widgets
  function liveWidget(kind, id, big) {
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('class', big ? 'spark big' : 'spark');
    svg.setAttribute('viewBox', '0 0 59 20');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('aria-label', 'requests per second, last 60 s');
    svg.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'polyline'));
    var w = h('span', { class: 'live', 'data-series': kind + ':' + id },
      svg,
      h('span', null, h('b', { class: 'rps' }, '0'), ' req/s'),
      h('span', { class: 'err' }, '–'),
      h('span', null, 'p50 ', h('b', { class: 'p50' }, '–')),
      h('span', null, 'p99 ', h('b', { class: 'p99' }, '–')),
      h('span', { class: 'muted' }, h('span', { class: 'total' }, '0'), ' total'));
    updateWidget(w);
    return w;
  }
  function ms(v) { return v === null || v === undefined ? '–' : v < 10 ? v.toFixed(2) + ' ms' : v < 1000 ? v.toFixed(0) + ' ms' : (v / 1000).toFixed(2) + ' s'; }
  function updateWidget(w) {
    var s = stats[w.getAttribute('data-series')];
    if (!s) return;
    w.querySelector('.rps').textContent = s.rps < 10 ? String(Math.round(s.rps * 10) / 10) : String(Math.round(s.rps));
    var err = w.querySelector('.err');
    err.textContent = s.errorRate === null ? 'no 5xx' : (s.errorRate * 100).toFixed(s.errorRate > 0 && s.errorRate < 0.01 ? 2 : 0) + '% 5xx';
    err.className = 'err' + (s.errorRate ? ' err-hi' : '');
    w.querySelector('.p50').textContent = ms(s.p50);
    w.querySelector('.p99').textContent = ms(s.p99);
    w.querySelector('.total').textContent = String(s.total);
    var max = Math.max.apply(null, s.spark.concat([1]));
    var pts = s.spark.map(function (v, i) { return i + ',' + (19.5 - (v / max) * 19).toFixed(2); }).join(' ');
    w.querySelector('polyline').setAttribute('points', pts);
    w.setAttribute('title', 'peak ' + max + ' req/s in the last minute; ' + s.minute.requests + ' requests, ' + s.minute.errors5xx + ' 5xx, ' + s.minute.backendErrors + ' upstream errors');
  }
  function onStats(snap) {
    var live = $('live-dot');
    if (!snap.available) { live.title = snap.reason; return; }
    stats = {};
    ['listeners', 'routes', 'backends'].forEach(function (k) {
      snap[k].forEach(function (s) { stats[k.slice(0, -1) + ':' + s.id] = s; });
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-series]'), updateWidget);
    Array.prototype.forEach.call(document.querySelectorAll('[data-health]'), updateHealth);
  }

  // ------------------------------------------------------------------ views
  function link(view, text) { return h('a', { href: '#' + view }, text); }
  function renderHeader() {
    var st = $('state');
    st.textContent = model.draining ? 'draining' : model.ready ? 'ready' : 'not ready';
    st.className = 'badge ' + (model.ready ? 'ok' : 'bad');
    var s = model.serving;
    $('serving').textContent = s ? 'serving ' + String(s.hash || '').slice(0, 12) + (s.since ? ' since ' + new Date(s.since).toLocaleTimeString() : '') : 'nothing serving';
    var lr = model.lastReload, n = lr && lr.diagnostics ? lr.diagnostics.length : 0;
    fill($('diag-count'), n ? h('span', { class: 'badge ' + (lr.errors ? 'bad' : 'warn') }, n) : null);
  }
  function renderGateways() {
    var out = [];
    model.gatewayClasses.forEach(function (c) {
      out.push(h('div', { class: 'card' }, h('div', { class: 'title' }, h('h2', null, h('span', { class: 'kind' }, 'GatewayClass '), c.name), badges(c.conditions)), h('div', { class: 'muted mono' }, c.controllerName)));
    });
    model.gateways.forEach(function (g) {
      var rows = g.listeners.map(function (l) {
        return h('tr', { 'data-listener': l.id },
          h('td', null, h('b', null, l.name)),
          h('td', null, l.port === null ? '–' : l.port),
          h('td', null, l.protocol || '–'),
          h('td', { class: 'mono' }, l.hostname || '*'),
          h('td', null, h('span', { class: 'muted' }, l.attachedRoutes + ' attached'), h('ul', { class: 'plain' }, l.routes.map(function (r) { return h('li', null, link('routes:' + r, r)); }))),
          h('td', null, badges(l.conditions)),
          h('td', null, liveWidget('listener', l.id)));
      });
      out.push(h('div', { class: 'card', 'data-gateway': g.name },
        h('div', { class: 'title' }, h('h2', null, h('span', { class: 'kind' }, 'Gateway '), g.name), badges(g.conditions)),
        g.addresses.length ? h('div', { class: 'muted' }, 'addresses ', h('span', { class: 'mono' }, g.addresses.join(', '))) : null,
        h('h3', null, 'Listeners'),
        h('table', null, h('tr', null, ['Listener', 'Port', 'Protocol', 'Hostname', 'Routes', 'Conditions', 'Live'].map(function (t) { return h('th', null, t); })), rows)));
    });
    if (!out.length) out.push(h('div', { class: 'card empty' }, 'No Gateway in the configuration.'));
    fill($('v-gateways'), out);
  }
  function renderRoutes() {
    var out = model.routes.map(function (r) {
      var rules = r.rules.map(function (rule) {
        return h('tr', null,
          h('td', null, rule.index + (rule.name ? ' (' + rule.name + ')' : '')),
          h('td', null, rule.matches.map(function (m) {
            return h('div', { class: 'mono' }, (m.hostnames.length ? m.hostnames.join(',') + '  ' : '') + m.path + (m.method ? '  method ' + m.method : '') +
              (m.headers.length ? '  headers ' + m.headers.join(' ') : '') + (m.queryParams.length ? '  query ' + m.queryParams.join(' ') : ''));
          })),
          h('td', null, rule.filters.length ? rule.filters.map(function (f) { return h('div', { class: 'mono' }, f); }) : h('span', { class: 'muted' }, '–')),
          h('td', null, rule.backends.length ? rule.backends.map(function (b) {
            return h('div', null, h('span', { class: 'mono' }, b.name), ' weight ' + b.weight + ' (' + b.share + '%)', b.invalid ? h('span', { class: 'badge bad' }, '500: ' + b.invalid) : null);
          }) : h('span', { class: 'muted' }, 'none')));
      });
      return h('div', { class: 'card', 'data-route': r.name, id: 'route-' + r.name },
        h('div', { class: 'title' }, h('h2', null, h('span', { class: 'kind' }, r.kind + ' '), r.name), liveWidget('route', r.name, true)),
        r.parents.map(function (p) { return h('div', null, h('span', { class: 'muted' }, p.parent + '  '), badges(p.conditions)); }),
        r.parents.length ? null : h('div', { class: 'muted' }, 'no parentRefs'),
        h('h3', null, 'Rules'),
        rules.length ? h('table', null, h('tr', null, ['Rule', 'Matches', 'Filters', 'Backends'].map(function (t) { return h('th', null, t); })), rules) : h('div', { class: 'muted' }, 'Not serving: the route attaches to no listener.'),
        h('h3', null, 'Backends'),
        h('table', null, r.backends.map(function (b) { return backendRow(b, false); })));
    });
    if (!out.length) out.push(h('div', { class: 'card empty' }, 'No route in the configuration.'));
    fill($('v-routes'), out);
  }
  function backendRow(b, withRoutes) {
    return h('tr', { 'data-backend': b.name },
      h('td', { class: 'mono' }, b.name),
      h('td', null, b.resolution === 'Unresolved' ? h('span', { class: 'badge bad' }, 'Unresolved: ' + (b.reason || '?')) : h('span', { class: 'badge ok' }, b.resolution)),
      h('td', { class: 'mono' }, b.endpoints.length ? b.endpoints.join(', ') : '–'),
      h('td', null, h('span', { class: 'badge', 'data-health': b.name, 'data-resolution': b.resolution, 'data-endpoints': b.endpoints.length }, '')),
      withRoutes ? h('td', null, b.routes.map(function (r) { return h('div', null, link('routes:' + r, r)); })) : null,
      h('td', null, b.resolution === 'Unresolved' ? null : liveWidget('backend', b.name)));
  }
  function updateHealth(el) {
    var id = el.getAttribute('data-health');
    var s = stats['backend:' + id];
    var txt, cls;
    if (el.getAttribute('data-resolution') === 'Unresolved') { txt = 'answers 500'; cls = 'bad'; }
    else if (el.getAttribute('data-endpoints') === '0') { txt = 'no endpoints (503)'; cls = 'bad'; }
    else if (s && s.minute.backendErrors > 0) { txt = s.minute.backendErrors + ' upstream errors/min'; cls = 'warn'; }
    else if (s && s.errorRate) { txt = 'answering 5xx'; cls = 'warn'; }
    else if (s && s.minute.requests > 0) { txt = 'healthy'; cls = 'ok'; }
    else { txt = 'idle'; cls = 'unknown'; }
    el.textContent = txt;
    el.className = 'badge ' + cls;
  }
  function renderBackends() {
    var seen = {}, list = [];
    model.routes.forEach(function (r) {
      r.backends.forEach(function (b) {
        var e = seen[b.name];
        if (!e) { e = seen[b.name] = { name: b.name, resolution: b.resolution, reason: b.reason, endpoints: b.endpoints, routes: [] }; list.push(e); }
        if (e.routes.indexOf(r.name) < 0) e.routes.push(r.name);
      });
    });
    list.sort(function (a, b) { return a.name < b.name ? -1 : 1; });
    fill($('v-backends'), h('div', { class: 'card' }, h('h2', null, 'Backends'),
      list.length ? h('table', null, h('tr', null, ['Backend', 'Resolution', 'Endpoints', 'Health', 'Used by', 'Live'].map(function (t) { return h('th', null, t); })),
        list.map(function (b) { return backendRow(b, true); })) : h('div', { class: 'muted' }, 'No backend.')));
    Array.prototype.forEach.call(document.querySelectorAll('[data-health]'), updateHealth);
  }
  function renderDiagnostics() {
    var lr = model.lastReload;
    var out = [];
    if (!lr) out.push(h('div', { class: 'card empty' }, 'No reload yet.'));
    else {
      out.push(h('div', { class: 'card' },
        h('div', { class: 'title' }, h('h2', null, 'Last reload'), h('span', { class: 'badge ' + (lr.result === 'error' ? 'bad' : 'ok'), id: 'last-result' }, lr.result)),
        h('div', null, lr.message),
        h('div', { class: 'muted' }, 'trigger ' + lr.trigger + ' · ' + new Date(lr.time).toLocaleString() + ' · ' + lr.durationMs + ' ms · ' + lr.errors + ' errors, ' + lr.warnings + ' warnings')));
      out.push(h('div', { class: 'card' }, h('h2', null, 'Diagnostics'),
        lr.diagnostics.length ? h('table', { id: 'diagnostics' }, h('tr', null, ['Severity', 'Location', 'Object', 'Code', 'Message'].map(function (t) { return h('th', null, t); })),
          lr.diagnostics.map(function (d) {
            return h('tr', null, h('td', null, h('span', { class: 'badge ' + (d.severity === 'error' ? 'bad' : 'warn') }, d.severity)),
              h('td', { class: 'mono' }, d.location), h('td', { class: 'mono' }, d.object || ''),
              h('td', { class: 'mono' }, d.code), h('td', null, d.message + (d.path ? ' (' + d.path + ')' : '') + (d.hint ? ' — ' + d.hint : '')));
          })) : h('div', { class: 'muted' }, 'None: the configuration loaded cleanly.')));
    }
    fill($('v-diagnostics'), out);
  }
  function render() {
    renderHeader();
    renderGateways();
    renderRoutes();
    renderBackends();
    renderDiagnostics();
    if (!explainTouched && model.explainHint && !$('ex-url').value) $('ex-url').value = model.explainHint.url;
  }
  function loadModel() {
    return getJson('/api/model').then(function (r) {
      if (r.status !== 200) return;
      model = r.body;
      render();
      if (!document.body.hasAttribute('data-loaded')) show(); // scroll to #routes:NAME once
      document.body.setAttribute('data-loaded', '1');
    });
  }

  // ------------------------------------------------------------------ navigation
  function show() {
    var hash = decodeURIComponent((location.hash || '#gateways').slice(1));
    var v = hash.split(':')[0], target = hash.slice(v.length + 1);
    if (VIEWS.indexOf(v) < 0) v = 'gateways';
    VIEWS.forEach(function (x) { $('v-' + x).hidden = x !== v; });
    Array.prototype.forEach.call(document.querySelectorAll('nav a'), function (a) { a.className = a.getAttribute('data-view') === v ? 'active' : ''; });
    var el = target && document.getElementById('route-' + target);
    if (el) el.scrollIntoView();
  }

  // ------------------------------------------------------------------ explain
  function explain(ev) {
    ev.preventDefault();
    explainTouched = true;
    $('ex-error').textContent = '';
    $('ex-submit').disabled = true;
    var body = { method: $('ex-method').value, url: $('ex-url').value, headers: $('ex-headers').value };
    getJson('/api/explain', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(function (r) {
      $('ex-submit').disabled = false;
      if (r.status !== 200) { $('ex-error').textContent = r.body.error || ('HTTP ' + r.status); fill($('ex-result')); return; }
      renderExplain(r.body);
    }, function (e) { $('ex-submit').disabled = false; $('ex-error').textContent = String(e); });
  }
  function renderExplain(x) {
    var rows = [];
    function kv(k, v) { if (v !== null && v !== undefined && v !== '') rows.push(h('tr', null, h('td', null, k), h('td', null, v))); }
    kv('request', h('span', { class: 'mono' }, x.request.method + ' ' + x.request.url));
    kv('port', x.port && h('span', { class: 'mono' }, x.port));
    kv('listener', x.listenerId && h('span', { class: 'mono' }, x.listenerId));
    if (x.route !== null) kv('winner', h('b', { id: 'ex-winner' }, x.routeKind + ' ' + x.route + ' rule ' + x.rule + (x.ruleName ? ' (' + x.ruleName + ')' : '') + (x.match !== null ? ' match ' + x.match : '')));
    else kv('no route', h('b', { id: 'ex-winner', class: 'error' }, x.outcome || 'nothing matches'));
    kv('filters', x.filters.length ? x.filters.join('; ') : null);
    kv('backends', x.backends.length ? x.backends.map(function (b) { return h('div', null, h('span', { class: 'mono' }, b.name), ' weight ' + b.weight + ' (' + b.share + '%)', b.invalid ? h('span', { class: 'badge bad' }, '500: ' + b.invalid) : null); }) : null);
    x.notes.forEach(function (n) { kv('note', n); });
    var cands = x.candidates.map(function (c) {
      var win = c.matched && c.reason === null;
      return h('tr', { class: win ? 'winner' : c.matched ? 'lost' : '' },
        h('td', null, win ? '✓ winner' : c.matched ? '~ lost' : '✗'),
        h('td', null, '#' + c.rank),
        h('td', { class: 'mono' }, c.route + ' rule ' + c.rule + ' match ' + c.match),
        h('td', { class: 'mono' }, 'host ' + c.hostname + '  ' + c.path + (c.method ? '  method ' + c.method : '') + (c.headers.length ? '  headers ' + c.headers.join(' ') : '') + (c.queryParams.length ? '  query ' + c.queryParams.join(' ') : '')),
        h('td', null, c.reason || ''));
    });
    fill($('ex-result'),
      h('div', { class: 'card' }, h('h2', null, 'Answer'), h('table', { class: 'summary' }, rows)),
      cands.length ? h('div', { class: 'card' }, h('h2', null, 'Candidates, in precedence order'),
        h('table', { id: 'ex-candidates' }, h('tr', null, ['', 'Rank', 'Rule', 'Matches', 'Why not'].map(function (t) { return h('th', null, t); })), cands)) : null);
  }

  // ------------------------------------------------------------------ reload
  function reload() {
    var btn = $('reload'), out = $('reload-result');
    btn.disabled = true;
    getJson('/reload', { method: 'POST' }).then(function (r) {
      btn.disabled = false;
      var b = r.body || {};
      out.hidden = false;
      out.className = 'banner' + (b.result === 'error' ? ' bad' : '');
      out.setAttribute('data-result', b.result || 'error');
      out.textContent = 'Reload: ' + (b.result || 'failed') + ' — ' + (b.message || b.error || ('HTTP ' + r.status));
      return loadModel();
    }, function (e) { btn.disabled = false; out.hidden = false; out.className = 'banner bad'; out.textContent = 'Reload failed: ' + e; });
  }

  // ------------------------------------------------------------------ live
  function connect() {
    var dot = $('live-dot');
    if (!window.EventSource) { setInterval(function () { getJson('/api/stats').then(function (r) { onStats(r.body); }); }, 1000); return; }
    var es = new EventSource('/api/events'), opened = false;
    es.addEventListener('open', function () {
      dot.className = 'dot on';
      if (opened) loadModel(); // reconnected: the process may have changed meanwhile
      opened = true;
    });
    es.addEventListener('error', function () { dot.className = 'dot'; });
    es.addEventListener('stats', function (e) { onStats(JSON.parse(e.data)); });
    es.addEventListener('model', function () { loadModel(); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    window.addEventListener('hashchange', show);
    show();
    $('explain-form').addEventListener('submit', explain);
    $('reload').addEventListener('click', reload);
    loadModel().then(connect);
  });
})();
