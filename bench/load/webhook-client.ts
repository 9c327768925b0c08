/**
 * Posts updates to a bot's webhook route over loopback HTTP, as Telegram
 * does, on a pool of keep-alive connections (a new connection per update
 * would measure the kernel, not the bot).
 */
import http from "node:http";

/** A webhook endpoint with its secret. */
export interface WebhookTarget {
  readonly port: number;
  readonly path: string;
  readonly secret: string;
}

export function webhookClient(target: WebhookTarget, connections = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  return {
    /** Posts one update; resolves with the HTTP status (0 when the connection failed). */
    post(update: unknown): Promise<number> {
      const body = JSON.stringify(update);
      return new Promise((resolve) => {
        const request = http.request(
          {
            agent,
            host: "127.0.0.1",
            port: target.port,
            path: target.path,
            method: "POST",
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
              "x-telegram-bot-api-secret-token": target.secret,
            },
          },
          (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
          },
        );
        request.on("error", () => resolve(0));
        request.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
