import { defineCommand } from "citty";

/** `app jobs …`: a command-line client of the server's tRPC control plane. */
export default defineCommand({
  meta: { name: "jobs", description: "Manages jobs through the running server (tRPC). Exit 0 ok, 1 rejected, 2 unreachable." },
  subCommands: {
    list: () => import("../jobs/list.ts").then((m) => m.default),
    get: () => import("../jobs/by-id.ts").then((m) => m.get),
    add: () => import("../jobs/add.ts").then((m) => m.default),
    update: () => import("../jobs/update.ts").then((m) => m.default),
    rm: () => import("../jobs/by-id.ts").then((m) => m.rm),
    pause: () => import("../jobs/by-id.ts").then((m) => m.pause),
    resume: () => import("../jobs/by-id.ts").then((m) => m.resume),
    run: () => import("../jobs/by-id.ts").then((m) => m.run),
    cancel: () => import("../jobs/by-id.ts").then((m) => m.cancel),
    retry: () => import("../jobs/by-id.ts").then((m) => m.retry),
    runs: () => import("../jobs/runs.ts").then((m) => m.default),
    types: () => import("../jobs/types.ts").then((m) => m.default),
    preview: () => import("../jobs/preview.ts").then((m) => m.default),
  },
});
