// The error page again, with JavaScript on, so that axe can check it.

import { accessible, check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
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
