// 5. Complaints handler: the queue by clock urgency, overdue ones marked; acknowledge one.

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
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
