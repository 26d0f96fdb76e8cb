import { AppError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";

export { EXIT };

/**
 * Runs a command body: an `AppError` becomes one line on stderr and an exit code
 * (bad input or configuration, or an unreachable dependency → 2; a rejected request → 1).
 */
export async function action(fn: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    code = (await fn()) ?? EXIT.OK;
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`app: ${err.message}\n`);
      code = err.code === "NOT_FOUND" || err.code === "CONFLICT" ? EXIT.FAILED : EXIT.UNUSABLE;
    } else {
      process.stderr.write(`app: ${err instanceof Error ? err.message : String(err)}\n`);
      code = EXIT.FAILED;
    }
  }
  process.exitCode = code;
}
