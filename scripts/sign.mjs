#!/usr/bin/env node
// Prints an X-Funnel-Signature header value for a body, signed with the
// INGEST_HMAC_SECRET of .dev.vars (the secret itself is never printed).
// Usage: node scripts/sign.mjs '<body>'   (or the body on stdin)
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vars = Object.fromEntries(
  readFileSync(join(root, ".dev.vars"), "utf8")
    .split("\n")
    .filter((line) => line.includes("=") && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")).trim(), line.slice(line.indexOf("=") + 1).trim()]),
);
const secret = vars.INGEST_HMAC_SECRET;
if (!secret) {
  console.error("INGEST_HMAC_SECRET is not in .dev.vars; run scripts/dev.sh once to create it");
  process.exit(1);
}
const body = process.argv[2] ?? readFileSync(0, "utf8");
const t = Math.floor(Date.now() / 1000);
const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
process.stdout.write(`t=${t},v1=${v1}`);
