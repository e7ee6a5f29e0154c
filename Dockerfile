# The controller image. Same Node major as development (the `node` dev dependency): Node 26 LTS.
# TypeScript runs directly through Node's type stripping; no build step.
FROM node:26-slim
WORKDIR /opt/rollway
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY api ./api
COPY controller ./controller
COPY routers ./routers
COPY crds-types ./crds-types
COPY kube ./kube
COPY cli ./cli
USER 65532:65532
ENTRYPOINT ["node", "cli/rollway.ts"]
CMD ["controller", "--log-format", "json"]
