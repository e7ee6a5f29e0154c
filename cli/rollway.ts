#!/usr/bin/env node
// Kept for scripts and tests that name it: the launcher is rollway.js, which turns on Node's
// compile cache before any TypeScript loads (this file itself is stripped before that can happen).
await import('./rollway.js');
