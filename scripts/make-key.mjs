#!/usr/bin/env node
// Makes a named bearer key with one role and prints the line to add to the
// API_KEYS secret (which holds only SHA-256 hashes, never the keys):
//
//   node scripts/make-key.mjs support read
//
// A publishable key for browser collection (public, one per site; its line goes
// into the PUBLISHABLE_KEYS variable, with the origins whose pages may send):
//
//   node scripts/make-key.mjs docs publishable https://docs.example.com https://example.com
//
// The key itself is printed once, on stderr, for you to hand to its user;
// nothing is stored. Rotate by adding a new line, moving the sender to the
// new key, then removing the old line. Roles: ingest, read, admin.
import { createHash, randomBytes } from "node:crypto";

const [name, role, ...origins] = process.argv.slice(2);
if (role === "publishable") {
  // Not a secret: the key sits in the site's pages. The line holds the key itself.
  if (!/^[a-z0-9_-]{1,32}$/.test(name ?? "") || origins.length === 0 ||
      !origins.every((o) => /^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/.test(o))) {
    console.error("usage: node scripts/make-key.mjs <site: [a-z0-9_-]{1,32}> publishable <origin: https://host[:port]>…");
    process.exit(2);
  }
  console.log(`pk_${randomBytes(18).toString("base64url")}:${name}:${origins.join(",")}`);
  process.exit(0);
}
if (!name || !/^[A-Za-z0-9_-]{1,64}$/.test(name) || name.startsWith("internal")) {
  console.error("usage: node scripts/make-key.mjs <name: [A-Za-z0-9_-]{1,64}, not internal…> <ingest|read|admin>");
  process.exit(2);
}
if (!["ingest", "read", "admin"].includes(role)) {
  console.error("the role must be ingest, read or admin");
  process.exit(2);
}
const key = `fk_${role}_${randomBytes(24).toString("base64url")}`;
const hash = createHash("sha256").update(key).digest("hex");
console.error(`key for ${name} (${role}), shown once: ${key}`);
console.log(`${name}:${role}:${hash}`);
