// 3. Hub coordinator, safeguarding, mostly by keyboard: the menu says how many disclosures of
// risk are open; the safeguarding page lists them most urgent first; a disclosure's page takes
// what was done on the day it happened (a day in the future is refused beside the field, and
// what was typed stays), and hands it to another coordinator of the hub chosen by name (nobody
// chosen in advance). That coordinator finds it in their own menu and marks it dealt with
// (the outcome must be chosen; none is in advance). Axe on every page; screenshots of the
// safeguarding page and a disclosure's page.

import { accessible, check, expect, login } from "../lib.mjs";

/** Presses Tab until the focused element passes `test` (run in the page); fails after `max`. */
async function tabTo(page, what, test, max = 120) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(test)) return;
  }
  throw new Error(`the keyboard never reaches ${what}`);
}

/** Today, or a day from it, as someone in the UK types it: 4/12/2026. */
function typed(daysFromToday = 0) {
  const day = new Date();
  day.setDate(day.getDate() + daysFromToday);
  return `${day.getDate()}/${day.getMonth() + 1}/${day.getFullYear()}`;
}

export default async function ({ browser, base }) {
  // An administrator adds a second coordinator of Arun, to hand a disclosure to.
  const admin = await login(browser, base, "admin");
  await admin.page.goto(`${base}/admin`);
  await admin.page.fill("#display_name", "Jo Coordinator");
  await admin.page.fill("#email", "jo.coordinator@demo.heard.example");
  await admin.page.check("input[name=roles][value=HUB_COORDINATOR]");
  await admin.page.check("input[name=hubs][value=arun]");
  await admin.page.getByRole("button", { name: "Add the account" }).click();
  expect((await admin.page.locator(".secret").count()) === 1, "the second coordinator's account is made");
  const joPassword = await admin.page.locator(".secret").innerText();
  await admin.context.close();

  // Arun's coordinator reaches Safeguarding from the menu with the keyboard; it says how many are open.
  const { context, page } = await login(browser, base, "coordinator.arun");
  await tabTo(page, "Safeguarding in the menu", () => document.activeElement?.getAttribute("href") === "/safeguarding");
  const menu = await page.evaluate(() => document.activeElement.textContent.replace(/\s+/g, " ").trim());
  expect(/^Safeguarding \(\d+ open\)$/.test(menu), `the menu counts the open disclosures in words: ${menu}`);
  const named = await page.getByRole("link", { name: menu, exact: true }).count();
  expect(named === 1, "a screen reader hears the same words");
  const open = Number(menu.match(/\d+/)[0]);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/safeguarding`);
  await check(page, "safeguarding");
  expect((await page.locator("h2").first().innerText()).startsWith("Flagged today"), "the most urgent first");
  expect((await page.locator("main").innerText()).includes(`${open} disclosure`), "the page says how many are open too");
  const first = page.locator("article.safeguarding-item").first();
  const id = (await first.getAttribute("id")).replace(/^disclosure-/, "");
  const said = await first.locator("blockquote").innerText();

  // Open it with the keyboard.
  await tabTo(page, "the first disclosure", () => document.activeElement?.getAttribute("href")?.startsWith("/safeguarding/"));
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/safeguarding/${id}`);
  expect((await page.locator("blockquote").first().innerText()) === said, "the disclosure's page shows what was said");
  expect((await page.locator("input[type=radio]:checked").count()) === 0, "nothing is chosen in advance");
  await check(page, "disclosure");

  // What was done, first dated tomorrow.
  await tabTo(page, "what was done", () => document.activeElement?.id === "step");
  await page.keyboard.press("Space");
  expect(await page.locator("#step").isChecked(), "Space chooses the first step");
  await tabTo(page, "the day it happened", () => document.activeElement?.id === "action_on", 10);
  const written = new Date().toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  expect((await page.inputValue("#action_on")) === written, `the day is today unless changed, as people write it: ${written}`);
  await page.keyboard.press("Control+A");
  await page.keyboard.type(typed(1));
  await page.keyboard.press("Tab");
  await page.keyboard.type("Rang them the same day. They are staying with a friend tonight.");
  await tabTo(page, "the save button", () => document.activeElement?.textContent === "Save to the follow-up", 5);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".error-summary");
  expect((await page.locator(".error-summary a").first().getAttribute("href")) === "#action_on", "the error links to the day");
  expect((await page.locator("#action_on-error").innerText()).includes("future"), "the error is beside the day and says what is wrong");
  expect(await page.locator("#step").isChecked(), "the choice made stays");
  expect((await page.inputValue("#notes")).includes("staying with a friend"), "the notes typed stay");
  await accessible(page, "disclosure-errors");
  await page.locator("#action_on").focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(typed(0));
  await page.keyboard.press("Enter");
  await page.waitForSelector(".notice");
  expect(page.url() === `${base}/safeguarding/${id}`, `back on the disclosure's page, nothing in the address: ${page.url()}`);
  expect((await page.locator(".notice").innerText()).includes("Saved"), "the step is saved");
  const timeline = await page.locator(".timeline").innerText();
  expect(timeline.includes("Spoke to the person") && timeline.includes("staying with a friend"), `the step is on the timeline: ${timeline}`);
  await accessible(page, "disclosure-after-action");

  // Handed to the other coordinator, chosen by name; first without choosing anyone.
  await tabTo(page, "the hand-over", () => document.activeElement?.tagName === "SUMMARY");
  await page.keyboard.press("Enter");
  expect((await page.inputValue("#coordinator_id")) === "", "nobody is chosen in advance");
  const names = await page.locator("#coordinator_id option").allInnerTexts();
  expect(names.includes("Jo Coordinator") && !names.some((n) => n.includes("(you)")), `the other coordinators by name: ${names}`);
  await tabTo(page, "the hand-over button", () => document.activeElement?.textContent === "Hand it over", 6);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".error-summary");
  expect((await page.locator(".error-summary a").first().getAttribute("href")) === "#coordinator_id", "handing over needs a coordinator");
  expect(await page.locator("details.handover").evaluate((d) => d.open), "the hand-over stays open beside its error");
  await accessible(page, "disclosure-handover-error");
  await page.getByLabel("Which coordinator?").selectOption({ label: "Jo Coordinator" });
  await page.fill("#handover_notes", "I am away until Monday; they know you will ring.");
  await page.getByRole("button", { name: "Hand it over" }).click();
  await page.waitForURL(`${base}/safeguarding`);
  expect((await page.locator(".notice").innerText()).includes("Handed over"), "it is handed over");
  expect((await page.locator(`#disclosure-${id}`).count()) === 0, "it has left this coordinator's list");
  const others = await page.locator("table").innerText();
  expect(others.includes("Jo Coordinator"), `who has it now is shown: ${others}`);
  expect(!(await page.locator("main").innerText()).includes(said), "but never what was said");
  await accessible(page, "safeguarding-after-handover");
  const gone = await page.goto(`${base}/safeguarding/${id}`);
  expect(gone.status() === 404, "the disclosure is no longer this coordinator's to open");
  await context.close();

  // Jo chooses their own password, then finds it in their menu and marks it dealt with.
  const jo = await browser.newContext({ bypassCSP: true });
  const joPage = await jo.newPage();
  await joPage.goto(`${base}/login`);
  await joPage.fill("#email", "jo.coordinator@demo.heard.example");
  await joPage.fill("#password", joPassword);
  await joPage.click("button[type=submit]");
  await joPage.waitForURL(`${base}/account/password`);
  await joPage.fill("#current_password", joPassword);
  await joPage.fill("#new_password", "Jo's own safeguarding password");
  await joPage.fill("#confirm_password", "Jo's own safeguarding password");
  await joPage.getByRole("button", { name: "Change your password" }).click();
  await joPage.waitForURL(/\/account\/password\?done=changed$/);
  await joPage.goto(`${base}/`);
  await joPage.getByRole("link", { name: "Safeguarding (1 open)" }).click();
  await joPage.waitForURL(`${base}/safeguarding`);
  await accessible(joPage, "safeguarding-jo");
  await joPage.locator(`#disclosure-${id} h3 a`).click();
  await joPage.waitForURL(`${base}/safeguarding/${id}`);
  const story = await joPage.locator(".timeline").innerText();
  expect(story.includes("Spoke to the person") && story.includes("Handed to you") && story.includes("away until Monday"), `the whole follow-up comes with it: ${story}`);
  await joPage.getByRole("button", { name: "Mark dealt with" }).click();
  expect((await joPage.locator(".error-summary a").first().getAttribute("href")) === "#outcome", "marking it dealt with needs the outcome");
  expect((await joPage.locator("input[name=outcome]:checked").count()) === 0, "no outcome is chosen in advance");
  await accessible(joPage, "disclosure-outcome-error");
  await joPage.locator("#outcome").focus();
  await joPage.keyboard.press("Space");
  await joPage.fill("#close_notes", "Seen by their keyworker; a support plan is agreed.");
  await joPage.getByRole("button", { name: "Mark dealt with" }).click();
  await joPage.waitForSelector(".notice");
  expect(joPage.url() === `${base}/safeguarding/${id}`, `back on the disclosure's page: ${joPage.url()}`);
  expect((await joPage.locator(".summary-list").innerText()).includes("Support is in place"), "the outcome is shown");
  expect((await joPage.locator(".timeline").innerText()).includes("Marked dealt with. Outcome: support is in place"), "and is on the timeline");
  expect((await joPage.getByRole("button", { name: "Save to the follow-up" }).count()) === 0, "nothing more to record once dealt with");
  await check(joPage, "disclosure-dealt-with");
  await joPage.goto(`${base}/safeguarding`);
  expect((await joPage.getByRole("link", { name: "Safeguarding", exact: true }).count()) === 1, "nothing is open with Jo now");
  expect((await joPage.locator("section[aria-labelledby=dealt-with]").innerText()).includes("Support is in place"), "it is listed as dealt with");
  await jo.close();
}
