import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.ts';
import { checkTemplate, renderText, renderTree, valuesFor } from './render.ts';

const keys = (issues: { key: string }[]): string[] => issues.map((i) => i.key);

void describe('parseConfig: an Argo-shaped ConfigMap', () => {
  void it('reads services with $secret references, triggers, templates, defaultTriggers and context', () => {
    const { config, issues } = parseConfig(
      {
        'service.slack': 'token: $slack-token\napiURL: http://127.0.0.1:9/api\n',
        'service.webhook.audit': 'url: http://127.0.0.1:9/hook\nheaders:\n- name: X-Key\n  value: $hook-key\n',
        'trigger.on-image-purple': "- send: [rollout-paused]\n  when: rollout.spec.template.spec.containers[0].image == 'demo:purple'\n",
        'template.my-done': 'message: done {{.rollout.metadata.name}}\n',
        defaultTriggers: '- on-rollout-completed\n- on-rollout-aborted\n',
        context: 'dashboardURL: http://dash.example\n',
      },
      { 'slack-token': 'xoxb-very-secret', 'hook-key': 'k3y' },
    );
    assert.deepEqual(issues, []);
    assert.equal(config.services.get('slack')?.options.token, 'xoxb-very-secret');
    assert.deepEqual(config.services.get('audit')?.options.headers, [{ name: 'X-Key', value: 'k3y' }]);
    assert.equal(config.services.get('audit')?.type, 'webhook');
    assert.ok(config.triggers.has('on-image-purple') && config.triggers.has('on-rollout-paused'), 'own and built-in triggers');
    assert.deepEqual(config.defaultTriggers, ['on-rollout-completed', 'on-rollout-aborted']);
    assert.equal(config.context.dashboardURL, 'http://dash.example');
    assert.deepEqual(config.secretValues.sort(), ['k3y', 'xoxb-very-secret']);
  });

  void it('names the key of each mistake and the fix, never the Secret values', () => {
    const { issues } = parseConfig(
      {
        'service.pager': 'url: x',
        'service.slack': 'token: $no-such-key',
        'service.email': 'host: smtp.local',
        'trigger.on-x': '- send: [missing-template]\n  when: rollout.status.phase ==',
        'trigger.on-y': 'send: [a]',
        'template.bad': 'message: "{{ rollout.metadata.name "',
        'template.go': 'message: "{{if .rollout.status.abort}}aborted{{end}}"',
        defaultTriggers: '- on-nothing',
        'weird.key': 'x',
      },
      { other: 'hunter2' },
    );
    assert.deepEqual(keys(issues).sort(), ['defaultTriggers', 'service.email', 'service.pager', 'service.slack', 'template.bad: message', 'template.go: message', 'trigger.on-x[0].send', 'trigger.on-x[0].when', 'trigger.on-y', 'weird.key']);
    const text = issues.map((i) => `${i.key} ${i.message}`).join('\n');
    assert.match(text, /service.pager unknown service type "pager": use one of webhook, slack, teams, email/);
    assert.match(text, /refers to \$no-such-key, which the Secret rollway-notification-secret does not have/);
    assert.match(text, /names template "missing-template", which is not configured/);
    assert.match(text, /Go template action \{\{if\}\}/);
    assert.ok(!text.includes('hunter2'));
  });
});

void describe('templates (LiquidJS)', () => {
  const rollout = {
    metadata: { name: 'web', namespace: 'shop', annotations: { 'rollway.dev/revision': '3' } },
    spec: { template: { spec: { containers: [{ image: 'web:2' }, { image: 'side:1' }] } } },
    status: { currentStepIndex: 2, canary: { weights: { canary: { weight: 20 } }, currentStepAnalysisRunStatus: { name: 'r', status: 'Failed', message: 'error rate 7%' } } },
  };

  void it('renders Argo field references and the ready-made values', async () => {
    const values = valuesFor(rollout, { dashboardURL: 'http://d' }, { type: 'slack', recipient: '#ops' });
    const out = await renderTree({ message: '{{.rollout.metadata.name}} r{{ revision }} step {{ step }} at {{ weight }}% [{{ images | join: ", " }}] {{ analysisMessage }} {{ dashboardURL }} to {{ recipient }}', email: { subject: 'x {{ rollout.metadata.namespace }}' } }, values);
    assert.deepEqual(out, { message: 'web r3 step 2 at 20% [web:2, side:1] error rate 7% http://d to #ops', email: { subject: 'x shop' } });
  });

  void it('runs no code and reads no file', async () => {
    await assert.rejects(renderText("{% include '/etc/passwd' %}", {}));
    assert.equal(await renderText('{{ rollout.constructor.name }}{{ rollout.__proto__ }}', { rollout: {} }), '');
    assert.match(checkTemplate('{{ x | nosuchfilter }}') ?? '', /not a valid template/);
  });
});
