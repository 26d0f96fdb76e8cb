// Loaded before every test file (bunfig.toml): a hook declared here applies to all files, where
// one declared in a shared module would attach only to the first file that imports it.
import { afterAll, afterEach } from "bun:test";
import { runCleanups, runEndCleanups } from "./cleanup.ts";

afterEach(runCleanups);
// In a preload, afterAll runs once, after the last file.
afterAll(runEndCleanups);
