# smsc: one image for every process; the compose file picks the command.
# TypeScript runs through tsx (a runtime dependency), so there is no build stage.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    # mongodb-memory-server is a dependency for `smsc up` on a laptop; containers use MONGODB_URI,
    # so its postinstall must not download a mongod into the image.
    MONGOMS_DISABLE_POSTINSTALL=1 \
    # JSON logs (pino) on stderr; pretty output is only for terminals.
    LOG_FORMAT=json

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

# SMPP for ESMEs, the downstream simulator, Prometheus metrics.
EXPOSE 2775 2776 9464
USER node

# Every service overrides this with `node bin/smsc.mjs <command>`.
CMD ["node", "bin/smsc.mjs", "--help"]
