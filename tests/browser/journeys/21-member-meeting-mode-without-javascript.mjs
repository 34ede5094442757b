// 1. Hub member in meeting mode, with JavaScript switched off: errors, then two items.

import { check, expect, screenshots } from "../lib.mjs";

export default async function ({ browser, base }) {
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
