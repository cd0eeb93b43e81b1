// The status bar: connection state, rates, latencies measured here and by the gateway, staleness.
// LIVE means data is flowing: the socket is open, the gateway says ticks arrive (its `gateway`
// row's status), and that row itself keeps coming. Anything else shows STALE with the reason.
const $ = (id) => document.getElementById(id);
const ROW_SILENT_S = 5;  // the gateway row refreshes every GATEWAY_STATS_INTERVAL_MS (0.5 s)

export class StatusBar {
  constructor() {
    this.stats = { state: "connecting", reason: "", newest: 0, pageP50: null, pageP99: null, rate: 0,
                   gatewayP50: null, gatewayP99: null };
    this.connection = "connecting";
    this.message = "";
    this.health = { status: null, reason: "", at: 0 };
    this.samples = [];
    setInterval(() => this.tick(), 250);
  }

  setState(state, message) {
    this.connection = state;
    this.message = message || "";
    if (state !== "live") this.health = { status: null, reason: "", at: 0 };
    this.render();
  }

  // [state, reason] as shown: the connection's own state unless it is open.
  shown() {
    if (this.connection !== "live") return [this.connection, ""];
    const silent = (Date.now() - this.health.at) / 1000;
    if (!this.health.at) return ["stale", "no figures from the gateway yet"];
    if (silent > ROW_SILENT_S) return ["stale", `no word from the gateway for ${Math.round(silent)} s`];
    if (this.health.status && this.health.status !== "live") {
      return ["stale", this.health.reason || this.health.status];
    }
    return ["live", ""];
  }

  render() {
    const [state, reason] = this.shown();
    const label = state === "stale" ? `stale: ${reason}` : state;
    this.stats.state = state;
    this.stats.reason = reason;
    if ($("status").dataset.state !== state) $("status").dataset.state = state;
    if ($("conn").textContent !== label) {
      $("conn").textContent = label;
      $("conn").title = reason;
    }
    const notice = $("notice");
    notice.hidden = !this.message;
    notice.textContent = this.message;
  }

  arrived(eventTimes, now = Date.now()) {
    for (const t of eventTimes) {
      if (t > this.stats.newest) this.stats.newest = t;
      this.samples.push([now, now - t]);
    }
  }

  gateway(row) {
    this.stats.rate = row.ingest_ticks_per_s;
    this.stats.gatewayP50 = row.latency_p50_ms;
    this.stats.gatewayP99 = row.latency_p99_ms;
    this.health = { status: row.status, reason: row.reason, at: Date.now() };
    this.render();
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
    this.render();
  }
}
