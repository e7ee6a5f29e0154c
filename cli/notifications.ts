// `rollway notifications templates` and `rollway notifications test TRIGGER --rollout NAME`:
// what the notification ConfigMap configures, and what a trigger would send for a Rollout now.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { KubeClient } from '../kube/client.ts';
import { Redactor } from '../analysis/redact.ts';
import { BUILTIN_TEMPLATES, BUILTIN_TRIGGERS } from '../notifications/builtin.ts';
import { CONFIGMAP_NAME, parseConfig, type NotificationConfig, type NotificationTemplate } from '../notifications/config.ts';
import { loadConfigObjects, revisionOf } from '../notifications/notifier.ts';
import { renderTree, valuesFor } from '../notifications/render.ts';
import { send } from '../notifications/services.ts';
import { evaluateOn, parseSubscriptions, type RolloutLike } from '../notifications/triggers.ts';

type Out = (line: string) => void;

async function load(client: KubeClient, namespace: string, out: Out): Promise<NotificationConfig> {
  const { data, secret } = await loadConfigObjects(client, namespace);
  const { config, issues } = parseConfig(data, secret);
  if (Object.keys(data).length === 0) out(`(no ${CONFIGMAP_NAME} in namespace ${namespace}: only the built-in triggers and templates)`);
  for (const issue of issues) out(`warning: ${CONFIGMAP_NAME} ${issue.key}: ${issue.message}`);
  return config;
}

/** Lists the services, triggers and templates configured (built-in ones marked). */
export async function listTemplates(client: KubeClient, configNamespace: string, out: Out): Promise<number> {
  const config = await load(client, configNamespace, out);
  out('SERVICES');
  for (const s of config.services.values()) out(`  ${s.name}\t${s.type}`);
  if (config.services.size === 0) out('  (none: add service.<type> entries)');
  out('TRIGGERS');
  for (const [name, conditions] of config.triggers) {
    const origin = BUILTIN_TRIGGERS[name] === conditions ? ' (built-in)' : '';
    for (const c of conditions) out(`  ${name}${origin}\twhen: ${c.when}\tsend: ${c.send.join(', ')}${c.oncePer ? `\toncePer: ${c.oncePer}` : ''}`);
  }
  out(`DEFAULT TRIGGERS\n  ${config.defaultTriggers.join(', ') || '(none)'}`);
  out('TEMPLATES');
  for (const [name, t] of config.templates) out(`  ${name}${BUILTIN_TEMPLATES[name] === t ? ' (built-in)' : ''}\t${Object.keys(t).join(', ')}`);
  return 0;
}

export interface TestOptions {
  trigger: string;
  rollout: string;
  namespace: string;
  configNamespace: string;
  /** service[:recipient] to render for instead of the Rollout's subscriptions */
  to?: string | undefined;
  send: boolean;
}

/** Evaluates a trigger on a Rollout, prints what each subscribed service would get, and sends it with --send. */
export async function testTrigger(client: KubeClient, o: TestOptions, out: Out): Promise<number> {
  const config = await load(client, o.configNamespace, out);
  const conditions = config.triggers.get(o.trigger);
  if (!conditions) {
    out(`error: trigger "${o.trigger}" is not configured; configured: ${[...config.triggers.keys()].join(', ')}`);
    return 1;
  }
  const rollout = (await client.get({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: o.namespace, name: o.rollout })) as RolloutLike & { metadata: { uid?: string } };
  const [svc, recipient] = o.to ? [o.to.split(':')[0] ?? '', o.to.split(':').slice(1).join(':')] : [];
  const subs = svc !== undefined ? [{ trigger: o.trigger, service: svc, recipient: recipient ?? '' }] : parseSubscriptions(rollout.metadata.annotations, config.defaultTriggers).filter((s) => s.trigger === o.trigger);
  if (subs.length === 0) out(`(rollout ${o.rollout} has no subscription to ${o.trigger}: give --to SERVICE[:RECIPIENT] to render for one)`);
  const redactor = new Redactor(config.secretValues);
  const revision = await revisionOf(client, rollout);
  let failed = 0;
  for (const [i, condition] of conditions.entries()) {
    out(`condition ${i}: when ${condition.when} → ${evaluateOn(condition.when, rollout) === true ? 'met' : 'not met'}`);
    for (const sub of subs) {
      const service = config.services.get(sub.service);
      if (!service) {
        out(`  ${sub.service}: not configured`);
        failed++;
        continue;
      }
      for (const name of condition.send) {
        const template = config.templates.get(name) as NotificationTemplate;
        const message = await renderTree(template, valuesFor(rollout as Parameters<typeof valuesFor>[0], config.context, { type: service.type, recipient: sub.recipient, revision }));
        out(`  ${sub.service}${sub.recipient ? `:${sub.recipient}` : ''} template ${name}:\n${redactor.text(JSON.stringify(message, null, 2)).replace(/^/gm, '    ')}`);
        if (!o.send) continue;
        try {
          await send(service, message, sub.recipient);
          out('    sent');
        } catch (err) {
          out(`    not sent: ${redactor.text((err as Error).message)}`);
          failed++;
        }
      }
    }
  }
  return failed > 0 ? 1 : 0;
}
