// JSON.parse that keeps integers too large for a double exact, as bigints. Seccomp argument
// masks and RLIM_INFINITY are 64-bit; a double would silently change them.

const LONG_INTEGER = /\d{16}/;

/** Throws SyntaxError like JSON.parse. */
export function parseJsonExact(text: string): unknown {
  // The reviver costs time on every value; most documents hold no long integer at all.
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return JSON.parse(text, reviveLongInteger);
}

function reviveLongInteger(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined) {
    const source = context.source;
    if (/^-?\d+$/.test(source)) return BigInt(source);
  }
  return value;
}
