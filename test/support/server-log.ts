/**
 * Follows the JSON log lines (stderr) of a spawned `app serve`: `lines` fills as it logs, `url`
 * resolves with the address it logs when listening (rejects if it exits first or takes over
 * 20 s), and `read` resolves once the stream has ended and its last line is in.
 */
export function followServerLog(stderr: ReadableStream<Uint8Array<ArrayBuffer>>, exited: Promise<number>) {
  const lines: Record<string, unknown>[] = [];
  const { promise: listening, resolve: onListening } = Promise.withResolvers<string>();
  const read = (async () => {
    let buffer = "";
    const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffer += chunk.value;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.msg === "listening") onListening(String(entry.url));
        } catch {
          lines.push({ msg: line });
        }
      }
    }
    if (buffer.trim()) lines.push({ msg: buffer });
  })();
  const url = Promise.race([
    listening,
    exited.then((code) => { throw new Error(`app serve exited with ${code} before listening: ${JSON.stringify(lines)}`); }),
    Bun.sleep(20_000).then(() => { throw new Error(`app serve did not listen within 20 s: ${JSON.stringify(lines)}`); }),
  ]);
  return { lines, url, read };
}
