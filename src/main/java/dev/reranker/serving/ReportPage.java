package dev.reranker.serving;

/**
 * The experiment report as one self-contained HTML page: it fetches the JSON report (over every
 * instance) and leads with the verdict — which arm leads on the primary metric, by how much, its
 * interval, whether that is significant at a fixed horizon and sequentially, the sample-ratio
 * check and the guardrails — then quality and cost side by side, the primary metric over time
 * with its intervals, and the latency distributions, drawn with inline SVG and no outside
 * scripts. Numbers are shown to three significant figures (an interval's width at this traffic
 * rarely supports more). When drawing is done it sets {@code data-rendered} on the body (the
 * browser test waits for it).
 */
final class ReportPage {
  private ReportPage() {}

  static String html(String experimentId) {
    return TEMPLATE.replace("__EXPERIMENT__", experimentId);
  }

  private static final String TEMPLATE = """
      <!doctype html>
      <html lang="en"><head><meta charset="utf-8">
      <title>Experiment __EXPERIMENT__</title>
      <style>
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1000px; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .chart { margin: 1em 0; }
        .legend span { margin-right: 1.5em; }
        #verdict { border: 2px solid #444; padding: 0.8em 1.2em; border-radius: 6px; }
        #verdict .headline { font-size: 1.4em; font-weight: 600; }
        .alarm { background: #fde2e2; border: 2px solid #c00; color: #900; padding: 0.5em 1em;
                 margin: 0.5em 0; font-weight: 600; }
        .ok { color: #176117; }
        .small { color: #666; font-size: 0.9em; }
      </style></head>
      <body data-rendered="false">
      <h1>Experiment <code>__EXPERIMENT__</code></h1>
      <p id="status">loading…</p>
      <div id="alarms"></div>
      <div id="verdict"></div>
      <h2>Quality per arm (user-level, 95% intervals)</h2><div id="arms"></div>
      <h2>Performer − softmax</h2><div id="comparison"></div>
      <div id="interleaving-section" hidden><h2>Interleaving</h2><div id="interleaving"></div></div>
      <h2>Cost per arm</h2><div id="cost"></div>
      <h2>Power</h2><div id="power"></div>
      <h2>Primary metric over time (95% intervals)</h2><div id="series" class="chart"></div>
      <h2>Latency distribution (ms)</h2><div id="latency" class="chart"></div>
      <h2>Shadow agreement (this instance)</h2><div id="shadow"></div>
      <p class="small" id="analysis"></p>
      <script>
      const COLORS = { performer: '#1f77b4', softmax: '#d62728', fallback: '#7f7f7f' };
      const SVG = 'http://www.w3.org/2000/svg';
      function el(tag, attrs, parent) {
        const e = document.createElementNS(SVG, tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        if (parent) parent.appendChild(e);
        return e;
      }
      function fmt(x) {
        if (typeof x !== 'number') return x === null || x === undefined ? '–' : String(x);
        if (x === 0) return '0';
        return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en') : Number(x.toPrecision(3)).toString();
      }
      function pv(p) { return typeof p !== 'number' ? '–' : p < 0.001 ? '< 0.001' : fmt(p); }
      function iv(c) { return c ? '[' + fmt(c[0]) + ', ' + fmt(c[1]) + ']' : '–'; }
      function ci(m) { return m ? fmt(m.value) + ' ' + iv(m.ci95) : '–'; }
      function table(rows, head) {
        let h = '<table><tr>' + head.map(x => '<th>' + x + '</th>').join('') + '</tr>';
        for (const r of rows) h += '<tr>' + r.map(x => '<td>' + x + '</td>').join('') + '</tr>';
        return h + '</table>';
      }
      function seriesChart(series, arms) {
        const w = 720, h = 280, pad = 48;
        const svg = el('svg', { width: w, height: h, id: 'series-svg', role: 'img' });
        el('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#999' }, svg);
        el('line', { x1: pad, y1: pad, x2: pad, y2: h - pad, stroke: '#999' }, svg);
        const shown = series.filter(p => arms.some(a => p[a] && p[a].ci95));
        const t0 = shown.length ? shown[0].bucket_start : 0;
        const t1 = shown.length ? shown[shown.length - 1].bucket_start : 1;
        const vals = series.flatMap(p => arms.filter(a => p[a] && p[a].ci95).flatMap(a => p[a].ci95));
        const lo = Math.max(0, Math.min(...vals, 1) - 0.02), hi = Math.min(1, Math.max(...vals, 0) + 0.02);
        const x = t => pad + (w - 2 * pad) * (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0));
        const y = v => h - pad - (h - 2 * pad) * (hi === lo ? 0.5 : (v - lo) / (hi - lo));
        for (const name of arms) {
          const pts = series.filter(p => p[name] && p[name].ci95);
          if (!pts.length) continue;
          const band = pts.map(p => x(p.bucket_start) + ',' + y(p[name].ci95[1])).join(' ') + ' '
              + pts.slice().reverse().map(p => x(p.bucket_start) + ',' + y(p[name].ci95[0])).join(' ');
          el('polygon', { points: band, fill: COLORS[name], opacity: 0.15, class: 'band' }, svg);
          el('polyline', { points: pts.map(p => x(p.bucket_start) + ',' + y(p[name].value)).join(' '),
              fill: 'none', stroke: COLORS[name], 'stroke-width': 2, class: 'line',
              'data-arm': name }, svg);
          for (const p of pts) el('circle', { cx: x(p.bucket_start), cy: y(p[name].value), r: 3,
              fill: COLORS[name] }, svg);
        }
        // ticks at round values: a step of 1, 2 or 5 × 10^n giving 3 to 6 ticks
        const raw = (hi - lo) / 4, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
        const step = [1, 2, 5, 10].map(f => f * mag).find(s => s >= raw) || raw;
        for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) {
          const r = Number(v.toFixed(10));
          el('line', { x1: pad - 4, y1: y(r), x2: pad, y2: y(r), stroke: '#999' }, svg);
          const t = el('text', { x: 4, y: y(r) + 4, 'font-size': 10, class: 'tick' }, svg);
          t.textContent = String(r);
        }
        const tx = el('text', { x: pad, y: h - 12, 'font-size': 11 }, svg);
        tx.textContent = shown.length ? new Date(t0).toISOString().slice(0, 16) + ' → '
            + new Date(t1).toISOString().slice(0, 16) + ' UTC (cumulative, as of each bucket)' : 'no points yet';
        return svg;
      }
      function latencyChart(arms, names) {
        const labels = names.length ? arms[names[0]].cost.latency_histogram_ms.upper_edges_ms : [];
        const w = 720, h = 240, pad = 40;
        const svg = el('svg', { width: w, height: h, id: 'latency-svg', role: 'img' });
        const maxC = Math.max(1, ...names.flatMap(n => arms[n].cost.latency_histogram_ms.counts));
        const groupW = (w - 2 * pad) / Math.max(1, labels.length);
        const barW = groupW / Math.max(1, names.length) - 2;
        labels.forEach((lab, i) => {
          names.forEach((n, j) => {
            const c = arms[n].cost.latency_histogram_ms.counts[i];
            const bh = (h - 2 * pad) * c / maxC;
            el('rect', { x: pad + i * groupW + j * (barW + 2), y: h - pad - bh, width: barW,
                height: bh, fill: COLORS[n], class: 'bar', 'data-arm': n }, svg);
          });
          const t = el('text', { x: pad + i * groupW, y: h - pad + 14, 'font-size': 9 }, svg);
          t.textContent = '≤' + lab;
        });
        return svg;
      }
      function verdict(rep) {
        const v = rep.verdict;
        let h = '<div class="headline" id="headline">' + v.summary + '</div>';
        if (v.leader !== undefined && v.difference !== undefined) {
          h += '<p>' + (v.leader ? v.leader + '’s ' + v.primary_metric + ' is higher by '
              + fmt(Math.abs(v.difference)) : 'No difference in ' + v.primary_metric)
            + ' (the absolute difference, performer − softmax: ' + fmt(v.difference)
            + ') — 95% CI ' + iv(v.ci95_fixed_horizon) + ' (fixed horizon: '
            + (v.significant_fixed_horizon ? 'significant' : 'not significant') + '), '
            + 'always-valid 95% confidence sequence ' + iv(v.confidence_sequence95) + ' (sequential: '
            + (v.significant_sequential ? 'significant' : 'not significant') + ').</p>';
        }
        h += '<p>Sample ratio: ' + (v.sample_ratio_ok ? '<span class="ok" id="srm-ok">ok</span>'
            : '<b>MISMATCH</b>') + ' (χ² p = ' + pv(rep.sample_ratio.p_value) + ') · Guardrails: '
            + (v.guardrail_breach ? '<b>breached</b>' : '<span class="ok">ok</span>')
            + ' · Coverage: ' + (rep.coverage && !rep.coverage.complete ? '<b>incomplete</b>'
            : 'all partitions') + '</p>';
        return h;
      }
      function alarms(rep) {
        const out = [];
        if (rep.sample_ratio.mismatch) out.push('<div class="alarm" id="srm-alarm">Sample ratio mismatch: '
            + 'users per arm do not match the configured weights (χ² p = ' + pv(rep.sample_ratio.p_value)
            + ' < ' + rep.sample_ratio.alarm_below_p + '). Assignment or logging is broken; no result can be trusted.</div>');
        for (const [n, a] of Object.entries(rep.arms)) if (a.guardrails.breach) out.push(
            '<div class="alarm guardrail">Guardrail breached by ' + n + ': ' + a.guardrails.breaches.join(', ') + '</div>');
        if (rep.coverage && !rep.coverage.complete) out.push('<div class="alarm" id="coverage-alarm">'
            + 'Partitions ' + rep.coverage.missing_partitions.join(', ') + ' did not answer: their users are missing.</div>');
        return out.join('');
      }
      fetch('/v1/experiments/__EXPERIMENT__/report').then(r => {
        if (!r.ok) return r.json().then(p => { throw new Error('report: HTTP ' + r.status + ': ' + (p.detail || '')); });
        return r.json();
      }).then(rep => {
        const arms = rep.arms, names = Object.keys(arms);
        document.getElementById('alarms').innerHTML = alarms(rep);
        document.getElementById('verdict').innerHTML = verdict(rep);
        document.getElementById('arms').innerHTML = table(names.map(n => { const a = arms[n]; return [
            n, fmt(a.users), fmt(a.exposures), fmt(a.resolved), ci(a.hr_at_k), ci(a.ndcg_at_k), ci(a.mrr)]; }),
            ['arm', 'users', 'exposures', 'resolved', 'HR@' + rep.k, 'NDCG@' + rep.k, 'MRR']);
        const c = rep.comparison;
        document.getElementById('comparison').innerHTML = c.note ? '<p>' + c.note + '</p>'
            : table(['hr_at_k', 'ndcg_at_k', 'mrr'].map(m => [m, fmt(c[m].difference),
                iv(c[m].fixed_horizon.ci95), pv(c[m].fixed_horizon.p_value),
                iv(c[m].sequential.confidence_sequence95), pv(c[m].sequential.p_value),
                fmt(c[m].mde_at_80pct_power)]),
                ['metric', 'difference', '95% CI (fixed horizon)', 'p (fixed)',
                 '95% confidence sequence', 'p (sequential)', 'MDE @ 80%']);
        document.getElementById('cost').innerHTML = table(names.map(n => { const a = arms[n]; return [
            n, fmt(a.cost.latency_ms_p50), fmt(a.cost.latency_ms_p99), fmt(a.cost.cpu_us_per_request),
            fmt(a.cost.fold_us_per_event), fmt(a.cost.mean_state_bytes),
            fmt(a.guardrails.degraded_rate), fmt(a.guardrails.cold_start_rate),
            a.guardrails.breach ? 'breach' : 'ok']; }),
            ['arm', 'p50 ms', 'p99 ms', 'CPU µs / request', 'fold µs / event', 'state bytes',
             'degraded rate', 'cold-start rate', 'guardrails']);
        const il = rep.interleaving;
        if (il) {
          document.getElementById('interleaving-section').hidden = false;
          document.getElementById('interleaving').innerHTML = '<p>' + il.summary + '</p>' + table([[
              fmt(il.users), fmt(il.prefer_performer), fmt(il.prefer_softmax), fmt(il.ties),
              fmt(il.delta), iv(il.performer_share_ci95), pv(il.sign_test_p)]],
              ['users', 'prefer performer', 'prefer softmax', 'ties', 'Δ', 'performer share 95% CI',
               'sign test p']) + '<p class="small">' + il.method + '</p>';
        }
        const pw = rep.power;
        document.getElementById('power').innerHTML = pw ? '<p id="power-line">'
            + (pw.more_users_needed === 0
              ? 'With ' + fmt(pw.users_so_far) + ' users the experiment can already detect a '
                + pw.metric + ' difference of ' + fmt(pw.target_mde) + ' (the target).'
              : 'To detect a ' + pw.metric + ' difference of ' + fmt(pw.target_mde)
                + ' you need about ' + fmt(pw.more_users_needed) + ' more users'
                + (pw.days_left_at_least === null ? ' (under an hour of traffic so far: no daily rate yet).'
                : '; at today’s rate (' + fmt(pw.users_per_day) + ' new users a day) that is at least '
                  + fmt(pw.days_left_at_least) + ' days.'))
            + ' <span class="small">Today the smallest difference detectable with 80% power is '
            + fmt(pw.mde_at_80pct_power) + '.</span></p>'
            : '<p>Not enough users yet: each arm needs at least two users with a resolved exposure.</p>';
        const legend = '<p class="legend">' + names.map(n =>
            '<span style="color:' + COLORS[n] + '">■ ' + n + '</span>').join('') + '</p>';
        const ser = document.getElementById('series');
        ser.innerHTML = legend; ser.appendChild(seriesChart(rep.series, names));
        const lat = document.getElementById('latency');
        lat.innerHTML = legend; lat.appendChild(latencyChart(arms, names));
        const s = rep.shadow_agreement;
        document.getElementById('shadow').innerHTML = s ? table([[s.requests,
            fmt(s.mean_overlap_at_k), fmt(s.mean_kendall_tau), fmt(s.served_ms_p50), fmt(s.shadow_ms_p50)]],
            ['requests', 'overlap@k', 'Kendall τ', 'served p50 ms', 'shadow p50 ms'])
            : '<p>not in shadow mode</p>';
        document.getElementById('analysis').textContent = rep.analysis;
        document.getElementById('status').hidden = true; // the page itself says it loaded
        document.body.dataset.rendered = 'true';
      }).catch(e => {
        document.getElementById('status').textContent = 'error: ' + e.message;
        document.body.dataset.rendered = 'error';
      });
      </script>
      </body></html>
      """;
}
