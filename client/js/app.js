// Tickerflow dashboard: binds every <perspective-viewer> to the gateway's tables and keeps them bound.
import { ready } from "/vendor/perspective-anywidget.js";
import { Refused, connect, tokenFromFragment } from "./connection.js";
import { defaults, forgetAll, save, saved, titled, withPriceFormat } from "./layouts.js";
import { HistoryPanel } from "./history.js";
import { StatusBar } from "./status.js";
import { Arrivals } from "./arrivals.js";

let viewers = [...document.querySelectorAll("main perspective-viewer")];
const byName = Object.fromEntries(viewers.map((v) => [v.dataset.name, v]));
const configs = {};  // the live configuration of each viewer, carried across reconnects
const status = new StatusBar();
const arrivals = new Arrivals(status);
let historyPanel = null;  // the History panel (history.js), made once the viewer's wasm is ready
// `connects` counts the connections made, so a reconnect can be seen from outside (tests, devtools).
const state = { selected: localStorage.getItem("tickerflow.selected"), attempt: 0, connects: 0, connection: null, views: [] };
window.tickerflow = { state, stats: status.stats, viewers: byName, configs, arrivals };

// The secret comes from the URL fragment (#token=...) or from the form; a refused one is asked for again.
let typedToken = null;
let fragmentRefused = false;
function askToken() {
  const fromUrl = fragmentRefused ? null : tokenFromFragment();
  if (fromUrl) return Promise.resolve(fromUrl);
  if (typedToken) return Promise.resolve(typedToken);
  status.setState("refused", state.refusal ??
    "This gateway requires a token: open the page with #token=<secret> or enter it below.");
  return new Promise((resolve) => {
    const form = document.getElementById("login");
    const input = document.getElementById("token");
    form.hidden = false;
    input.focus();
    form.onsubmit = (event) => {
      event.preventDefault();
      if (!input.value) return;
      form.hidden = true;
      typedToken = input.value;
      input.value = "";
      status.setState("connecting");
      resolve(typedToken);
    };
  });
}

function configFor(name) {
  return withPriceFormat(name, configs[name] ?? saved(name) ?? defaults(state.selected)[name]);
}

// A viewer that was bound to a dead client keeps waiting on it: a fresh element is simpler and sure.
function freshViewers() {
  viewers = viewers.map((old) => {
    const viewer = document.createElement("perspective-viewer");
    Object.assign(viewer.dataset, old.dataset);
    old.replaceWith(viewer);
    old.delete?.().catch?.(() => {});
    byName[viewer.dataset.name] = viewer;
    listen(viewer);
    return viewer;
  });
}

function listen(viewer) {
  viewer.addEventListener("perspective-config-update", async () => {
    if (!state.connection) return;
    const config = await viewer.save();
    configs[viewer.dataset.name] = config;
    save(viewer.dataset.name, config);
  });
  if (viewer.dataset.name === "quotes") {
    viewer.addEventListener("perspective-click", (event) => {
      const { row, config, column_names: clicked = [] } = event.detail ?? {};
      const symbol = row?.symbol ?? config?.filter?.find(([column]) => column === "symbol")?.[2];
      select(symbol);
      if (clicked.includes("symbol")) historyPanel?.open(symbol);  // the symbol itself: its history
    });
  }
}

async function bind(client) {
  if (state.bound) freshViewers();
  state.bound = true;
  await Promise.all(viewers.map(async (viewer) => {
    await viewer.load(client);
    await viewer.restore({ ...configFor(viewer.dataset.name), table: viewer.dataset.table });
  }));
  await watch(client);
}

// A view on `ticks` feeds the page's own latency figure (arrivals.js); one on `gateway` the server's figures.
async function watch(client) {
  const recent = await arrivals.start(client);
  const gateway = await client.open_table("gateway");
  const stats = await gateway.view();
  const refresh = async () => {
    const [row] = await stats.to_json();
    if (row) status.gateway(row);
  };
  await refresh();
  await stats.on_update(refresh);
  state.views = [recent, stats];
}

async function select(symbol) {
  if (!symbol || symbol === state.selected) return;
  state.selected = symbol;
  localStorage.setItem("tickerflow.selected", symbol);
  document.getElementById("selected").textContent = symbol;
  for (const name of ["chart", "bars"]) {
    await byName[name].restore({ filter: [["symbol", "==", symbol]], title: titled(name, symbol) });
    configs[name] = await byName[name].save();
  }
}

async function firstSymbol(client) {
  const quotes = await client.open_table("quotes");
  const view = await quotes.view({ columns: ["symbol"], sort: [["symbol", "asc"]] });
  const { symbol = [] } = await view.to_columns({ start_row: 0, end_row: 1 });
  await view.delete();
  return symbol[0];
}

async function start() {
  try {
    status.setState(state.attempt ? "reconnecting" : "connecting");
    const connection = await connect(state.wasm, askToken, () => lost());
    state.connection = connection;
    state.attempt = 0;
    state.refusal = null;
    // Pick a symbol before binding: an unfiltered price chart of every tick is tens of megabytes.
    if (!state.selected) state.selected = await firstSymbol(connection.client);
    await bind(connection.client);
    document.getElementById("selected").textContent = state.selected ?? "–";
    state.connects += 1;
    status.setState("live");
  } catch (error) {
    if (error instanceof Refused) {
      if (typedToken) typedToken = null;
      else fragmentRefused = true;
      state.refusal = `Access refused: ${error.message}. Enter the right token below.`;
      setTimeout(start, 0);  // shows the refusal and the form, and waits for a new token
      return;
    }
    console.warn("gateway connection failed:", error?.message ?? error);
    lost();
  }
}

function lost() {
  if (state.retry) return;
  state.connection = null;
  state.attempt += 1;
  const delay = Math.min(250 * 2 ** (state.attempt - 1), 5000) * (0.8 + Math.random() * 0.4);
  status.setState(state.attempt > 8 ? "offline" : "reconnecting");
  state.retry = setTimeout(() => { state.retry = null; start(); }, delay);
}

async function main() {
  await ready;
  state.wasm = customElements.get("perspective-viewer").__wasm_module__;
  viewers.forEach(listen);
  historyPanel = new HistoryPanel(state.wasm, askToken);
  window.tickerflow.history = historyPanel.state;
  document.getElementById("open-history").onclick = () => historyPanel.open(state.selected);
  document.getElementById("reset").onclick = async () => {
    forgetAll();
    for (const name of Object.keys(configs)) delete configs[name];
    for (const viewer of viewers) {
      const name = viewer.dataset.name;
      await viewer.restore({ ...withPriceFormat(name, defaults(state.selected)[name]), table: viewer.dataset.table });
    }
  };
  window.addEventListener("offline", () => status.setState("offline"));
  await start();
}

main();
