import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFinding, lintText } from './lint.ts';

const configMap = (name: string, data: string): string => `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}}
data:
${data}`;

void describe('lint: the notification ConfigMap', () => {
  void it('accepts a good one, with its Secret', () => {
    const text = `${configMap('rollway-notification-configmap', "  service.slack: |\n    token: $slack-token\n  trigger.on-done: |\n    - send: [rollout-completed]\n      when: rollout.status.phase == 'Healthy'\n")}
---
apiVersion: v1
kind: Secret
metadata: {name: rollway-notification-secret}
stringData: {slack-token: xoxb-1}
`;
    assert.deepEqual(lintText(text), []);
  });

  void it('names the data key of each mistake: unknown service, missing secret key, template and condition errors', () => {
    const text = `${configMap('rollway-notification-configmap', '  service.pager: "url: x"\n  service.slack: "token: $nope"\n  template.t: "message: \'{{ x \'"\n  trigger.on-x: |\n    - send: [t]\n      when: "rollout.status.phase =="\n')}
---
apiVersion: v1
kind: Secret
metadata: {name: rollway-notification-secret}
stringData: {slack-token: xoxb-1}
`;
    const lines = lintText(text).map((f) => formatFinding('n.yaml', f));
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines.join('\n'), /data\["service.pager"\].*unknown service type "pager"/);
    assert.match(lines.join('\n'), /data\["service.slack"\].*refers to \$nope, which the Secret rollway-notification-secret does not have/);
    assert.match(lines.join('\n'), /data\["template.t"\].message.*not a valid template/);
    assert.match(lines.join('\n'), /data\["trigger.on-x"\]\[0\].when/);
    assert.ok(!lines.join('\n').includes('xoxb-1'));
  });

  void it('warns about Argo’s name, and trusts $references when the Secret is not in the file', () => {
    const findings = lintText(configMap('argo-rollouts-notification-configmap', '  service.slack: "token: $slack-token"\n'));
    assert.deepEqual(findings.map((f) => [f.severity, f.path]), [['warning', 'metadata.name']]);
    assert.match(findings[0]?.fix ?? '', /rename it rollway-notification-configmap/);
  });
});
