# The bot on Node 20: `docker build -t kie-bot . && docker run --env-file .env -v kie-data:/data -p 8080:8080 kie-bot`
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json deno.json ./
COPY src ./src
COPY actors ./actors
COPY catalog ./catalog
COPY tools ./tools
# Plain JavaScript in every thread (see tools/build-node.ts): what `npm start` runs.
RUN npm run build
ENV KV_PATH=/data/bot.kv PORT=8080
VOLUME /data
EXPOSE 8080
# SIGTERM drains: readiness turns false, intake stops, messages in flight finish within SHUTDOWN_TIMEOUT.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
