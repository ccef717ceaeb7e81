/**
 * The benchmark's upstream: one Bun server for every shape. GET /tiny and /1m answer fixed bodies, POST /echo
 * returns the request body, POST /upload reads it and answers its length, /ws echoes WebSocket messages. Run as
 * its own process; prints its port.
 */
const TINY = "hello world\n";
const MB1 = Buffer.alloc(1024 * 1024, "x");
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  async fetch(req, srv) {
    const path = new URL(req.url).pathname;
    if (path === "/ws" && srv.upgrade(req)) return undefined;
    if (path === "/echo") return new Response(await req.arrayBuffer());
    if (path === "/upload") return new Response(String((await req.arrayBuffer()).byteLength));
    if (path === "/1m") return new Response(MB1);
    return new Response(TINY);
  },
  websocket: {
    message(ws, message) {
      ws.send(message);
    },
  },
});
process.stdout.write(`${server.port}\n`);
