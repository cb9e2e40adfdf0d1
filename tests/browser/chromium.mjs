// Headless Chromium for the browser tests: the machine's Debian build (playwright-core downloads
// nothing), a fresh profile each run (passed as --user-data-dir), and the flags that keep it off
// the network, which is closed here (without them it retries Google's hosts at every start).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/**
 * Starts Chromium with the context `options` (locale, timezoneId, viewport, …).
 * Returns the browser context and `close()`, which also removes the profile.
 */
export async function launchChromium(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), "funnel-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
    headless: true,
    args: ARGS,
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Collects into `errors` what goes wrong on `page`: console errors (but those
 * `ignore` matches), uncaught exceptions, and Content-Security-Policy
 * violations (an init script logs each as a console error). Returns `errors`.
 */
export async function watchErrors(page, errors = [], ignore = null) {
  page.on("console", (m) => { if (m.type() === "error" && !ignore?.test(m.text())) errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return errors;
}
