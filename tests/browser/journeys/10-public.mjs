// 7. Public: the home page and a hub's published page, no login.

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
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
