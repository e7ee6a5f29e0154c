// The controller's surface for the code built on it (client/, cli/, dashboard/, tools, tests): the
// step arithmetic the views share with the planner, and the traffic release `rollway uninstall`
// and `rollway doctor` run (the revision hash is api/hash.ts). Everything else in controller/ is internal;
// tools/layers.test.ts fails on an import from another folder that bypasses this file. The
// process entry, controller/main.ts, is loaded on its own (lazily) by `rollway controller`.
export { durationMs, effectiveWeight } from './planner.ts';
export { dropFinalizer, releaseOrphan, releaseTrafficRouting, routingToRelease, subjectOf, type ReleaseOutcome } from './release.ts';
export { describeObjects, findOrphanedRouting } from './routing-marks.ts';
