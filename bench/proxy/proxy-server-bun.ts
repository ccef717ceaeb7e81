/** The benchmark proxy with Bun.serve alone in front (no fast front end), for A/B runs: BENCH_EXTRA="bun-front=proxy-server-bun.ts". */
export {};
process.env.FRONT_END = "bun";
await import("./proxy-server.ts");
