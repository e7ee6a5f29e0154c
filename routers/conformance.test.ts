// The router conformance suite against every built-in router on the in-memory KubeApi: the same
// promises the e2e run checks on the real control plane, in milliseconds, in `make unit`.
import { gatewayApiFixture } from './gateway-api/fixture.ts';
import { istioFixture } from './istio/fixture.ts';
import { nginxFixture } from './nginx/fixture.ts';
import { smiFixture } from './smi/fixture.ts';
import { inMemorySuite, routerConformance, type RouterFixture } from './conformance.ts';

/** The Gateway API fixture configured as Argo users write it: trafficRouting.plugins["argoproj-labs/gatewayAPI"]. */
function viaArgoPlugin(fixture: RouterFixture): RouterFixture {
  return {
    ...fixture,
    title: `${fixture.title} (as Argo's argoproj-labs/gatewayAPI plugin)`,
    async setup(env) {
      const { gatewayAPI, ...routing } = (await fixture.setup(env)) as { gatewayAPI: { httpRoutes: { name: string }[] } };
      return { ...routing, plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: gatewayAPI.httpRoutes[0]!.name, namespace: env.namespace } } };
    },
  };
}

for (const fixture of [istioFixture(false), istioFixture(true), nginxFixture(), smiFixture(), gatewayApiFixture(), viaArgoPlugin(gatewayApiFixture())]) {
  routerConformance(fixture, inMemorySuite());
}
