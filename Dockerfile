# The controller image. Same Node major as development (the `node` dev dependency): Node 26 LTS.
# TypeScript runs directly through Node's type stripping (no build step), started by cli/rollway.js,
# which turns on the compile cache before any TypeScript loads.
FROM node:26-slim
WORKDIR /opt/rollway
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
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
USER 65532:65532
ENTRYPOINT ["node", "cli/rollway.js"]
CMD ["controller", "--log-format", "json"]
