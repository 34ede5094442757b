// 8. Administrator: accounts, a one-time password shown once, a token made and revoked, the log.

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
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
