// node:http, node:https and node:http2, taken through getBuiltinModule at first use rather than
// imported: importing node:http evaluates every export, and its lazy WebSocket export then loads
// undici (about 27 ms of CPU at every start, profiled); node:http2 costs ~5 ms that a CLI command
// answered from flags alone need not pay; and V8 cannot hold any of them in the startup snapshot the
// image starts from (tools/build-snapshot.ts), so no module may load them at its top level.
export const nodeHttp = (): typeof import('node:http') => process.getBuiltinModule('node:http');
export const nodeHttps = (): typeof import('node:https') => process.getBuiltinModule('node:https');
export const nodeHttp2 = (): typeof import('node:http2') => process.getBuiltinModule('node:http2');
