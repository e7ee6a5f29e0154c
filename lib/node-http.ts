// node:http and node:https, taken through getBuiltinModule at first use rather than imported:
// importing node:http evaluates every export, and its lazy WebSocket export then loads undici (about
// 27 ms of CPU at every start, profiled); and V8 cannot hold either module in the startup snapshot
// the image starts from (tools/build-snapshot.ts), so no module may load them at its top level.
export const nodeHttp = (): typeof import('node:http') => process.getBuiltinModule('node:http');
export const nodeHttps = (): typeof import('node:https') => process.getBuiltinModule('node:https');
