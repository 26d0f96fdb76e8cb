// `app serve` as a real process, seen from outside: what an attacker on loopback and a second
// operator starting another server observe.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { WARM_UP_JOBS } from "../../src/runtime.ts";
import { freePort } from "../support/binary.ts";
import { onCleanup, tempDir } from "../support/db.ts";
import { startServer } from "../support/server-process.ts";
import { SECRETS } from "../support/server.ts";

const root = path.resolve(import.meta.dir, "../..");

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) / 1024;
}

/**
 * Opens a raw connection, sends a request head announcing `bodyBytes`, then sends `send` bytes
 * of the body (as fast as the socket takes them, until the answer comes); resolves with the
 * status line it got.
 */
function announceBody(port: number, head: string, bodyBytes: number, send = bodyBytes): Promise<{ status: string }> {
  const chunk = new Uint8Array(64 * 1024).fill(120);
  let sent = 0;
  let answer = "";
  return new Promise((resolve, reject) => {
    const pump = (socket: Bun.Socket) => {
      while (sent < send && answer === "") {
        const wrote = socket.write(chunk.subarray(0, Math.min(chunk.length, send - sent)));
        if (wrote <= 0) return;
        sent += wrote;
      }
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(`${head}content-length: ${bodyBytes}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n`);
          pump(socket);
        },
        drain: pump,
        data(socket, data) {
          answer += data.toString();
          if (answer.includes("\r\n")) {
            socket.end();
            resolve({ status: answer.slice(0, answer.indexOf("\r\n")) });
          }
        },
        close() {
          resolve({ status: answer.slice(0, answer.indexOf("\r\n")) });
        },
        error: reject,
        connectError: (_socket, err) => reject(err),
      },
    }).catch(reject);
  });
}

describe("app serve, attacked from loopback", () => {
  test("300 unauthenticated connections announcing 1 MiB each get 401 before their bodies are read, and memory stays low", async () => {
    const server = await startServer({ databaseUrl: path.join(tempDir(), "app.db") });
    const port = Number(new URL(server.url).port);
    const heads = [
      "POST /trpc/jobs.create HTTP/1.1\r\nhost: 127.0.0.1\r\n",
      "POST /trpc/jobs.create,jobs.delete?batch=1 HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer wrong-token-0123456789\r\n",
      "GET /trpc/dashboard.health HTTP/1.1\r\nhost: 127.0.0.1\r\n",
    ];
    const MiB = 1024 * 1024;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => announceBody(port, heads[i % heads.length]!, MiB)));
    expect(results.map((r) => r.status)).toEqual(Array(300).fill("HTTP/1.1 401 Unauthorized"));
    expect(rssMiB(server.pid)).toBeLessThan(150);
    // Answered without waiting for the body: announced and never sent, still refused at once.
    const silent = await Promise.all(heads.map((head) => announceBody(port, head, MiB, 0)));
    expect(silent.map((r) => r.status)).toEqual(Array(heads.length).fill("HTTP/1.1 401 Unauthorized"));
    // The server still works for its admin.
    const ok = await fetch(`${server.url}/trpc/jobs.list`, { headers: { authorization: `Bearer ${SECRETS.adminToken}` } });
    expect(ok.status).toBe(200);
  }, 60_000);
});

describe("app serve, started twice", () => {
  test("a second server on a taken port exits 2 with \"port N is in use\", and the first keeps serving", async () => {
    const port = freePort();
    const first = await startServer({ databaseUrl: path.join(tempDir(), "one.db"), env: { PORT: String(port) } });
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const dir = tempDir();
    const second = Bun.spawn([process.execPath, path.join(root, "src/cli/index.ts"), "serve"], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: path.join(dir, "two.db"), HOST: "127.0.0.1", PORT: String(port), CRON_SECRET: "other-cron-secret-0123456789", ADMIN_TOKEN: "other-admin-token-0123456789" },
      stdout: "pipe", stderr: "pipe",
    });
    onCleanup(() => { second.kill("SIGKILL"); });
    const [code, stderr] = await Promise.all([second.exited, new Response(second.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr).toContain(`port ${port} is in use`);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    // Every call still reaches the first server (its token, its database).
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${first.url}/trpc/jobs.list`, { headers: { authorization: `Bearer ${SECRETS.adminToken}` } });
      expect(res.status).toBe(200);
    }
  }, 60_000);

  test("the start-up line names the database, the secrets file and the dashboard's URL", async () => {
    const dir = tempDir();
    const file = path.join(dir, "app.db");
    const server = await startServer({ databaseUrl: file, env: { CRON_SECRET: undefined, ADMIN_TOKEN: undefined } as unknown as Record<string, string> });
    const listening = server.logs().find((l) => l.msg === "listening")!;
    expect(listening).toMatchObject({ database: file, secrets: path.join(dir, "secrets.json"), dashboard: `${server.url}/` });
  }, 30_000);

  test("it warms its run path before it says it is listening, on a private database: the user's database gets no row of it", async () => {
    const file = path.join(tempDir(), "app.db");
    const server = await startServer({ databaseUrl: file });
    const lines = server.logs();
    const warmed = lines.findIndex((l) => l.msg === "warmed up the run path");
    expect(warmed).toBeGreaterThanOrEqual(0);
    expect(lines[warmed]).toMatchObject({ jobs: WARM_UP_JOBS });
    expect(warmed).toBeLessThan(lines.findIndex((l) => l.msg === "listening"));
    const db = new Database(file, { readonly: true });
    try {
      expect(db.query("SELECT (SELECT count(*) FROM cron_jobs) + (SELECT count(*) FROM cron_job_runs) AS n").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${SECRETS.cronSecret}` } })).text();
    expect(metrics).toMatch(/cronjobs_runs_total\{status="succeeded"\} 0\b/);
  }, 30_000);
});
