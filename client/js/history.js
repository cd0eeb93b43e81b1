// The History panel: one symbol's 1-minute candles and volume over the whole retention, and its raw
// ticks in a time range, from the history service's DuckDB (aggregated there: only the rows shown
// cross the wire). Its own WebSocket to /history on this page's origin (the gateway or nginx
// proxies it), so when history is down the live panels never notice: this panel says why and
// retries with backoff until history is back.
import { connect } from "./connection.js";

const $ = (id) => document.getElementById(id);
const THEME = "Pro Dark";
const RETRY_S = [1, 2, 4, 8, 15, 30];
const COUNT_EVERY_MS = 5000;
const DEFAULT_RANGE_MIN = 15;

const CONFIGS = {
  candles: (symbol) => ({
    table: "history.bars_1m", plugin: "Candlestick", theme: THEME, title: `1-minute candles · ${symbol}`,
    group_by: ["minute"], columns: ["open", "close", "high", "low"], filter: [["symbol", "==", symbol]],
  }),
  volume: (symbol) => ({
    table: "history.bars_1m", plugin: "Y Bar", theme: THEME, title: `Volume per minute · ${symbol}`,
    group_by: ["minute"], columns: ["volume"], filter: [["symbol", "==", symbol]],
  }),
  ticks: (symbol, from, to) => ({
    table: "history.ticks", plugin: "Datagrid", theme: THEME, title: `Stored ticks · ${symbol}`,
    columns: ["event_time", "price", "bid", "ask", "bid_size", "ask_size", "volume", "producer_id", "seq"],
    filter: [["symbol", "==", symbol], ["event_time", ">=", from], ["event_time", "<=", to]],
    sort: [["event_time", "desc"]],
  }),
};

// datetime-local inputs hold local wall time without a zone; Perspective filters take epoch ms.
const toInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const fromInput = (value) => new Date(value).getTime();

export class HistoryPanel {
  constructor(wasm, getToken) {
    this.wasm = wasm;
    this.getToken = getToken;
    this.state = { status: "closed", symbol: null, stored: null, error: "", connects: 0, range: null };
    this.connection = null;
    this.attempt = 0;
    this.retry = null;
    this.counter = null;
    this.panel = $("history");
    $("history-close").onclick = () => this.close();
    $("history-range").onsubmit = (event) => { event.preventDefault(); this.applyRange(); };
  }

  async open(symbol) {
    if (!symbol) return;
    this.state.symbol = symbol;
    this.panel.hidden = false;
    $("history-symbol").textContent = symbol;
    const now = Date.now();
    this.setRange(now - DEFAULT_RANGE_MIN * 60000, now);
    if (this.connection) await this.show();
    else if (!this.retry && this.state.status !== "connecting") await this.start();
  }

  close() {
    this.panel.hidden = true;
    clearTimeout(this.retry);
    clearInterval(this.counter);
    this.retry = this.counter = null;
    this.connection?.socket.close();
    this.connection = null;
    this.setStatus("closed");
  }

  setRange(from, to) {
    this.state.range = [from, to];
    $("history-from").value = toInput(from);
    $("history-to").value = toInput(to);
  }

  async applyRange() {
    const from = fromInput($("history-from").value);
    const to = fromInput($("history-to").value);
    if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
      this.setStatus(this.state.status, "the time range needs a start before its end");
      return;
    }
    this.state.range = [from, to];
    if (this.connection) await this.viewer("ticks").restore(CONFIGS.ticks(this.state.symbol, from, to));
  }

  setStatus(status, error = "") {
    this.state.status = status;
    this.state.error = error;
    const line = $("history-status");
    line.dataset.state = status;
    line.textContent = error ? `${status === "unavailable" ? "history unavailable" : status}: ${error}` : status;
  }

  async start() {
    this.setStatus("connecting");
    try {
      const onClose = (event) => this.lost(event.reason || `connection closed (${event.code})`);
      this.connection = await connect(this.wasm, this.getToken, onClose, "/history", "history");
      this.attempt = 0;
      this.state.connects += 1;
      await this.show();
    } catch (error) {
      this.lost(error?.message ?? String(error));
    }
  }

  // A viewer bound to a dead client keeps waiting on it: each connection gets fresh elements.
  viewer(name) {
    return this.panel.querySelector(`perspective-viewer[data-name="${name}"]`);
  }

  freshViewers() {
    for (const old of this.panel.querySelectorAll("perspective-viewer")) {
      const viewer = document.createElement("perspective-viewer");
      viewer.dataset.name = old.dataset.name;
      old.replaceWith(viewer);
      old.delete?.().catch?.(() => {});
    }
  }

  async show() {
    const { client } = this.connection;
    const [from, to] = this.state.range;
    const symbol = this.state.symbol;
    this.freshViewers();
    await Promise.all(["candles", "volume", "ticks"].map(async (name) => {
      const viewer = this.viewer(name);
      await viewer.load(client);
      await viewer.restore(name === "ticks" ? CONFIGS.ticks(symbol, from, to) : CONFIGS[name](symbol));
    }));
    this.setStatus("live");
    await this.count();
    clearInterval(this.counter);
    this.counter = setInterval(() => this.count().catch(() => {}), COUNT_EVERY_MS);
  }

  async count() {
    if (!this.connection) return;
    const table = await this.connection.client.open_table("history.ticks");
    this.state.stored = await table.size();
    $("history-stored").textContent = this.state.stored.toLocaleString("en-US");
  }

  lost(reason) {
    if (this.panel.hidden || this.retry) return;
    this.connection = null;
    clearInterval(this.counter);
    const wait = RETRY_S[Math.min(this.attempt, RETRY_S.length - 1)];
    this.attempt += 1;
    this.setStatus("unavailable", `${reason}; retrying in ${wait} s`);
    this.retry = setTimeout(() => { this.retry = null; this.start(); }, wait * 1000);
  }
}
