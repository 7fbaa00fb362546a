# The Rollcall controller image the Helm chart runs. Node 24 runs the TypeScript sources directly,
# so there is no build step. (Not built in CI here: this machine has no container engine.)
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "bin/rollcall.js"]
CMD ["run"]
