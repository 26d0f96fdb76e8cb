import path from "node:path";
import { defineCommand } from "citty";
import { loadConfig, type Config } from "../../config.ts";
import { AppError } from "../../errors.ts";
import { CONTROL_CHARS, escapeControl } from "../../text/escape.ts";
import { action } from "../action.ts";
import { configArgs, configFlags, CRONTAB_SETTINGS } from "../args.ts";

/**
 * One word for `sh`: as is when it holds only safe characters, else single-quoted (a `'` in it
 * written `'\''`), so a space, a quote, `$()` or a backtick stay plain text.
 */
const quote = (w: string) => (/^[\w@+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** cron turns an unescaped `%` into a newline (the rest becomes stdin): `\%` keeps it, and cron drops the backslash. */
const forCron = (text: string) => text.replace(/%/g, "\\%");

/** A value cron cannot carry on one line is refused by name: a newline would add a crontab entry. */
function checkLine(what: string, value: string): string {
  const found = CONTROL_CHARS.exec(value);
  if (found) {
    throw new AppError("INVALID_INPUT", `${what} contains a control character (${escapeControl(found[0])}), which a crontab line cannot hold: ${escapeControl(value)}`);
  }
  return value;
}

/** `NAME=value` with only the value quoted: `'NAME=…'` would not be an assignment for `sh`. */
const assignment = (name: string, value: string) => `${name}=${quote(checkLine(name, value))}`;

function environment(config: Config, includeSecrets: boolean): string[] {
  let databaseUrl = config.databaseUrl;
  if (config.backend === "sqlite" && databaseUrl !== ":memory:") databaseUrl = path.resolve(databaseUrl);
  else if (!includeSecrets) databaseUrl = databaseUrl.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, "$1:PASSWORD@");
  const env = [assignment("DATABASE_URL", databaseUrl), assignment("APP_URL", config.appUrl), assignment("FRESHNESS_DIR", config.freshnessDir)];
  if (includeSecrets && config.cronSecret) env.push(assignment("CRON_SECRET", config.cronSecret));
  return env;
}

export default defineCommand({
  meta: {
    name: "crontab",
    description: "Prints the crontab block of the three server scripts with this binary's absolute path: `app crontab | crontab -`.",
  },
  args: {
    ...configArgs(CRONTAB_SETTINGS),
    "include-secrets": { type: "boolean", description: "write CRON_SECRET and the PostgreSQL password into the lines (default: left out; the generated secret is read from the data directory)" },
    "tests-args": { type: "string", description: "extra arguments for the tests-cronjob-runner line, shell words as typed, e.g. \"--timeout 900 --min-interval 3600\"" },
    "notify-args": { type: "string", description: "extra arguments for the notify-stale line, shell words as typed, e.g. \"--webhook https://…\"" },
  },
  run: ({ args }) => action(async () => {
    const config = loadConfig(configFlags(args, CRONTAB_SETTINGS));
    const { selfInvocation } = await import("../../../scripts_server/self.ts");
    const self = selfInvocation();
    const includeSecrets = args["include-secrets"] === true;
    const cwd = quote(checkLine("the current directory", process.cwd()));
    const command = self.command.map((w) => quote(checkLine("this program's path", w))).join(" ");
    const prefix = forCron(`cd ${cwd} && ${environment(config, includeSecrets).join(" ")} ${command}`);
    // The extra arguments are shell text the user wrote on purpose: kept as typed, on one line.
    const extra = (flag: string, value: string | undefined) => (value ? ` ${forCron(checkLine(`--${flag}`, value))}` : "");
    const lines = [
      `# cronjobs server scripts — printed by \`app crontab\`${self.compiled ? "" : " (running from source)"}.`,
      "# Install: app crontab | crontab -    (replaces the crontab; to add: (crontab -l; app crontab) | crontab -)",
      "# Output is mailed by cron; append e.g. >> /var/log/cronjobs.log 2>&1 to a line to keep a log instead.",
      "# tests-cronjob-runner runs the suite at most once per --min-interval (default 900 s) and skips the other minutes;",
      "# change it with --tests-args \"--min-interval SECONDS\".",
    ];
    if (config.backend === "postgres" && !includeSecrets && /:\/\/[^:/@]+:[^@]*@/.test(config.databaseUrl)) {
      lines.push("# The PostgreSQL password is shown as PASSWORD: put the real one in (or use --include-secrets).");
    }
    if (config.cronSecret && !includeSecrets) lines.push("# CRON_SECRET is set here but left out: give it to cron (e.g. --include-secrets) or cron-runner will use the generated one.");
    lines.push(
      `* * * * * ${prefix} cron-runner`,
      `* * * * * ${prefix} tests-cronjob-runner${extra("tests-args", args["tests-args"])}`,
      `* * * * * ${prefix} notify-stale${extra("notify-args", args["notify-args"])}`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  }),
});
