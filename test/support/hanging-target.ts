import { onCleanup } from "./cleanup.ts";

/** A loopback target that takes requests and never answers; tells when one arrives and when its client hangs up. */
export function hangingTarget() {
  const arrived = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<void>();
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1", port: 0, idleTimeout: 0,
    fetch(request) {
      requests++;
      request.signal.addEventListener("abort", () => closed.resolve(), { once: true });
      arrived.resolve();
      return new Promise<Response>(() => {});
    },
  });
  onCleanup(() => { void server.stop(true); });
  return { url: `http://127.0.0.1:${server.port}/hook`, arrived: arrived.promise, closed: closed.promise, requests: () => requests };
}
