#!/usr/bin/env node
// A local webhook receiver for the alert tests: listens on 127.0.0.1:<port>
// (argv[2]) and appends each request it gets as one JSON line
// ({method, path, headers, body}) to the file argv[3]; answers 200.
// Started by run.mjs before the worker; its URL is ALERT_WEBHOOK_URLS.
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";

const [port, file] = process.argv.slice(2);
createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    appendFileSync(file, JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body }) + "\n");
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
}).listen(Number(port), "127.0.0.1", () => console.log("listening"));
