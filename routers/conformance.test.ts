// The router conformance suite against every built-in router on the in-memory KubeApi: the same
// promises the e2e run checks on the real control plane, in milliseconds, in `make unit`.
import { gatewayApiFixture } from './gateway-api/fixture.ts';
import { istioFixture } from './istio/fixture.ts';
import { nginxFixture } from './nginx/fixture.ts';
import { smiFixture } from './smi/fixture.ts';
import { inMemorySuite, routerConformance } from './conformance.ts';

for (const fixture of [istioFixture(false), istioFixture(true), nginxFixture(), smiFixture(), gatewayApiFixture()]) {
  routerConformance(fixture, inMemorySuite());
}
