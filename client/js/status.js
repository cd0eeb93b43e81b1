// The status bar: connection state, rates, latencies measured here and by the gateway, staleness.
const $ = (id) => document.getElementById(id);

export class StatusBar {
  constructor() {
    this.stats = { state: "connecting", newest: 0, pageP50: null, pageP99: null, rate: 0, gatewayP50: null, gatewayP99: null };
    this.samples = [];
    setInterval(() => this.tick(), 250);
  }

  setState(state, message) {
    this.stats.state = state;
    $("status").dataset.state = state;
    $("conn").textContent = state;
    const notice = $("notice");
    notice.hidden = !message;
    notice.textContent = message || "";
  }

  arrived(eventTimes) {
    const now = Date.now();
    for (const t of eventTimes) {
      if (t > this.stats.newest) this.stats.newest = t;
      this.samples.push([now, now - t]);
    }
  }

  gateway(row) {
    this.stats.rate = row.ingest_ticks_per_s;
    this.stats.gatewayP50 = row.latency_p50_ms;
    this.stats.gatewayP99 = row.latency_p99_ms;
  }

  tick() {
    const now = Date.now();
    this.samples = this.samples.filter(([at]) => now - at < 5000).slice(-5000);
    const sorted = this.samples.map(([, v]) => v).sort((a, b) => a - b);
    const pct = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
    this.stats.pageP50 = pct(0.5);
    this.stats.pageP99 = pct(0.99);
    const ms = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} ms`);
    $("rate").textContent = Math.round(this.stats.rate || 0).toLocaleString();
    $("page-latency").textContent = `${ms(this.stats.pageP50)} / ${ms(this.stats.pageP99)}`;
    $("gw-latency").textContent = `${ms(this.stats.gatewayP50)} / ${ms(this.stats.gatewayP99)}`;
    const age = this.stats.newest ? (now - this.stats.newest) / 1000 : null;
    const staleness = $("staleness");
    staleness.textContent = age === null ? "–" : `${age.toFixed(1)} s ago`;
    staleness.dataset.level = age === null || age > 10 ? "red" : age > 2 ? "amber" : "ok";
  }
}
