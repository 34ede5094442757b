// Walks Heard's web UI journeys in Debian's headless chromium, as the people who use it would,
// checks every page with axe-core (no serious or critical violations) and for reflow at 320 px,
// and saves screenshots at 390 px and 1280 px. Run by the Rust end-to-end test `browser::…`
// against a server on port 0 seeded with the demo data:
//
//   node tests/browser/journeys.mjs http://127.0.0.1:PORT target/screenshots [NAME_FILTER]
//
// Each file in `journeys/` is one journey, run in name order. Prints one JSON line per page
// checked and exits non-zero on the first failed expectation.

import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { screenshotsTo } from "./lib.mjs";

const [base, shots = "target/screenshots", only = ""] = process.argv.slice(2);
if (!base) {
  console.error("usage: node journeys.mjs BASE_URL [SCREENSHOT_DIR] [NAME_FILTER[,NAME_FILTER…]]");
  process.exit(2);
}
screenshotsTo(shots);
const here = dirname(fileURLToPath(import.meta.url));
const journeys = readdirSync(join(here, "journeys"))
  .filter((name) => name.endsWith(".mjs") && only.split(",").some((part) => name.includes(part)))
  .sort();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  // Playwright gives every launch a fresh, empty user data directory of its own.
});

try {
  for (const name of journeys) {
    console.log(JSON.stringify({ journey: name }));
    const { default: run } = await import(pathToFileURL(join(here, "journeys", name)).href);
    await run({ browser, base });
  }
  console.log(JSON.stringify({ done: true, journeys, screenshots: shots }));
} catch (error) {
  console.error(String(error?.stack ?? error));
  await browser.close();
  process.exit(1);
}
await browser.close();
