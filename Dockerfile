# The controller image. Same Node major as development (the `node` dev dependency): Node 26 LTS.
# Two stages: the build stage compiles the TypeScript the entrypoint imports to JavaScript
# (tsconfig.build.json: types erased, relative `.ts` imports rewritten to `.js`) and bundles the
# program into one script (tools/build-snapshot.ts). The last stage makes a V8 startup snapshot of
# that script with its own Node, and the image starts from the snapshot: no module is read, compiled
# or evaluated at start (start -> ready on an empty cluster 246 -> 121 ms median, CPU 290 -> 114 ms;
# README "Benchmarks"). `node cli/rollway.js` runs the same CLI from the compiled files.
FROM node:26-slim AS build
WORKDIR /opt/rollway
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN set -e; npm ci --ignore-scripts --no-audit --no-fund
# Every folder the entrypoint imports (tools/image-files.test.ts checks it against the imports;
# e2e/image.test.ts runs the controller from exactly these files). .dockerignore drops tests.
COPY api ./api
COPY analysis ./analysis
COPY controller ./controller
COPY routers ./routers
COPY crds-types ./crds-types
COPY kube ./kube
COPY client ./client
COPY lib ./lib
COPY cli ./cli
COPY dashboard ./dashboard
COPY notifications ./notifications
COPY tools/build-snapshot.ts ./tools/build-snapshot.ts
RUN set -e; node_modules/.bin/tsc -p tsconfig.build.json; cp -r dashboard/static dist/dashboard/static; node tools/build-snapshot.ts --bundle-only dist

FROM node:26-slim
WORKDIR /opt/rollway
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# The compiled program, laid out as the repository is (cli/rollway.js, controller/…, dashboard/static),
# and its bundle rollway.cjs. The snapshot is made here, by the Node that runs it (a blob only loads
# in the Node binary that wrote it), and stays beside the program: it finds the dashboard's page and
# node_modules (exec credentials, email, router plugins) relative to where it was built. An empty
# environment: nothing of the build's may be frozen into it (tools/build-snapshot.ts says why).
COPY --from=build /opt/rollway/dist ./
RUN env -i "$(command -v node)" --snapshot-blob rollway.blob --build-snapshot rollway.cjs
# Memory settings, measured with 1000 Rollouts right after a restart (README "Benchmarks"): glibc
# gives every thread that allocates (V8's worker threads) a malloc arena of its own, and V8 grows
# its young generation to 16 MiB under the relist's allocation burst. Two arenas and 1 MiB
# semi-spaces: 124 -> 116 MiB resident (mean of 6 starts each, 109-128). Blocks of 32 KiB and more
# mapped apart and unmapped when freed, instead of left as fragments in the arenas (smaps: the
# second arena 9.8 -> 2.9 MiB): 118-121 -> 105-111 MiB (4 starts each), CPU to ready unchanged.
# A NODE_OPTIONS set on the Deployment replaces this one.
ENV MALLOC_ARENA_MAX=2
ENV MALLOC_MMAP_THRESHOLD_=32768
ENV NODE_OPTIONS=--max-semi-space-size=1
USER 65532:65532
ENTRYPOINT ["node", "--snapshot-blob", "rollway.blob"]
CMD ["controller", "--log-format", "json"]
