import path from "node:path";
import { defineCommand } from "citty";
import { loadConfig, type Config } from "../../config.ts";
import { action } from "../action.ts";
import { configArgs, configFlags, SERVER_SETTINGS } from "../args.ts";

/** Shell-quotes one word; `%` is escaped for cron, which would end the command there. */
const word = (w: string) => (/^[\w@+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`).replace(/%/g, "\\%");

function environment(config: Config, includeSecrets: boolean): string[] {
  let databaseUrl = config.databaseUrl;
  if (config.backend === "sqlite" && databaseUrl !== ":memory:") databaseUrl = path.resolve(databaseUrl);
  else if (!includeSecrets) databaseUrl = databaseUrl.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, "$1:PASSWORD@");
  const env = [`DATABASE_URL=${databaseUrl}`, `APP_URL=${config.appUrl}`, `FRESHNESS_DIR=${config.freshnessDir}`];
  if (includeSecrets && config.cronSecret) env.push(`CRON_SECRET=${config.cronSecret}`);
  return env;
}

export default defineCommand({
  meta: {
    name: "crontab",
    description: "Prints the crontab block of the three server scripts with this binary's absolute path: `app crontab | crontab -`.",
  },
  args: {
    ...configArgs(SERVER_SETTINGS),
    "include-secrets": { type: "boolean", description: "write CRON_SECRET and the PostgreSQL password into the lines (default: left out; the generated secret is read from the data directory)" },
    "tests-args": { type: "string", description: "extra arguments for the tests-cronjob-runner line, e.g. \"--timeout 900\"" },
    "notify-args": { type: "string", description: "extra arguments for the notify-stale line, e.g. \"--webhook https://…\"" },
  },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, SERVER_SETTINGS));
    const { selfInvocation } = await import("../../../scripts_server/self.ts");
    const self = selfInvocation();
    const includeSecrets = args["include-secrets"] === true;
    const prefix = `cd ${word(process.cwd())} && ${environment(config, includeSecrets).map(word).join(" ")} ${self.command.map(word).join(" ")}`;
    const extra = (value: string | undefined) => (value ? ` ${value.replace(/%/g, "\\%")}` : "");
    const lines = [
      `# cronjobs server scripts — printed by \`app crontab\`${self.compiled ? "" : " (running from source)"}.`,
      "# Install: app crontab | crontab -    (replaces the crontab; to add: (crontab -l; app crontab) | crontab -)",
      "# Output is mailed by cron; append e.g. >> /var/log/cronjobs.log 2>&1 to a line to keep a log instead.",
    ];
    if (config.backend === "postgres" && !includeSecrets && /:\/\/[^:/@]+:[^@]*@/.test(config.databaseUrl)) {
      lines.push("# The PostgreSQL password is shown as PASSWORD: put the real one in (or use --include-secrets).");
    }
    if (config.cronSecret && !includeSecrets) lines.push("# CRON_SECRET is set here but left out: give it to cron (e.g. --include-secrets) or cron-runner will use the generated one.");
    lines.push(
      `* * * * * ${prefix} cron-runner`,
      `* * * * * ${prefix} tests-cronjob-runner${extra(args["tests-args"])}`,
      `* * * * * ${prefix} notify-stale${extra(args["notify-args"])}`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  }),
});
