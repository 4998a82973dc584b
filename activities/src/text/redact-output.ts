/**
 * Output read off a host (log lines, journal, `ss`, dmesg) is evidence that goes into a run's
 * history, status and report, where every operator reads it. A host's logs may hold credentials
 * its programs wrote; this strips the common shapes before the text leaves the activity:
 * `password=…`-style assignments, Authorization headers, credentials in URLs, and private keys.
 * It is a safety net, not a guarantee: secrets the service knows by name are never read back at all.
 */
const RULES: [RegExp, string][] = [
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, '[private key redacted]'],
  [/\b(authorization|proxy-authorization)(\s*[:=]\s*)(bearer|basic|token|digest)?\s*[^\s"',;]+/gi, '$1$2[redacted]'],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, '$1:[redacted]@'],
  [
    /\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret)(?:[_-][a-z0-9]+)*)(["']?\s*[:=]\s*["']?)([^\s"',;&]+)/gi,
    '$1$2[redacted]',
  ],
];

export function redactOutput(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
