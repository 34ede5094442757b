// The error pages again, with JavaScript on, so that axe can check them; and the page for an
// address nothing answers.

import { accessible, check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const nowhere = await page.goto(`${base}/no-such-page`);
  expect(nowhere.status() === 404, "an address nothing answers is not found");
  expect((await page.locator("h1").innerText()) === "Page not found", "and the page says so");
  await page.getByRole("link", { name: "Go to the home page" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/`);
  expect((await page.locator("h1").innerText()) === "Heard", "the way home works by keyboard");
  await page.goto(`${base}/no-such-page`);
  await check(page, "not-found");
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
