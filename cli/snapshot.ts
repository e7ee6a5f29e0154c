// The entry of the startup snapshot the container image runs (tools/build-snapshot.ts): the whole
// program bundled into one script, every module the controller needs at start evaluated once at
// image build time, and the heap that leaves saved. `node --snapshot-blob rollway.blob ARGS` then
// starts from that heap and calls main(ARGS) (cli/rollway.js is still there and runs the same CLI
// without the snapshot).
// What runs at build time is frozen into the image: no module of the program may read the
// environment, the arguments or the clock at its top level, only inside functions.
import v8 from 'node:v8';
import { main } from './commands.ts';
// `rollway controller` loads these on demand; the snapshot holds them evaluated.
import '../controller/main.ts';

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // As the launcher does (cli/rollway.js says why), before the program allocates.
  v8.setFlagsFromString('--optimize-for-size');
  // A restored snapshot's argv is [node, ...arguments]: no script path.
  main(process.argv.slice(1));
});
