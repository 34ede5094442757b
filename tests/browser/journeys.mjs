// Walks Heard's web UI journeys in Debian's headless chromium, as the people who use it would,
// checks every page with axe-core (no serious or critical violations), and saves screenshots at
// 390 px and 1280 px. Run by the Rust end-to-end test `browser::…` against a server on port 0
// seeded with the demo data:
//
//   node tests/browser/journeys.mjs http://127.0.0.1:PORT target/screenshots
//
// Prints one JSON line per page checked and exits non-zero on the first failed expectation.

import { readFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [base, shots = "target/screenshots"] = process.argv.slice(2);
if (!base) {
  console.error("usage: node journeys.mjs BASE_URL [SCREENSHOT_DIR]");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const here = dirname(fileURLToPath(import.meta.url));

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

function fail(message) {
  throw new Error(message);
}

function expect(condition, message) {
  if (!condition) fail(message);
}

/** Runs axe on the page; fails on any serious or critical violation. */
async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource }).catch(() => {});
  // With JavaScript disabled the page cannot run axe; check those pages in a second context.
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] });
  });
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  console.log(JSON.stringify({ page: name, url: page.url(), violations: bad.map((v) => v.id) }));
  expect(bad.length === 0, `${name}: accessibility violations ${JSON.stringify(bad.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) })))}`);
}

/** Screenshots of the current page at phone and desktop widths. */
async function screenshots(page, name) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
}

async function check(page, name) {
  await accessible(page, name);
  await screenshots(page, name);
}

try {
  // 7. Public: the home page and a hub's published page, no login.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect((await page.locator("h1").innerText()) === "Heard", "the home page says where you are");
    await check(page, "home");
    await page.getByRole("link", { name: "Arun" }).click();
    expect((await page.locator("h1").innerText()).includes("You said, we did"), "a hub's public page opens");
    await check(page, "public-arun");
    await context.close();
  }

  // 1. Hub member, keyboard only: log in and reach the log-feedback form without a mouse.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await check(page, "login");
    await page.keyboard.press("Tab"); // skip link
    await page.keyboard.press("Tab"); // brand
    await page.keyboard.press("Tab"); // log in link
    await page.keyboard.press("Tab"); // email
    expect(await page.evaluate(() => document.activeElement?.id === "email"), "Tab reaches the email field");
    await page.keyboard.type("member.arun@demo.heard.example");
    await page.keyboard.press("Tab");
    await page.keyboard.type("heard demo member.arun");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/`);
    expect((await page.locator("h1").innerText()).startsWith("Hello"), "logged in, the home page greets you");
    await check(page, "home-member");
    // Tab to the "Log feedback" link in the header and follow it with Enter.
    let found = false;
    for (let i = 0; i < 12 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Log feedback");
    }
    expect(found, "the keyboard reaches Log feedback");
    // 3. Search, from the same session: highlighted passages and facets, within the hub's scope.
    await page.goto(`${base}/search?q=pharmacy`);
    const status = await page.locator("p[role=status]").innerText();
    expect(/^[1-9]\d* items/.test(status), `the search finds items: ${status}`);
    expect((await page.locator(".results mark").count()) > 0, "matches are highlighted");
    await check(page, "search");
    const facet = page.locator(".facets a").first();
    await facet.click();
    expect((await page.getByRole("link", { name: "Clear the filters" }).count()) === 1, "a facet narrows the search");
    await page.goto(`${base}/`);
    found = false;
    for (let i = 0; i < 12 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Log feedback");
    }
    expect(found, "the keyboard reaches Log feedback again");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/feedback/new`);
    await check(page, "log-feedback");
    await context.close();
  }

  // 1. Hub member in meeting mode, with JavaScript switched off: errors, then two items.
  {
    const context = await browser.newContext({ javaScriptEnabled: false, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#email", "member.arun@demo.heard.example");
    await page.fill("#password", "heard demo member.arun");
    await page.click("button[type=submit]");
    await page.goto(`${base}/feedback/new`);
    await page.click("text=Save and log another");
    const summary = page.locator(".error-summary");
    expect(await summary.isVisible(), "submitting an empty form shows the error summary");
    const links = await summary.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(JSON.stringify(links) === JSON.stringify(["#text", "#channel", "#speaker", "#consent"]), `each error links to its field: ${links}`);
    expect(await page.locator("#text-error").isVisible(), "the error is also beside its field");
    await screenshots(page, "log-feedback-errors");
    for (const text of ["The evening clinic would let me keep my job", "Peer mentors helped me more than anything"]) {
      await page.fill("#text", text);
      await page.check("input[name=channel][value=FORUM]");
      await page.check("input[name=speaker][value=ANONYMOUS]");
      await page.check("input[name=consent][value=COMMISSIONERS]");
      await page.click("text=Save and log another");
      const notice = await page.locator(".notice").innerText();
      expect(notice.includes(text), `the item is logged and the form is ready for the next: ${notice}`);
      expect((await page.inputValue("#text")) === "", "the text is cleared for the next item");
    }
    await page.getByRole("link", { name: "record the meeting" }).click();
    await page.fill("#attendance", "twelve");
    await page.click("text=Record the meeting >> nth=-1");
    expect((await page.locator(".error-summary a").getAttribute("href")) === "#attendance", "attendance must be a number");
    await page.fill("#attendance", "12");
    await page.fill("#minutes", "Twelve came. Evening opening and peer mentors raised again.");
    await page.click("text=Record the meeting >> nth=-1");
    expect((await page.locator(".notice").innerText()).includes("recorded"), "the meeting is recorded without JavaScript");
    await context.close();
  }

  // 2. Hub coordinator: redact the first item in the queue, check the shared version, share it.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#email", "coordinator.arun@demo.heard.example");
    await page.fill("#password", "heard demo coordinator.arun");
    await page.click("button[type=submit]");
    await page.getByRole("link", { name: "Moderation", exact: true }).click();
    await page.waitForURL(/\/moderation/);
    await check(page, "moderation");
    const first = page.locator("article.item").first();
    const said = await first.locator(".before-after blockquote").first().innerText();
    const word = said.split(/\s+/).find((w) => w.length > 4) ?? said.split(/\s+/)[0];
    await first.locator("textarea").fill(word);
    await first.getByRole("button", { name: "Redact" }).click();
    expect((await page.locator(".notice").innerText()).includes("Redacted"), "the redaction is confirmed");
    const redactedItem = page.locator("article.item").first();
    const shared = await redactedItem.locator(".before-after blockquote").nth(1).innerText();
    expect(!shared.includes(word), `the shared version leaves out "${word}": ${shared}`);
    expect((await redactedItem.locator(".before-after blockquote").first().innerText()).includes(word), "the hub keeps the words as said");
    await redactedItem.getByRole("button", { name: "Share" }).click();
    expect((await page.locator(".notice").innerText()).includes("Shared"), "the item is shared");
    await check(page, "moderation-after");
    // Close the loop: report back what commissioners did with an item.
    await page.getByRole("link", { name: "Report back", exact: true }).click();
    await page.waitForURL(/\/report-back/);
    await check(page, "report-back");
    const waiting = await page.getByRole("button", { name: "Reported back at a meeting" }).count();
    if (waiting > 0) {
      await page.getByRole("button", { name: "Reported back at a meeting" }).first().click();
      expect((await page.locator(".notice").innerText()).includes("Recorded"), "the report-back is recorded");
      expect((await page.getByRole("button", { name: "Reported back at a meeting" }).count()) === waiting - 1, "the item leaves the list");
    }
    await context.close();
  }

  // 5. Complaints handler: the queue by clock urgency, overdue ones marked; acknowledge one.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#email", "complaints@demo.heard.example");
    await page.fill("#password", "heard demo complaints");
    await page.click("button[type=submit]");
    await page.getByRole("link", { name: "Complaints", exact: true }).click();
    await page.waitForURL(/\/complaints/);
    await check(page, "complaints");
    const firstCard = page.locator("article.complaint").first();
    expect((await firstCard.locator(".tag").innerText()) === "Overdue", "the most urgent complaint comes first, marked overdue");
    expect((await firstCard.locator(".clock").innerText()).includes("overdue by"), "its clock says by how much");
    const waiting = page.locator("article.complaint", { has: page.getByRole("button", { name: "Acknowledge" }) }).first();
    const title = await waiting.locator("h2").innerText();
    await waiting.getByRole("button", { name: "Acknowledge" }).click();
    expect((await page.locator(".notice").innerText()).includes("Acknowledged"), "the acknowledgement is confirmed");
    const after = page.locator("article.complaint", { hasText: title.replace(/^(Overdue|Due soon)\s*/, "") }).first();
    expect((await after.locator(".meta").innerText()).startsWith("Acknowledged"), "the complaint moved on");
    await context.close();
  }

  // 4. Advocate: refer a case, accept it, keep the timeline, close it with the client's view.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#email", "advocate@demo.heard.example");
    await page.fill("#password", "heard demo advocate");
    await page.click("button[type=submit]");
    await page.getByRole("link", { name: "My cases", exact: true }).first().click();
    await page.waitForURL(/\/cases$/);
    await check(page, "cases");
    await page.getByRole("link", { name: "Refer a new case" }).click();
    await page.getByRole("button", { name: "Refer", exact: true }).click();
    const links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(JSON.stringify(links) === JSON.stringify(["#issue", "#kind"]), `the refer form names what is missing: ${links}`);
    await accessible(page, "refer-errors");
    await page.fill("#pseudonym", "River");
    await page.fill("#issue", "Wants a review before the methadone dose is cut again");
    await page.check("input[name=kind][value=INSTRUCTED]");
    await page.selectOption("#domain", "PRESCRIBING_REVIEW");
    await page.getByRole("button", { name: "Refer", exact: true }).click();
    await page.waitForURL(/\/cases\/[0-9a-f-]+/);
    expect((await page.locator("h1").innerText()) === "River", "the new case opens");
    await page.getByRole("button", { name: "Accept" }).click();
    await page.check("input[name=action_kind][value=MEETING]");
    await page.fill("#text", "Met River at the hub; agreed to ask for a review meeting.");
    await page.getByRole("button", { name: "Save to the timeline" }).click();
    expect((await page.locator(".timeline").innerText()).includes("agreed to ask for a review"), "the action is on the timeline");
    await check(page, "case");
    await page.selectOption("#outcome", "ACHIEVED");
    await page.getByRole("button", { name: "Close the case" }).click();
    expect((await page.locator(".error-summary").innerText()).toLowerCase().includes("view"), "instructed advocacy needs the client's own view");
    await page.selectOption("#outcome", "ACHIEVED");
    await page.fill("#client_view", "I was listened to and the dose stays as it is.");
    await page.getByRole("button", { name: "Close the case" }).click();
    expect((await page.locator("main").innerText()).includes("Closed"), "the case is closed");
    await context.close();
  }

  // 8. Administrator: accounts, a one-time password shown once, a token made and revoked, the log.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#email", "admin@demo.heard.example");
    await page.fill("#password", "heard demo admin");
    await page.click("button[type=submit]");
    await page.getByRole("link", { name: "Administration", exact: true }).click();
    await page.waitForURL(/\/admin/);
    await check(page, "admin");
    await page.fill("#display_name", "New volunteer");
    await page.fill("#email", "volunteer@demo.heard.example");
    await page.check("input[name=roles][value=HUB_MEMBER]");
    await page.check("input[name=hubs][value=arun]");
    await page.getByRole("button", { name: "Add the account" }).click();
    expect((await page.locator(".secret").count()) === 1, "the one-time password is shown once");
    expect(!page.url().includes("secret"), "a secret never goes in the address");
    expect((await page.locator("table").first().innerText()).includes("volunteer@demo.heard.example"), "the account is listed");
    await page.fill("#label", "County dashboard");
    await page.getByRole("button", { name: "Create a token" }).click();
    expect((await page.locator(".secret").innerText()).startsWith("heard_"), "the token is shown once");
    await page.getByRole("button", { name: "Revoke County dashboard" }).click();
    expect((await page.locator(".notice").innerText()).includes("revoked"), "the token is revoked");
    await context.close();
  }

  // The error page again, with JavaScript on, so that axe can check it.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.click("text=Log in >> nth=-1");
    expect(await page.locator(".error-summary").isVisible(), "an empty login shows the error summary");
    await check(page, "login-errors");
    await page.fill("#email", "member.arun@demo.heard.example");
    await page.fill("#password", "heard demo member.arun");
    await page.click("button[type=submit]");
    await page.goto(`${base}/feedback/new`);
    await page.click("text=Save and log another");
    await accessible(page, "log-feedback-errors");
    await context.close();
  }
  console.log(JSON.stringify({ done: true, screenshots: shots, from: here }));
} catch (error) {
  console.error(String(error?.stack ?? error));
  await browser.close();
  process.exit(1);
}
await browser.close();
