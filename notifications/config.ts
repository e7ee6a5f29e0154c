// The notification configuration: Argo's ConfigMap format (service.<type>[.<name>],
// template.<name>, trigger.<name>, defaultTriggers, context) with `$key` references to the Secret.
// Parsing is pure: it answers the configuration and every problem, each naming its data key.
import { parse as parseYaml } from 'yaml';
import { parseExpression, ExpressionError } from '../analysis/expression.ts';
import { BUILTIN_TEMPLATES, BUILTIN_TRIGGERS } from './builtin.ts';
import { checkTemplate } from './render.ts';
import { SECRET_NAME } from './names.ts';

export { ARGO_CONFIGMAP_NAME, CONFIGMAP_NAME, SECRET_NAME } from './names.ts';
export const SERVICE_TYPES = ['webhook', 'slack', 'teams', 'email'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export interface TriggerCondition {
  when: string;
  send: string[];
  oncePer?: string | undefined;
  description?: string | undefined;
}

/** Per service type, the fields of a message; `message` is the text every service falls back to. */
export interface NotificationTemplate {
  message?: string | undefined;
  email?: { subject?: string | undefined; body?: string | undefined } | undefined;
  slack?: { attachments?: string | undefined; blocks?: string | undefined } | undefined;
  teams?: { title?: string | undefined; text?: string | undefined } | undefined;
  webhook?: Record<string, { method?: string | undefined; path?: string | undefined; body?: string | undefined }> | undefined;
}

export interface ServiceConfig {
  /** the name subscriptions use: the type, or the type's own name (`service.webhook.audit` → audit) */
  name: string;
  type: ServiceType;
  /** the entry's options, with `$key` references replaced by the Secret's values */
  options: Record<string, unknown>;
}

export interface NotificationConfig {
  services: Map<string, ServiceConfig>;
  templates: Map<string, NotificationTemplate>;
  triggers: Map<string, TriggerCondition[]>;
  defaultTriggers: string[];
  context: Record<string, string>;
  /** every value taken from the Secret: what redaction must hide */
  secretValues: string[];
}

export interface ConfigIssue {
  key: string;
  message: string;
}

const asList = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function yamlOf(key: string, text: string, issues: ConfigIssue[]): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    issues.push({ key, message: `is not valid YAML: ${(err as Error).message.split('\n')[0]}` });
    return undefined;
  }
}

/** Replaces `$key` in every string of a service's options by the Secret's value; a missing key is an issue. */
function resolveSecrets(value: unknown, secret: Record<string, string>, key: string, used: Set<string>, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$([A-Za-z0-9_.-]+)/g, (whole, name: string) => {
      const found = secret[name];
      if (found === undefined) {
        issues.push({ key, message: `refers to $${name}, which the Secret ${SECRET_NAME} does not have: add the key ${name} to the Secret or correct the reference` });
        return whole;
      }
      used.add(found);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveSecrets(v, secret, key, used, issues));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, secret, key, used, issues)]));
  return value;
}

function parseService(key: string, text: string, secret: Record<string, string>, used: Set<string>, issues: ConfigIssue[]): ServiceConfig | undefined {
  const [, type, name] = key.split('.', 3) as [string, string, string | undefined];
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) {
    issues.push({ key, message: `unknown service type "${type}": use one of ${SERVICE_TYPES.join(', ')}` });
    return undefined;
  }
  const parsed = yamlOf(key, text, issues);
  if (parsed !== undefined && parsed !== null && !isRecord(parsed)) {
    issues.push({ key, message: 'must be a YAML mapping of the service options' });
    return undefined;
  }
  const options = resolveSecrets(parsed ?? {}, secret, key, used, issues) as Record<string, unknown>;
  const missing = requiredOptions(type as ServiceType, options);
  if (missing) issues.push({ key, message: missing });
  return { name: name ?? type, type: type as ServiceType, options };
}

function requiredOptions(type: ServiceType, o: Record<string, unknown>): string | undefined {
  switch (type) {
    case 'webhook':
      return typeof o.url === 'string' ? undefined : 'needs url: the address the webhook posts to';
    case 'slack':
      return typeof o.token === 'string' || typeof o.webhookURL === 'string' ? undefined : 'needs token (a bot token, with the channel as the recipient) or webhookURL (an incoming webhook)';
    case 'teams':
      return isRecord(o.recipientUrls) ? undefined : 'needs recipientUrls: a mapping of recipient name to incoming webhook URL';
    case 'email':
      return typeof o.host === 'string' && typeof o.from === 'string' ? undefined : 'needs host and from (and port, username, password as the server wants)';
  }
}

function parseTrigger(key: string, text: string, issues: ConfigIssue[]): TriggerCondition[] | undefined {
  const list = asList(yamlOf(key, text, issues));
  if (!list) {
    issues.push({ key, message: 'must be a YAML list of conditions, each with send (template names) and, optionally, when and oncePer' });
    return undefined;
  }
  const conditions: TriggerCondition[] = [];
  list.forEach((item, i) => {
    const at = `${key}[${i}]`;
    const send = isRecord(item) ? asList(item.send) : undefined;
    if (!isRecord(item) || !send || send.some((s) => typeof s !== 'string')) {
      issues.push({ key: at, message: 'needs send: a list of template names' });
      return;
    }
    const when = typeof item.when === 'string' ? item.when : 'true';
    for (const [field, source] of [['when', when], ['oncePer', item.oncePer]] as const) {
      if (typeof source !== 'string') continue;
      try {
        parseExpression(source, { variables: ['rollout'] });
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        issues.push({ key: `${at}.${field}`, message: err.message });
      }
    }
    conditions.push({ when, send: send as string[], oncePer: typeof item.oncePer === 'string' ? item.oncePer : undefined, description: typeof item.description === 'string' ? item.description : undefined });
  });
  return conditions;
}

function parseTemplate(key: string, text: string, issues: ConfigIssue[]): NotificationTemplate | undefined {
  const parsed = yamlOf(key, text, issues);
  if (!isRecord(parsed)) {
    issues.push({ key, message: 'must be a YAML mapping with message and, per service, its fields (email.subject, slack.attachments, teams.title, webhook.<name>.body)' });
    return undefined;
  }
  const check = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      const problem = checkTemplate(value);
      if (problem) issues.push({ key: `${key}: ${path}`, message: problem });
    } else if (isRecord(value)) for (const [k, v] of Object.entries(value)) check(v, path ? `${path}.${k}` : k);
  };
  check(parsed, '');
  return parsed as NotificationTemplate;
}

/** Reads the ConfigMap's data (and the Secret's decoded data) on top of the built-in triggers and templates. */
export function parseConfig(data: Record<string, string>, secret: Record<string, string> = {}): { config: NotificationConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const used = new Set<string>();
  const config: NotificationConfig = {
    services: new Map(),
    templates: new Map(Object.entries(BUILTIN_TEMPLATES)),
    triggers: new Map(Object.entries(BUILTIN_TRIGGERS)),
    defaultTriggers: [],
    context: {},
    secretValues: [],
  };
  for (const [key, text] of Object.entries(data)) {
    if (key.startsWith('service.')) {
      const service = parseService(key, text, secret, used, issues);
      if (service) config.services.set(service.name, service);
    } else if (key.startsWith('trigger.')) {
      const trigger = parseTrigger(key, text, issues);
      if (trigger) config.triggers.set(key.slice('trigger.'.length), trigger);
    } else if (key.startsWith('template.')) {
      const template = parseTemplate(key, text, issues);
      if (template) config.templates.set(key.slice('template.'.length), template);
    } else if (key === 'defaultTriggers') {
      const list = asList(yamlOf(key, text, issues));
      if (list && list.every((t) => typeof t === 'string')) config.defaultTriggers = list as string[];
      else issues.push({ key, message: 'must be a YAML list of trigger names' });
    } else if (key === 'context') {
      const ctx = yamlOf(key, text, issues);
      if (isRecord(ctx)) config.context = Object.fromEntries(Object.entries(ctx).map(([k, v]) => [k, String(v)]));
      else issues.push({ key, message: 'must be a YAML mapping of names to values (dashboardURL: ...)' });
    } else {
      issues.push({ key, message: 'is not a notification setting: keys are service.<type>[.<name>], template.<name>, trigger.<name>, defaultTriggers or context' });
    }
  }
  crossCheck(config, issues);
  config.secretValues = [...used].filter((v) => v.length > 0);
  return { config, issues };
}

/** Names that must resolve: each trigger's templates, and the default triggers. */
function crossCheck(config: NotificationConfig, issues: ConfigIssue[]): void {
  for (const [name, conditions] of config.triggers) {
    conditions.forEach((c, i) => {
      for (const t of c.send) if (!config.templates.has(t)) issues.push({ key: `trigger.${name}[${i}].send`, message: `names template "${t}", which is not configured: add template.${t} or correct the name` });
    });
  }
  for (const t of config.defaultTriggers) if (!config.triggers.has(t)) issues.push({ key: 'defaultTriggers', message: `names trigger "${t}", which is not configured: add trigger.${t} or correct the name` });
}
