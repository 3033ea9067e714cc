package dev.reranker.serving;

/**
 * The experiment report as one self-contained HTML page: it fetches the JSON report and draws, with
 * inline SVG and no outside scripts, the per-arm HR@k with its 95% band over time and the latency
 * distributions, plus the tables. When drawing is done it sets {@code data-rendered} on the body
 * (the browser test waits for it).
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
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .chart { margin: 1em 0; }
        .legend span { margin-right: 1.5em; }
      </style></head>
      <body data-rendered="false">
      <h1>Experiment <code>__EXPERIMENT__</code></h1>
      <p id="status">loading…</p>
      <h2>Arms</h2><div id="arms"></div>
      <h2>Performer − softmax</h2><div id="comparison"></div>
      <h2>HR@k over time (95% interval)</h2><div id="hr" class="chart"></div>
      <h2>Latency distribution (ms)</h2><div id="latency" class="chart"></div>
      <h2>Shadow agreement</h2><div id="shadow"></div>
      <script>
      const COLORS = { performer: '#1f77b4', softmax: '#d62728', fallback: '#7f7f7f' };
      const SVG = 'http://www.w3.org/2000/svg';
      function el(tag, attrs, parent) {
        const e = document.createElementNS(SVG, tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        if (parent) parent.appendChild(e);
        return e;
      }
      function fmt(x) { return typeof x === 'number' ? x.toFixed(4) : String(x); }
      function ci(m) { return m ? fmt(m.value) + ' [' + fmt(m.ci95[0]) + ', ' + fmt(m.ci95[1]) + ']' : '–'; }
      function table(rows, head) {
        let h = '<table><tr>' + head.map(x => '<th>' + x + '</th>').join('') + '</tr>';
        for (const r of rows) h += '<tr>' + r.map(x => '<td>' + x + '</td>').join('') + '</tr>';
        return h + '</table>';
      }
      function hrChart(arms) {
        const w = 640, h = 260, pad = 40;
        const svg = el('svg', { width: w, height: h, id: 'hr-svg', role: 'img' });
        el('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#999' }, svg);
        el('line', { x1: pad, y1: pad, x2: pad, y2: h - pad, stroke: '#999' }, svg);
        const maxN = Math.max(1, ...Object.values(arms).flatMap(a => a.hr_over_time.map(p => p.n)));
        const x = n => pad + (w - 2 * pad) * n / maxN;
        const y = v => h - pad - (h - 2 * pad) * v;
        for (const [name, a] of Object.entries(arms)) {
          const pts = a.hr_over_time;
          if (!pts.length) continue;
          const band = pts.map(p => x(p.n) + ',' + y(p.ci95[1])).join(' ') + ' '
              + pts.slice().reverse().map(p => x(p.n) + ',' + y(p.ci95[0])).join(' ');
          el('polygon', { points: band, fill: COLORS[name], opacity: 0.15, class: 'band' }, svg);
          el('polyline', { points: pts.map(p => x(p.n) + ',' + y(p.value)).join(' '),
              fill: 'none', stroke: COLORS[name], 'stroke-width': 2, class: 'line',
              'data-arm': name }, svg);
        }
        for (const v of [0, 0.25, 0.5, 0.75, 1]) {
          const t = el('text', { x: 4, y: y(v) + 4, 'font-size': 10 }, svg); t.textContent = v;
        }
        const t = el('text', { x: w / 2, y: h - 8, 'font-size': 11 }, svg);
        t.textContent = 'resolved exposures';
        return svg;
      }
      function latencyChart(arms) {
        const names = Object.keys(arms);
        const labels = names.length ? arms[names[0]].latency_ms.histogram.upper_edges_ms : [];
        const w = 640, h = 240, pad = 40;
        const svg = el('svg', { width: w, height: h, id: 'latency-svg', role: 'img' });
        const maxC = Math.max(1, ...names.flatMap(n => arms[n].latency_ms.histogram.counts));
        const groupW = (w - 2 * pad) / Math.max(1, labels.length);
        const barW = groupW / Math.max(1, names.length) - 2;
        labels.forEach((lab, i) => {
          names.forEach((n, j) => {
            const c = arms[n].latency_ms.histogram.counts[i];
            const bh = (h - 2 * pad) * c / maxC;
            el('rect', { x: pad + i * groupW + j * (barW + 2), y: h - pad - bh, width: barW,
                height: bh, fill: COLORS[n], class: 'bar', 'data-arm': n }, svg);
          });
          const t = el('text', { x: pad + i * groupW, y: h - pad + 14, 'font-size': 9 }, svg);
          t.textContent = '≤' + lab;
        });
        return svg;
      }
      fetch('/v1/experiments/__EXPERIMENT__/report').then(r => {
        if (!r.ok) throw new Error('report: HTTP ' + r.status);
        return r.json();
      }).then(rep => {
        const arms = rep.arms;
        document.getElementById('arms').innerHTML = table(Object.entries(arms).map(([n, a]) => [
            n, a.exposures, a.outcomes, ci(a.hr_at_k), ci(a.ndcg_at_k), ci(a.mrr),
            a.latency_ms.p50, a.latency_ms.p95, a.latency_ms.p99, a.mean_state_bytes, a.degraded]),
            ['arm', 'exposures', 'outcomes', 'HR@' + rep.k, 'NDCG@' + rep.k, 'MRR',
             'p50 ms', 'p95 ms', 'p99 ms', 'state bytes', 'degraded']);
        const c = rep.comparison;
        document.getElementById('comparison').innerHTML = c.note ? '<p>' + c.note + '</p>'
            : table(['hr_at_k', 'ndcg_at_k', 'mrr'].map(m => [m, fmt(c[m].difference),
                '[' + fmt(c[m].ci95[0]) + ', ' + fmt(c[m].ci95[1]) + ']', fmt(c[m].p_value),
                c[m].test]), ['metric', 'difference', '95% CI', 'p', 'test']);
        const legend = '<p class="legend">' + Object.keys(arms).map(n =>
            '<span style="color:' + COLORS[n] + '">■ ' + n + '</span>').join('') + '</p>';
        const hr = document.getElementById('hr');
        hr.innerHTML = legend; hr.appendChild(hrChart(arms));
        const lat = document.getElementById('latency');
        lat.innerHTML = legend; lat.appendChild(latencyChart(arms));
        const s = rep.shadow_agreement;
        document.getElementById('shadow').innerHTML = s ? table([[s.requests,
            fmt(s.mean_overlap_at_k), fmt(s.mean_kendall_tau), s.served_ms_p50, s.shadow_ms_p50]],
            ['requests', 'overlap@k', 'Kendall τ', 'served p50 ms', 'shadow p50 ms'])
            : '<p>not in shadow mode</p>';
        document.getElementById('status').textContent = 'rendered';
        document.body.dataset.rendered = 'true';
      }).catch(e => {
        document.getElementById('status').textContent = 'error: ' + e.message;
        document.body.dataset.rendered = 'error';
      });
      </script>
      </body></html>
      """;
}
