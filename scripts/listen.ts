// Opens a live-updates socket and prints each message: `npm run listen -- <ticket> [since]`.
// The ticket comes from POST /api/v1/realtime/ticket (single use, 30 s); since=<seq> replays what
// came after it. Keeps the socket alive with "ping" every 30 s, as an app would.
const [ticket, since] = process.argv.slice(2);
if (!ticket) {
  console.error("usage: npm run listen -- <ticket> [since]");
  process.exit(2);
}
const base = (process.env.API_URL ?? "http://127.0.0.1:8787").replace(/^http/, "ws");
const url = new URL("/api/v1/realtime", base);
url.searchParams.set("ticket", ticket);
if (since) url.searchParams.set("since", since);
const socket = new WebSocket(url);
const keepAlive = setInterval(() => socket.send("ping"), 30_000);
socket.addEventListener("open", () => console.log(`listening on ${url.origin}${url.pathname} (Ctrl-C to stop)`));
socket.addEventListener("message", (event) => {
  if (event.data !== "pong") console.log(String(event.data));
});
socket.addEventListener("close", (event) => {
  clearInterval(keepAlive);
  console.log(`closed: ${event.code} ${event.reason}`);
  process.exit(event.code === 1000 ? 0 : 1);
});
socket.addEventListener("error", () => console.error("could not connect: is the ticket fresh (30 s, single use) and npm run dev running?"));
