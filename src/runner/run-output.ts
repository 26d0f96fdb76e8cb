/** A run's output is kept up to this many bytes (SPEC §3.2). */
export const MAX_OUTPUT_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/**
 * What a run says through `ctx.log`, one line per call, kept up to `MAX_OUTPUT_BYTES`: the start
 * is kept and the rest counted, then replaced by `… [N bytes truncated]`.
 */
export class RunOutput {
  private readonly lines: string[] = [];
  private bytes = 0;
  private dropped = 0;

  append(message: string): void {
    const line = `${message}\n`;
    const size = encoder.encode(line).length;
    const room = MAX_OUTPUT_BYTES - this.bytes;
    if (this.dropped > 0 || room <= 0) {
      this.dropped += size;
      return;
    }
    if (size <= room) {
      this.lines.push(line);
      this.bytes += size;
      return;
    }
    // Cut at a character boundary that fits: the start of the line is kept.
    const kept = new TextDecoder().decode(encoder.encode(line).subarray(0, room)).replace(/\uFFFD$/, "");
    this.lines.push(kept);
    this.bytes += encoder.encode(kept).length;
    this.dropped += size - encoder.encode(kept).length;
  }

  text(): string | null {
    if (this.lines.length === 0 && this.dropped === 0) return null;
    const text = this.lines.join("");
    return this.dropped > 0 ? `${text}… [${this.dropped} bytes truncated]` : text.replace(/\n$/, "");
  }
}
