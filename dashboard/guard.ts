// Who may talk to the dashboard. On a loopback address only requests addressed to a loopback
// host are answered (a page on another site must not reach the API by DNS rebinding); beyond
// loopback every request must carry the dashboard's token, as `Authorization: Bearer` or the
// HttpOnly cookie that opening the printed `?token=` URL sets. State-changing requests must come
// from the page's own origin. Pure functions, except the token file read and generation.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';

export const MIN_TOKEN_LENGTH = 16;
// Characters that pass unchanged through a header, a cookie and a query string (base64, hex, ...).
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

/**
 * Whether an address or host name is loopback, in any spelling: 127.0.0.0/8 written any way an
 * URL parser or the resolver accepts (127.1, 0x7f.0.0.1, 2130706433), ::1 in any form,
 * IPv4-mapped ::ffff:127.x.y.z, and `localhost` in any case. Brackets are optional for IPv6.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost') return true;
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  let canonical: string;
  try {
    canonical = new URL(`http://${h}/`).hostname;
  } catch {
    return false; // zone ids (fe80::1%eth0) and anything unparsable: not known to be loopback
  }
  if (canonical === '[::1]') return true;
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}\]$/.exec(canonical);
  if (mapped) return parseInt(mapped[1]!, 16) >> 8 === 127;
  return /^127\.\d+\.\d+\.\d+$/.test(canonical);
}

/** `host[:port]` or `[v6][:port]` of a Host header; undefined when it is neither. */
export function parseHostHeader(value: string): { host: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return undefined;
  return { host: m[1]!, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** A loopback listener answers only requests addressed to a loopback host on its own port. */
export function loopbackHostAllowed(header: string | undefined, port: number): boolean {
  const parsed = parseHostHeader(header ?? '');
  return parsed !== undefined && isLoopbackHost(parsed.host) && (parsed.port ?? 80) === port;
}

/**
 * A state-changing request must come from the page's own origin. No Origin header: not sent by
 * a browser page, allowed. `Origin: null` (sandboxed frames, file: pages) and anything that does
 * not parse are refused.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const from = new URL(origin);
    const to = new URL(`http://${hostHeader ?? ''}/`);
    return (from.protocol === 'http:' || from.protocol === 'https:') && from.hostname === to.hostname && effectivePort(from) === effectivePort(to);
  } catch {
    return false;
  }
}

const effectivePort = (u: URL): string => u.port || (u.protocol === 'https:' ? '443' : '80');

/** Equal tokens, in time that does not depend on where they differ or on their lengths. */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token a request presents: `Authorization: Bearer T`, else the named cookie. */
export function presentedToken(headers: IncomingHttpHeaders, cookieName: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (bearer) return bearer[1];
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === cookieName) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The cookie a browser keeps the token in: unreadable by scripts, never sent from another site. */
export function tokenCookie(cookieName: string, token: string): string {
  return `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Why a token cannot be used, or undefined when it can. */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `the token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} random ones`;
  if (!TOKEN_CHARS.test(token)) return "the token may hold only letters, digits and . _ ~ + / = - (base64 or hex)";
  return undefined;
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token a dashboard on `address` runs with: read from `tokenFile` when given (surrounding
 * whitespace ignored), generated when the address is not loopback, none otherwise. Throws with
 * the fix when the file cannot be used.
 */
export function dashboardToken(address: string, tokenFile: string | undefined): { token: string | undefined; generated: boolean } {
  if (tokenFile === undefined) return isLoopbackHost(address) ? { token: undefined, generated: false } : { token: generateToken(), generated: true };
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8');
  } catch (err) {
    throw new Error(`--token-file ${tokenFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
  const token = text.trim();
  const problem = token === '' ? 'the file is empty' : tokenProblem(token);
  if (problem) throw new Error(`--token-file ${tokenFile}: ${problem} (e.g. write the output of: head -c 32 /dev/urandom | base64)`);
  return { token, generated: false };
}
