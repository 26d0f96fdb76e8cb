import { defineCommand } from "citty";

const BY_ID = ["get", "rm", "pause", "resume", "run", "cancel", "retry"] as const;

/** `app jobs …`: a command-line client of the server's tRPC control plane. */
export default defineCommand({
  meta: { name: "jobs", description: "Manages jobs through the running server (tRPC). Exit 0 ok, 1 rejected, 2 unreachable." },
  subCommands: {
    list: () => import("../jobs/list.ts").then((m) => m.default),
    add: () => import("../jobs/add.ts").then((m) => m.default),
    update: () => import("../jobs/update.ts").then((m) => m.default),
    // The commands on one job by id (get, rm, pause, resume, run, cancel, retry) share a module.
    ...Object.fromEntries(BY_ID.map((name) => [name, () => import("../jobs/by-id.ts").then((m) => m[name])])),
    runs: () => import("../jobs/runs.ts").then((m) => m.default),
    changes: () => import("../jobs/changes.ts").then((m) => m.default),
    types: () => import("../jobs/types.ts").then((m) => m.default),
    preview: () => import("../jobs/preview.ts").then((m) => m.default),
    "pause-all": () => import("../jobs/pause-all.ts").then((m) => m.pauseAll),
    "resume-all": () => import("../jobs/pause-all.ts").then((m) => m.resumeAll),
  },
});
