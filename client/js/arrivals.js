// The page's own latency figure: now - event_time of every `ticks` row as it reaches the page, measured
// the way the latency bench's viewers measure it (bench/viewer.py). An unsorted view of event_time
// sends each update's new rows with its notification (mode "row"), so a tick counts the moment it
// arrives. Issue 18 measured what this replaces, a newest-first view read back with `to_columns`: the
// sort cost the gateway +1.9 ms on every update of the 20k-row ring, and the read a round trip (p50 14 ms).
import { int64Column } from "./arrow.js";

export class Arrivals {
  constructor(status) {
    this.status = status;
    this.received = 0;  // ticks counted, and deltas the page could not read (tests and devtools read them)
    this.unreadable = 0;
  }

  // Follows `ticks` on a fresh connection; the view goes with the connection.
  async start(client) {
    const ticks = await client.open_table("ticks");
    const view = await ticks.view({ columns: ["event_time"] });
    await view.on_update((update) => this.arrived(update?.delta), { mode: "row" });
    return view;
  }

  arrived(delta) {
    const now = Date.now();
    if (!delta) return;
    let times;
    try {
      times = int64Column(delta);
    } catch (error) {
      this.unreadable += 1;
      console.warn("latency figure: a ticks delta could not be read:", error.message);
      return;
    }
    this.received += times.length;
    this.status.arrived(times, now);
  }
}
