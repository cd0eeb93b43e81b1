// One WebSocket to the gateway, wrapped in Perspective's wasm Client, with ticket auth.
export class Refused extends Error {}

async function gatewayConfig() {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

export function tokenFromFragment() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function ticket(token) {
  const response = await fetch("/auth/ticket", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) throw new Refused("the gateway rejected this token (HTTP 401)");
  if (!response.ok) throw new Error(`auth/ticket: HTTP ${response.status}`);
  return (await response.json()).ticket;
}

// Resolves with {client, socket} once open; `onClose(event)` fires once when the socket goes away.
// `path` is the gateway's /websocket (from config.json) or /history; both take the gateway's tickets.
export async function connect(wasm, getToken, onClose, path = null, name = "the gateway") {
  const config = await gatewayConfig();
  let url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path ?? config.websocket}`;
  if (config.auth) {
    const token = await getToken();
    if (!token) throw new Refused("this gateway requires a token");
    url += `?ticket=${encodeURIComponent(await ticket(token))}`;
  }
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("WebSocket could not connect"));
    socket.onclose = (event) => reject(new Error(event.reason || `WebSocket closed (${event.code})`));
  });
  const client = new wasm.Client(
    async (buffer) => { if (socket.readyState === WebSocket.OPEN) socket.send(buffer.slice().buffer); },
    async () => socket.close(),
  );
  socket.onmessage = (event) => client.handle_response(event.data);
  socket.onclose = (event) => {
    // Reject whatever the viewers are still waiting for, or they wait on a dead socket forever.
    try { client.handle_error?.(`connection to ${name} lost`, null); } catch { /* already failed */ }
    onClose(event);
  };
  socket.onerror = () => {};
  return { client, socket };
}
