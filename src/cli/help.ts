import type { ArgsDef, CommandDef } from "citty";

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(value: Resolvable<T>): Promise<T> => (typeof value === "function" ? (value as () => T | Promise<T>)() : value);

/** Where the help goes: a terminal gets colour (unless NO_COLOR) and its width; anything else plain text, 80 columns. */
export interface HelpTarget {
  isTTY?: boolean;
  columns?: number;
}

/** Colour only on a terminal, and never with NO_COLOR set to anything (no-color.org) or TERM=dumb. */
export function useColor(target: HelpTarget, env: Record<string, string | undefined> = process.env): boolean {
  return target.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/** `text` cut at spaces into lines of at most `width` characters (a longer word keeps its own line). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [""];
}

/**
 * Two columns, the second wrapped to fit `width`; when the first is too wide for that, each
 * description goes under its name instead. Styling is applied after measuring.
 */
function columns(rows: [string, string][], width: number, style: (s: string) => string): string[] {
  const left = Math.max(...rows.map(([name]) => name.length));
  const out: string[] = [];
  const side = 2 + left + 2;
  if (width - side >= 30) {
    for (const [name, text] of rows) {
      const lines = wrap(text, width - side);
      out.push(`  ${style(name)}${" ".repeat(left - name.length + 2)}${lines[0]}`, ...lines.slice(1).map((l) => `${" ".repeat(side)}${l}`));
    }
  } else {
    for (const [name, text] of rows) out.push(`  ${style(name)}`, ...wrap(text, width - 6).map((l) => `      ${l}`));
  }
  return out;
}

/** The help of one command: what it does, its usage, its arguments, its flags and its subcommands. */
export async function renderHelp(command: CommandDef<any>, path: string[], target: HelpTarget): Promise<string> {
  const color = useColor(target);
  const width = Math.max(40, Math.min(target.isTTY && target.columns ? target.columns : 80, 120));
  const bold = (s: string) => (color ? `\u001B[1m${s}\u001B[22m` : s);
  const cyan = (s: string) => (color ? `\u001B[36m${s}\u001B[39m` : s);
  const meta = (await resolve(command.meta ?? {})) ?? {};
  const args: ArgsDef = (await resolve(command.args ?? {})) ?? {};
  const subCommands = (await resolve(command.subCommands ?? {})) ?? {};
  const positionals = Object.entries(args).filter(([, def]) => def.type === "positional");
  const flags = Object.entries(args).filter(([, def]) => def.type !== "positional");

  const usage = [path.join(" ")];
  if (Object.keys(subCommands).length > 0) usage.push("<command>");
  for (const [name, def] of positionals) usage.push(def.required === false ? `[${name.toUpperCase()}]` : `<${name.toUpperCase()}>`);
  usage.push("[options]");

  const lines = [...wrap(meta.description ?? "", width), "", `${bold("Usage:")} ${usage.join(" ")}`];
  if (positionals.length > 0) {
    lines.push("", bold("Arguments:"), ...columns(positionals.map(([name, def]) => [name.toUpperCase(), def.description ?? ""]), width, cyan));
  }
  const flagRows: [string, string][] = flags.map(([name, def]) => [
    `--${name}${def.type === "string" ? " <value>" : ""}`,
    def.description ?? "",
  ]);
  flagRows.push(["-h, --help", "show this help"]);
  if (path.length === 1 && meta.version) flagRows.push(["-v, --version", "print the version"]);
  lines.push("", bold("Options:"), ...columns(flagRows, width, cyan));
  const names = Object.keys(subCommands);
  if (names.length > 0) {
    const rows: [string, string][] = [];
    for (const name of names) {
      const sub = await resolve(subCommands[name]!);
      const description = (await resolve(sub.meta ?? {}))?.description ?? "";
      rows.push([name, description]);
    }
    lines.push("", bold("Commands:"), ...columns(rows, width, cyan), "", ...wrap(`\`${path.join(" ")} <command> --help\` shows the options of a command.`, width));
  }
  return `${lines.join("\n")}\n`;
}
