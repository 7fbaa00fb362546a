// SCIM filter building (RFC 7644 §3.4.2.2). A filter's string literal is a JSON string, so
// JSON.stringify escapes exactly what must be escaped: `"`, `\` and control characters. Nothing a
// value holds can end the literal and add a clause (`alice" or userName pr`).

export function equals(attribute: string, value: string): string {
  return `${attribute} eq ${JSON.stringify(value)}`;
}
