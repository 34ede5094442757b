// What every journey shares: expectations, the axe-core check, screenshots and logging in.

import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
let shots = "target/screenshots";

/** Where screenshots go; the runner sets it once. */
export function screenshotsTo(dir) {
  shots = dir;
  mkdirSync(shots, { recursive: true });
}

export function fail(message) {
  throw new Error(message);
}

export function expect(condition, message) {
  if (!condition) fail(message);
}

/** Runs axe on the page; fails on any serious or critical violation. */
export async function accessible(page, name) {
  // Judged as people see it: with the stylesheet applied. A form posted back with its errors
  // is checked as soon as its error summary is there, which can be before the page has loaded
  // its CSS on a busy machine; without it every link and button is a small inline target.
  await page.waitForLoadState("load");
  await page.evaluate(async () => {
    const sheets = [...document.querySelectorAll('link[rel="stylesheet"]')];
    await Promise.all(sheets.map((link) => (link.sheet ? null : new Promise((done) => {
      link.addEventListener("load", done, { once: true });
      link.addEventListener("error", done, { once: true });
    }))));
  });
  await page.addScriptTag({ content: axeSource }).catch(() => {});
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] });
  });
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  console.log(JSON.stringify({ page: name, url: page.url(), violations: bad.map((v) => v.id) }));
  expect(bad.length === 0, `${name}: accessibility violations ${JSON.stringify(bad.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) })))}`);
}

/**
 * Checks the page fits a 320 px phone without scrolling sideways (WCAG 1.4.10 reflow), then
 * takes screenshots at phone and desktop widths.
 */
export async function screenshots(page, name) {
  await page.setViewportSize({ width: 320, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `${name}: at 320 px the page scrolls sideways by ${overflow} px`);
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
}

/** axe, the 320 px reflow check, and the screenshots. */
export async function check(page, name) {
  await accessible(page, name);
  await screenshots(page, name);
}

/** Follows the link called exactly `name` and waits until the browser is at `url`. */
export async function follow(page, name, url) {
  await page.getByRole("link", { name, exact: true }).click();
  await page.waitForURL(url);
}

/** A fresh browser context logged in as a demo account; returns `{ context, page }`. */
export async function login(browser, base, account, options = {}) {
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill("#email", `${account}@demo.heard.example`);
  await page.fill("#password", `heard demo ${account}`);
  await page.click("button[type=submit]");
  await page.waitForURL(`${base}/`);
  return { context, page };
}
