// The Traefik router through the shared router conformance suite on the in-memory KubeApi.
import { inMemorySuite, routerConformance } from '../conformance.ts';
import { traefikFixture } from './fixture.ts';

routerConformance(traefikFixture(), inMemorySuite());
