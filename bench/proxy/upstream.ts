/** The benchmark's upstream: a Bun server with a tiny and a 20 KB answer. Run as its own process. */
const TINY = "hello world\n";
const KB20 = Buffer.alloc(20 * 1024, "x");
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  fetch(req) {
    return req.url.endsWith("/20k") ? new Response(KB20) : new Response(TINY);
  },
});
process.stdout.write(`${server.port}\n`);
