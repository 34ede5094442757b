// 2. Hub coordinator: redact the first item in the queue, check the shared version, share it.

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
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
