import fs from "node:fs";
import os from "node:os";

/**
 * Frames of write-ahead log the database file does not hold yet, read from the WAL-index
 * header at the start of the `-shm` file (https://sqlite.org/walformat.html: `mxFrame`, the
 * last valid frame, at byte 16; `nBackfill`, the frames already copied back, at byte 96; both
 * 32-bit, in the host's byte order). A read races the writers that update the header, so the
 * answer is an estimate, good for deciding when to checkpoint; 0 when there is no such file
 * (an in-memory database, or a file not in WAL mode).
 */
export function walBacklog(file: string): number {
  const header = Buffer.alloc(100);
  let fd: number;
  try {
    fd = fs.openSync(`${file}-shm`, "r");
  } catch {
    return 0;
  }
  try {
    if (fs.readSync(fd, header, 0, header.length, 0) < header.length) return 0;
  } finally {
    fs.closeSync(fd);
  }
  const read = os.endianness() === "LE" ? (at: number) => header.readUInt32LE(at) : (at: number) => header.readUInt32BE(at);
  return Math.max(0, read(16) - read(96));
}
