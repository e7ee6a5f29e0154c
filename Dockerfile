# The controller image. Same Node major as development (the `node` dev dependency): Node 26 LTS.
# Two stages: the build stage compiles the TypeScript the entrypoint imports to JavaScript
# (tsconfig.build.json: types erased, relative `.ts` imports rewritten to `.js`); the image runs
# that JavaScript. A new pod starts with an empty compile cache, where type stripping cost ~400 ms
# of CPU and ~33 MiB of resident memory at every start (measured; README "Benchmarks").
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
RUN set -e; node_modules/.bin/tsc -p tsconfig.build.json; cp -r dashboard/static dist/dashboard/static

FROM node:26-slim
WORKDIR /opt/rollway
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# The compiled program, laid out as the repository is (cli/rollway.js, controller/…, dashboard/static).
COPY --from=build /opt/rollway/dist ./
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
ENTRYPOINT ["node", "cli/rollway.js"]
CMD ["controller", "--log-format", "json"]
