// 2. Hub member in meeting mode, with JavaScript switched off: start the meeting, log into it,
// see the whole quote and the running list, undo the last one, correct one, end the meeting.
// (axe needs JavaScript: journey 23 checks the same pages with it on.)

import { expect, screenshots } from "../lib.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ javaScriptEnabled: false, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill("#email", "member.arun@demo.heard.example");
  await page.fill("#password", "heard demo member.arun");
  await page.click("button[type=submit]");

  // A single item, alone: the errors first.
  await page.goto(`${base}/feedback/new`);
  await page.click("text=Save and log another");
  const summary = page.locator(".error-summary");
  expect(await summary.isVisible(), "submitting an empty form shows the error summary");
  const links = await summary.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#text", "#speaker", "#consent", "#channel"]), `each error links to its field: ${links}`);
  expect(await page.locator("#text-error").isVisible(), "the error is also beside its field");
  await screenshots(page, "log-feedback-errors");

  // Meeting mode: start the meeting first.
  await page.goto(`${base}/meetings`);
  await page.fill("#held_on", "30/02/2026");
  await page.fill("#place", "Bognor hub, upstairs room");
  await page.click("button:has-text(\"Start the meeting\")");
  const dateError = await page.locator(".error-summary a[href='#held_on']").innerText();
  expect(dateError === "30 February 2026 does not exist", `a day that does not exist is named: ${dateError}`);
  const today = new Date();
  await page.fill("#held_on", `${today.getDate()}/${today.getMonth() + 1}/${today.getFullYear()}`);
  await page.click("button:has-text(\"Start the meeting\")");
  await page.waitForURL(/\/meetings\/[0-9a-f-]+\?done=started/);
  expect((await page.locator("h1").innerText()).startsWith("Bognor hub, upstairs room, "), "the meeting page names the meeting");
  expect(!(await page.locator("#hub").count()) && !(await page.locator("#said_on").count()), "the hub and the day are not asked again");
  expect(!(await page.locator("details.themes-fold").getAttribute("open")), "the themes are folded away");
  await screenshots(page, "meeting");

  for (const text of ["The evening clinic would let me keep my job", "Peer mentors helped me more than anything", "Typed twice by mistake"]) {
    await page.fill("#text", text);
    await page.check("input[name=speaker][value=ANONYMOUS]");
    await page.check("input[name=consent][value=COMMISSIONERS]");
    await page.click("text=Save and log another");
    await page.waitForURL(/\?logged=/);
    const quote = await page.locator(".notice blockquote").innerText();
    expect(quote === text, `the confirmation shows the whole quote: ${quote}`);
    expect((await page.inputValue("#text")) === "", "the text is cleared for the next item");
    expect((await page.locator("#text[autofocus]").count()) === 1, "the cursor goes back to the text box");
  }
  await page.reload();
  const listed = await page.locator(".running-list blockquote").allInnerTexts();
  expect(listed.length === 3 && listed[2] === "Typed twice by mistake", `the running list holds what was logged, once each even after a refresh: ${listed}`);
  expect((await page.locator(".running-list button", { hasText: "Undo" }).count()) === 1, "only the last one can be undone");
  await screenshots(page, "meeting-logged");

  await page.locator(".running-list li").last().getByRole("button", { name: "Undo the last item" }).click();
  await page.waitForURL(/\?done=undone/);
  const after = await page.locator(".running-list blockquote").allInnerTexts();
  expect(after.length === 2 && !after.includes("Typed twice by mistake"), `undo takes the last one back: ${after}`);

  await page.locator(".running-list li").first().getByRole("link", { name: "Edit this item" }).click();
  await page.fill("#text", "The evening clinic would let me keep my job at the garage");
  await screenshots(page, "feedback-edit");
  await page.click("text=Save the correction");
  await page.waitForURL(/\?done=edited/);
  expect((await page.locator(".running-list blockquote").first().innerText()).endsWith("at the garage"), "the correction shows");

  await page.getByRole("link", { name: "Record attendance and minutes" }).click();
  await page.fill("#attendance", "twelve");
  await page.click("text=Record the meeting >> nth=-1");
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#attendance", "attendance must be a number");
  await screenshots(page, "meeting-end");
  await page.fill("#attendance", "12");
  await page.fill("#minutes", "Twelve came. Evening opening and peer mentors raised again.");
  await page.click("text=Record the meeting >> nth=-1");
  await page.waitForURL(/\?done=ended/);
  expect((await page.locator(".notice").innerText()).includes("recorded"), "the meeting is recorded without JavaScript");
  expect((await page.locator("#text").count()) === 0, "an ended meeting takes no more items");
  await context.close();
}
