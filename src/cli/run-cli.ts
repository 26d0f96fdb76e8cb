import { runCommand, type ArgsDef, type CommandDef } from "citty";
import { EXIT } from "./action.ts";
import { renderHelp } from "./help.ts";

type AnyCommand = CommandDef<any>;
type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);

const resolve = async <T>(value: Resolvable<T>): Promise<T> => (typeof value === "function" ? (value as () => T | Promise<T>)() : value);
const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** A usage error: one line on stderr, exit 2. */
class UsageError extends Error {}

/** A reader closed our stdout (`app jobs list | head -1`): stop quietly, nothing left to say. */
function exitQuietlyOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

interface Resolved {
  /** The command names from the root, e.g. ["app", "jobs", "list"]. */
  path: string[];
  command: AnyCommand;
  /** The arguments after the last command name. */
  rest: string[];
}

/** Walks the subcommands named in `argv`, as citty will, without running anything. */
async function resolveCommand(root: AnyCommand, argv: string[]): Promise<Resolved> {
  const path = [String((await resolve(root.meta ?? {}))?.name ?? "app")];
  let command = root;
  let rest = argv;
  for (;;) {
    const subCommands = await resolve(command.subCommands ?? {});
    if (Object.keys(subCommands).length === 0) return { path, command, rest };
    const index = rest.findIndex((arg) => !arg.startsWith("-"));
    if (index < 0) return { path, command, rest };
    const name = rest[index]!;
    if (!Object.hasOwn(subCommands, name)) {
      throw new UsageError(`unknown command "${name}" (\`${path.join(" ")} --help\` lists them)`);
    }
    command = await resolve(subCommands[name]!);
    path.push(name);
    rest = [...rest.slice(0, index), ...rest.slice(index + 1)];
  }
}

/** The closest declared flag to a mistyped one, for the error's hint. */
function closest(name: string, names: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const best = names.map((n) => [n, distance(name, n)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? best[0] : undefined;
}

/**
 * Checks `argv` against the flags and positionals `args` declares (citty ignores unknown
 * flags): an unknown flag, a string flag without its value, a missing or extra positional
 * are usage errors naming what is wrong.
 */
export function checkArgs(args: ArgsDef, argv: string[]): void {
  const flags = Object.entries(args).filter(([, def]) => def.type !== "positional");
  const find = (name: string) => flags.find(([key]) => key === name || camel(key) === name)?.[1];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const [name, value] = arg.startsWith("--") ? [arg.slice(2).split("=")[0]!, arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : undefined] : [arg.slice(1), undefined];
    let def = find(name);
    if (def === undefined && name.startsWith("no-") && find(name.slice(3))?.type === "boolean") def = find(name.slice(3));
    if (def === undefined || !arg.startsWith("--")) {
      const hint = closest(name, flags.map(([key]) => key));
      throw new UsageError(`unknown flag ${arg.split("=")[0]}${hint ? ` (did you mean --${hint}?)` : ""}`);
    }
    if (def.type === "string" && value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      i++;
    }
  }
  const declared = Object.entries(args).filter(([, def]) => def.type === "positional");
  for (const [i, [name, def]] of declared.entries()) {
    if (positionals[i] === undefined && def.required !== false && def.default === undefined) throw new UsageError(`missing argument ${name.toUpperCase()}`);
  }
  if (positionals.length > declared.length) throw new UsageError(`unexpected argument "${positionals[declared.length]}"`);
}

/**
 * Runs the `app` binary through citty, with what citty leaves out: unknown flags and
 * commands are errors (exit 2) rather than ignored, `--help` is plain text off a terminal and
 * fits its width, and a closed stdout ends the command quietly instead of with a stack.
 */
export async function runCli(root: AnyCommand, argv = process.argv.slice(2)): Promise<void> {
  exitQuietlyOnClosedPipes();
  const hint = (path: string[]) => `(\`${path.join(" ")} --help\` shows the usage)`;
  let resolved: Resolved | undefined;
  try {
    resolved = await resolveCommand(root, argv);
    const { path, command, rest } = resolved;
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(await renderHelp(command, path, process.stdout));
      return;
    }
    if (path.length === 1 && rest.length === 1 && (rest[0] === "--version" || rest[0] === "-v")) {
      process.stdout.write(`${(await resolve(root.meta ?? {}))?.version ?? ""}\n`);
      return;
    }
    if (command.run === undefined) {
      process.stderr.write(await renderHelp(command, path, process.stderr));
      process.exitCode = EXIT.UNUSABLE;
      return;
    }
    checkArgs(await resolve(command.args ?? {}), rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`app: ${err.message}${resolved ? ` ${hint(resolved.path)}` : ""}\n`);
    process.exitCode = EXIT.UNUSABLE;
    return;
  }
  try {
    await runCommand(root, { rawArgs: argv });
  } catch (err) {
    // Commands report their own errors (action.ts); this is citty refusing the arguments.
    if ((err as Error).name !== "CLIError") throw err;
    process.stderr.write(`app: ${(err as Error).message} ${hint(resolved.path)}\n`);
    process.exitCode = EXIT.UNUSABLE;
  }
}
