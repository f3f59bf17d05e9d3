# smsc: one image for every process; the compose file picks the command.

# Build stage: the TypeScript is compiled once (npm run build -> dist/); the image runs JavaScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV MONGOMS_DISABLE_POSTINSTALL=1
# The stand-in's package file too: it is a workspace of the lock file (the build compiles it,
# the image does not ship it).
COPY package.json package-lock.json ./
COPY standin/package.json standin/
# --ignore-scripts: `prepare` builds, and the sources are not here yet.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    # mongodb-memory-server is a dependency for `smsc up` on a laptop; containers use MONGODB_URI,
    # so its postinstall must not download a mongod into the image.
    MONGOMS_DISABLE_POSTINSTALL=1 \
    # JSON logs (pino) on stderr; pretty output is only for terminals.
    LOG_FORMAT=json

COPY package.json package-lock.json ./
# Runtime dependencies only; --ignore-scripts because `prepare` (the build) needs the devDependencies;
# --workspaces=false leaves out the stand-in's package and what only it uses.
RUN npm ci --omit=dev --workspaces=false --no-audit --no-fund --ignore-scripts && npm cache clean --force

# Only what the product runs: the command, the compiled modules (with the control panel's files)
# and the build stamp bin/smsc.mjs checks. Neither the stand-in nor the tests nor the scripts:
# `smsc up` in the image needs MONGODB_URI.
COPY bin/ ./bin/
COPY README.md ./
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
COPY --from=build /app/dist/.build-stamp ./dist/.build-stamp

# SMPP for ESMEs, the downstream simulator, Prometheus metrics.
EXPOSE 2775 2776 9464
USER node

# Every service overrides this with `node bin/smsc.mjs <command>`.
CMD ["node", "bin/smsc.mjs", "--help"]
