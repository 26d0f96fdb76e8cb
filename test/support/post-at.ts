/**
 * A client process of the fault suite: prints "ready", waits until epoch ms argv[4], then calls
 * `POST argv[2]/api/cron/run` with bearer argv[3] and prints `{ status, body }` as one JSON line.
 */
const [url, secret, at] = process.argv.slice(2);
process.stdout.write("ready\n");
await Bun.sleep(Math.max(0, Number(at) - Date.now()));
const started = Date.now();
try {
  const res = await fetch(`${url}/api/cron/run`, { method: "POST", headers: { authorization: `Bearer ${secret}` } });
  process.stdout.write(`${JSON.stringify({ status: res.status, started, body: await res.text() })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ status: 0, started, body: String(err) })}\n`);
}

export {};
