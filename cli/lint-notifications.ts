// lint's checks of the notification ConfigMap: each of parseConfig's problems at its data key.
// `$key` references are checked against the notification Secret when the file holds it.
import type { SpecIssue } from '../api/issues.ts';
import { ARGO_CONFIGMAP_NAME, CONFIGMAP_NAME, parseConfig, SECRET_NAME } from '../notifications/config.ts';
import { field, isRecord, str, type Raw } from './raw.ts';

export function isNotificationConfigMap(obj: Raw): boolean {
  const name = str(field(obj, 'metadata', 'name'));
  return obj.kind === 'ConfigMap' && (name === CONFIGMAP_NAME || name === ARGO_CONFIGMAP_NAME);
}

function secretKeys(all: Raw[]): Record<string, string> | undefined {
  const secret = all.find((o) => o.kind === 'Secret' && str(field(o, 'metadata', 'name')) === SECRET_NAME);
  if (!secret) return undefined;
  const keys = [...Object.keys(isRecord(secret.data) ? secret.data : {}), ...Object.keys(isRecord(secret.stringData) ? secret.stringData : {})];
  return Object.fromEntries(keys.map((k) => [k, 'x'])); // only the keys matter here, never the values
}

export function lintNotificationConfigMap(obj: Raw, all: Raw[], add: (issue: SpecIssue, severity?: 'error' | 'warning') => void): void {
  if (str(field(obj, 'metadata', 'name')) === ARGO_CONFIGMAP_NAME) {
    add({ path: 'metadata.name', message: `is Argo Rollouts' name for the notification ConfigMap`, fix: `rename it ${CONFIGMAP_NAME} (and its Secret ${SECRET_NAME}); the data keys stay as they are` }, 'warning');
  }
  const data = isRecord(obj.data) ? obj.data : {};
  const text = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  // Without the Secret in the file, any `$key` may be in it: treat every reference as present.
  const secret = secretKeys(all) ?? new Proxy({}, { get: () => 'x' });
  for (const issue of parseConfig(text, secret).issues) {
    const [key, part] = issue.key.split(': ');
    const bracket = /^(.*?)(\[\d+\].*)$/.exec(key ?? '');
    const dataKey = bracket ? bracket[1] : key;
    add({ path: `data[${JSON.stringify(dataKey)}]${bracket ? bracket[2] : ''}${part ? `.${part}` : ''}`, message: issue.message, fix: 'see the notifications section of the README for the format' });
  }
}
