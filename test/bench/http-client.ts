import http from 'node:http';

export interface HttpTarget {
  url: string;
  method: 'GET' | 'POST';
  /** Called per request so each can carry its own idempotency key. */
  headers: () => Record<string, string>;
  body?: string;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * The one HTTP client every measurement uses (ours and the bare-express ceiling alike): node:http
 * with a keep-alive agent, so connection reuse is the same on both sides of a ratio.
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(maxSockets = 64) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  send(target: HttpTarget): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const request = http.request(target.url, { method: target.method, agent: this.agent, headers: target.headers() }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(target.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
