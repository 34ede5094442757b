// A person's rights in a real browser (issue #18), run by `browser::…rights…` in
// `tests/e2e/browser.rs` against a server on port 0 with the demo data:
//
//   node tests/e2e/browser_rights.mjs http://127.0.0.1:PORT target/screenshots
//
// Arun's coordinator, with the keyboard only: says an item is a new person's, finds what
// Heard holds about them (checked at 390 px too), and erases it through the confirmation and
// check-your-answers. Every page is checked with axe-core and for reflow at 320 px
// (`../browser/lib.mjs`); screenshots land in the screenshot directory.

import { chromium } from "../browser/node_modules/playwright-core/index.mjs";
import { check, expect, login, screenshotsTo } from "../browser/lib.mjs";

const [base, shots = "target/screenshots"] = process.argv.slice(2);
if (!base) {
  console.error("usage: node browser_rights.mjs BASE_URL [SCREENSHOT_DIR]");
  process.exit(2);
}
screenshotsTo(shots);

/** Presses Tab until the focused element matches `test` (at most `limit` times). */
async function tabTo(page, what, test, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(test)) return;
  }
  throw new Error(`the keyboard never reaches ${what}`);
}

async function run(browser) {
  const { context, page } = await login(browser, base, "coordinator.arun");
  // An item of the hub's, logged through the API as the coordinator.
  const csrf = (await context.cookies()).find((cookie) => cookie.name === "heard_csrf")?.value;
  const logged = await page.request.post(`${base}/graphql`, {
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    data: {
      query: "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
      variables: {
        i: { hub: "arun", text: "The chemist makes me queue outside in the rain", channel: "ONE_TO_ONE", speaker: "ANONYMOUS", consent: "HUB", saidOn: new Date().toISOString().slice(0, 10) },
      },
    },
  });
  const answer = await logged.json().catch(() => null);
  const item = answer?.data?.logFeedback?.id;
  expect(item, `an item is logged: ${logged.status()} ${JSON.stringify(answer)}`);

  // Whose words these are: "This is a new person", with the keyboard only.
  await page.goto(`${base}/feedback/${item}`);
  await tabTo(page, "the new person choice", () => document.activeElement?.id === "person_choice");
  await page.keyboard.press("Space");
  await tabTo(page, "Save who this is", () => document.activeElement?.textContent?.trim() === "Save who this is");
  await page.keyboard.press("Enter");
  await page.waitForURL(new RegExp(`/feedback/${item}`));
  const code = (await page.locator(".person-rights .person-code").innerText()).trim();
  expect(/^[0-9a-f-]{36}$/.test(code), `the item's page shows the person's code: ${code}`);
  expect((await page.locator(".person-rights .notice").innerText()).includes(code), "the notice gives the code to pass on");
  await check(page, "person-attributed");

  // Find the person by their code, typed.
  await page.goto(`${base}/people`);
  await check(page, "people-find");
  await tabTo(page, "the person code", () => document.activeElement?.id === "code");
  await page.keyboard.type(code);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/people/${code}`);
  expect((await page.locator("h1").innerText()) === "What Heard holds about this person", "the person's page opens");
  expect((await page.locator("main").innerText()).includes("queue outside in the rain"), "their words are there");
  expect(await page.locator("button.print-report").isVisible(), "with JavaScript, a Print button");
  // Legible on a phone: 390 px wide, no sideways scrolling, nothing cut off.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, `at 390 px the page scrolls sideways by ${overflow} px`);
  await check(page, "person-held");

  // Erase, by keyboard: first without the tick.
  await page.goto(`${base}/people/${code}`);
  await tabTo(page, "Erase everything", () => document.activeElement?.textContent?.trim() === "Erase everything about this person");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/people/${code}/erase`);
  expect((await page.locator("main").innerText()).includes("cannot be undone"), "the page says it cannot be undone");
  await check(page, "person-erase");
  await tabTo(page, "Continue", () => document.activeElement?.textContent?.trim() === "Continue");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/erase\?refused=/);
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#confirm", "the confirmation is required");
  await check(page, "person-erase-errors");
  await tabTo(page, "the confirmation", () => document.activeElement?.id === "confirm");
  await page.keyboard.press("Space");
  await tabTo(page, "Continue", () => document.activeElement?.textContent?.trim() === "Continue");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/erase\/check/);
  expect((await page.locator("h1").innerText()).startsWith("Check before you erase"), "check your answers");
  await check(page, "person-erase-check");
  await tabTo(page, "Erase everything now", () => document.activeElement?.textContent?.trim() === "Erase everything now");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/erased\?attempt=/);
  const said = await page.locator("main").innerText();
  expect(said.includes("1 record you keep for them was erased"), `the page says how many were erased: ${said}`);
  await check(page, "person-erased");
  // Back to the check page (never kept by the browser): it says the person is already
  // erased, with nothing left to send.
  await page.goBack();
  await page.waitForURL(/\/erase\/check/);
  const back = await page.locator("main").innerText();
  expect(back.includes("already erased"), `going back answers sensibly: ${back}`);
  expect((await page.getByRole("button", { name: "Erase everything now" }).count()) === 0, "nothing is offered twice");
  await page.goto(`${base}/people/${code}`);
  expect((await page.locator("main").innerText()).includes("Everything about this person was erased"), "the person's page says so");
  expect(!(await page.locator("main").innerText()).includes("queue outside in the rain"), "their words are gone");
  await check(page, "person-held-erased");
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  await run(browser);
  console.log(JSON.stringify({ done: true }));
} catch (error) {
  console.error(String(error?.stack ?? error));
  await browser.close();
  process.exit(1);
}
await browser.close();
