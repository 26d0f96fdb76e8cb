/**
 * The web app of bench/http.bench.ts, in a process of its own: answers every request at once
 * and counts them (`GET /count`). Prints its port on stdout.
 */
let count = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    if (req.method === "GET" && new URL(req.url).pathname === "/count") return new Response(String(count));
    count++;
    return new Response("ok");
  },
});
process.stdout.write(`${server.port}\n`);
