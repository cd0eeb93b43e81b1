// Default viewer configurations, and their persistence in localStorage.
const KEY = (name) => `tickerflow.layout.${name}`;
const THEME = "Pro Dark";
const UP = "#2ecc71";
const DOWN = "#ff5c5c";

// Prices carry up to 4 decimals (producer/market.py): axis labels of a stock near $6.20 must read
// 6.195 / 6.20 / 6.205, not the chart's default compact "6.2, 6.2, 6.2".
const PRICE = { number_format: { notation: "standard", minimumFractionDigits: 2, maximumFractionDigits: 4 } };
const PRICE_COLUMNS = { chart: ["price"], bars: ["open", "close", "high", "low"] };

const TITLES = { quotes: "Quote board", chart: "Price", bars: "1-second bars", blotter: "Trade blotter · newest first",
                 producers: "Producer roster" };

export function titled(name, symbol) {
  return symbol && (name === "chart" || name === "bars") ? `${TITLES[name]} · ${symbol}` : TITLES[name];
}

export function defaults(symbol) {
  const only = symbol ? [["symbol", "==", symbol]] : [];
  return {
    quotes: {
      title: titled("quotes", symbol), plugin: "Datagrid", theme: THEME, sort: [["symbol", "asc"]],
      columns: ["symbol", "name", "price", "change", "change_pct", "bid", "ask", "bid_size", "ask_size",
                "open", "high", "low", "volume", "ticks", "sector", "exchange"],
      columns_config: {
        change: { number_fg_mode: "color", fixed: 2, pos_fg_color: UP, neg_fg_color: DOWN },
        change_pct: { number_fg_mode: "color", fixed: 2, pos_fg_color: UP, neg_fg_color: DOWN },
        price: { fixed: 2 }, bid: { fixed: 2 }, ask: { fixed: 2 },
        open: { fixed: 2 }, high: { fixed: 2 }, low: { fixed: 2 },
      },
    },
    chart: {
      title: titled("chart", symbol), plugin: "X/Y Line", theme: THEME, columns: ["event_time", "price"], split_by: ["symbol"],
      filter: only, sort: [["event_time", "asc"]],
    },
    bars: {
      title: titled("bars", symbol), plugin: "Candlestick", theme: THEME, group_by: ["bucket"], columns: ["open", "close", "high", "low"],
      filter: only, sort: [["bucket", "asc"]],
    },
    blotter: {
      title: titled("blotter", symbol), plugin: "Datagrid", theme: THEME, sort: [["event_time", "desc"]],
      columns: ["event_time", "symbol", "price", "bid", "ask", "bid_size", "ask_size", "volume", "producer_id", "seq"],
    },
    producers: {
      // status is 'live' or 'stale' (no tick for GATEWAY_PRODUCER_STALE_S): live producers first.
      title: titled("producers", symbol), plugin: "Datagrid", theme: THEME,
      sort: [["status", "asc"], ["producer_id", "asc"]],
      columns: ["producer_id", "status", "owned_symbols", "rebalances", "ticks", "ticks_per_s", "last_seq", "gaps",
                "duplicates", "out_of_order", "last_seen"],
    },
  };
}

// Layouts saved before prices had a format get it too; a format the user chose is kept.
export function withPriceFormat(name, config) {
  const columns = PRICE_COLUMNS[name];
  if (!columns || !config) return config;
  const columns_config = { ...(config.columns_config ?? {}) };
  for (const column of columns) columns_config[column] = { ...PRICE, ...(columns_config[column] ?? {}) };
  return { ...config, columns_config };
}

export function saved(name) {
  try {
    const text = localStorage.getItem(KEY(name));
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export function save(name, config) {
  try {
    localStorage.setItem(KEY(name), JSON.stringify(config));
  } catch {
    // storage full or disabled: layouts simply do not persist
  }
}

export function forgetAll() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("tickerflow.layout.")) localStorage.removeItem(key);
  }
}
