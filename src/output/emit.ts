/** Writes a command's result: JSON on `--json`, otherwise the command's own text rendering. */
export function emitResult<T>(json: boolean, value: T, renderText: (value: T) => string): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
  } else {
    const text = renderText(value);
    if (text.length > 0) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** bigint and Map values appear in results (sizes, sequences); JSON has no type for them. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
