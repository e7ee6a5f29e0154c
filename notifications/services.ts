// The services a notification goes out through: a generic webhook, Slack, Microsoft Teams and
// email over SMTP. Each takes its options (Secret references already resolved), the rendered
// template and the recipient, and throws on a failed delivery; errors never carry the URL or
// credentials (the caller also redacts every Secret value).
import { importOnDemand } from '../lib/on-demand.ts';
import type { NotificationTemplate, ServiceConfig } from './config.ts';

export const SEND_TIMEOUT_MS = 10_000;
const SLACK_API = 'https://slack.com/api';

export class DeliveryError extends Error {}

async function post(url: string, body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new DeliveryError(`could not reach the endpoint (${cause})`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new DeliveryError(`the endpoint answered HTTP ${res.status}`);
  return text;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

async function webhook(service: ServiceConfig, message: NotificationTemplate): Promise<void> {
  const o = service.options;
  const part = message.webhook?.[service.name] ?? {};
  const headers: Record<string, string> = {};
  for (const h of Array.isArray(o.headers) ? (o.headers as { name?: unknown; value?: unknown }[]) : []) if (str(h.name) && str(h.value) !== undefined) headers[h.name as string] = h.value as string;
  const auth = o.basicAuth as { username?: unknown; password?: unknown } | undefined;
  if (auth && str(auth.username) !== undefined) headers.Authorization = `Basic ${Buffer.from(`${String(auth.username)}:${String(auth.password ?? '')}`).toString('base64')}`;
  if (str(o.bearerToken)) headers.Authorization = `Bearer ${String(o.bearerToken)}`;
  const url = `${String(o.url).replace(/\/$/, '')}${part.path ?? ''}`;
  await post(url, part.body ?? { message: message.message ?? '' }, headers, (part.method ?? 'POST').toUpperCase());
}

async function slack(service: ServiceConfig, message: NotificationTemplate, recipient: string): Promise<void> {
  const o = service.options;
  const body: Record<string, unknown> = { text: message.message ?? '' };
  for (const field of ['attachments', 'blocks'] as const) {
    const raw = message.slack?.[field];
    if (raw) body[field] = parseJsonField(raw, `slack.${field}`);
  }
  if (str(o.webhookURL)) {
    await post(o.webhookURL as string, body);
    return;
  }
  const api = (str(o.apiURL) ?? SLACK_API).replace(/\/$/, '');
  const answer = await post(`${api}/chat.postMessage`, { ...body, channel: recipient, ...(str(o.username) ? { username: o.username } : {}) }, { Authorization: `Bearer ${String(o.token)}` });
  let parsed: { ok?: boolean; error?: string } = {};
  try {
    parsed = JSON.parse(answer) as typeof parsed;
  } catch {
    throw new DeliveryError('Slack answered something other than JSON');
  }
  if (parsed.ok !== true) throw new DeliveryError(`Slack refused the message: ${parsed.error ?? 'no reason given'}`);
}

async function teams(service: ServiceConfig, message: NotificationTemplate, recipient: string): Promise<void> {
  const urls = service.options.recipientUrls as Record<string, unknown>;
  const url = str(urls[recipient]);
  if (!url) throw new DeliveryError(`no recipientUrls entry for recipient "${recipient}"`);
  const text = message.teams?.text ?? message.message ?? '';
  await post(url, { '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: message.teams?.title ?? text.slice(0, 80), title: message.teams?.title, text });
}

async function email(service: ServiceConfig, message: NotificationTemplate, recipient: string): Promise<void> {
  const o = service.options;
  const port = typeof o.port === 'number' ? o.port : Number(o.port ?? 587);
  const { default: nodemailer } = await importOnDemand<typeof import('nodemailer')>('nodemailer'); // about 40 modules: loaded by the first email only
  const transport = nodemailer.createTransport({
    host: String(o.host),
    port,
    secure: port === 465,
    auth: str(o.username) ? { user: o.username as string, pass: String(o.password ?? '') } : undefined,
    tls: { rejectUnauthorized: o.insecure_skip_verify !== true },
    connectionTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({ from: String(o.from), to: recipient, subject: message.email?.subject ?? 'Rollout notification', text: message.email?.body ?? message.message ?? '' });
  } catch (err) {
    throw new DeliveryError(`the SMTP server refused or could not be reached (${(err as { code?: string }).code ?? 'error'})`);
  } finally {
    transport.close();
  }
}

function parseJsonField(raw: string, field: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new DeliveryError(`the rendered ${field} is not JSON: ${(err as Error).message}`);
  }
}

/** Sends one rendered message through a service to a recipient. */
export async function send(service: ServiceConfig, message: NotificationTemplate, recipient: string): Promise<void> {
  switch (service.type) {
    case 'webhook':
      return webhook(service, message);
    case 'slack':
      return slack(service, message, recipient);
    case 'teams':
      return teams(service, message, recipient);
    case 'email':
      return email(service, message, recipient);
  }
}
