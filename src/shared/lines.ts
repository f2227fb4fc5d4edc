/**
 * A byte stream (a child process's output) as lines, one at a time; the generator's return value
 * is an unterminated last line ("" when the stream ended with a newline).
 */
export async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string, string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  return buffer + decoder.decode();
}

/** Reads a byte stream line by line; returns an unterminated last line, if any. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<string> {
  const lines = linesOf(stream);
  for (;;) {
    const next = await lines.next();
    if (next.done) return next.value;
    onLine(next.value);
  }
}
