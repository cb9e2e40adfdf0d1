// A local stand-in for the ingest route: records every request and answers
// what the test scripts (by default: every event accepted, as the worker does).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingMessage["headers"];
  raw: string;
  bytes: number;
  body: { events: Array<Record<string, unknown>>; sent_at?: string };
}

export type Reply = { status: number; headers?: Record<string, string>; body?: unknown } | "drop";
export type Script = (req: Received, n: number) => Reply;

export function acceptAll(req: Received): Reply {
  return {
    status: 200,
    body: {
      success: true, processed: req.body.events.length, failed: 0, errors: [], warnings: [],
      results: req.body.events.map((e, index) => ({ index, status: "accepted", event_id: e.event_id })),
    },
  };
}

export function problem(status: number, code: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": "application/problem+json", ...headers }, body: { type: "about:blank", title: code, status, detail: code, code } };
}

export async function fakeServer(script: Script = acceptAll) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const buf = Buffer.concat(chunks);
      const raw = buf.toString("utf8");
      const r: Received = { headers: req.headers, raw, bytes: buf.length, body: JSON.parse(raw) };
      received.push(r);
      const reply = script(r, received.length);
      if (reply === "drop") {
        req.socket.destroy();
        return;
      }
      // A fresh connection per request: a runtime's HTTP client (Deno's) may silently resend a
      // request whose reused connection was dropped, which would hide the client's own retry.
      res.writeHead(reply.status, { "content-type": "application/json", connection: "close", ...reply.headers });
      res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
