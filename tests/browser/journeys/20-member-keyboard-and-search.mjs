// 1. Hub member, keyboard only: log in and reach the log-feedback form without a mouse.

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await check(page, "login");
  await page.keyboard.press("Tab"); // skip link
  await page.keyboard.press("Tab"); // brand
  await page.keyboard.press("Tab"); // log in link
  await page.keyboard.press("Tab"); // email
  expect(await page.evaluate(() => document.activeElement?.id === "email"), "Tab reaches the email field");
  await page.keyboard.type("member.arun@demo.heard.example");
  await page.keyboard.press("Tab");
  await page.keyboard.type("heard demo member.arun");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/`);
  expect((await page.locator("h1").innerText()).startsWith("Hello"), "logged in, the home page greets you");
  await check(page, "home-member");
  // Tab to the "Log feedback" link in the header and follow it with Enter.
  let found = false;
  for (let i = 0; i < 12 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Log feedback");
  }
  expect(found, "the keyboard reaches Log feedback");
  // 3. Search, from the same session: highlighted passages and facets, within the hub's scope.
  await page.goto(`${base}/search?q=pharmacy`);
  const status = await page.locator("p[role=status]").innerText();
  expect(/^[1-9]\d* items/.test(status), `the search finds items: ${status}`);
  expect((await page.locator(".results mark").count()) > 0, "matches are highlighted");
  await check(page, "search");
  // Search as you type (JavaScript on): the results change without pressing Search.
  await page.fill("#q", "");
  await page.locator("#q").pressSequentially("evening", { delay: 40 });
  // The address follows the latest search, swapped in together with its results.
  await page.waitForFunction(
    () => location.search.includes("q=evening") && document.getElementById("search-live")?.textContent?.includes("match"),
  );
  const typed = await page.locator("#search-results .results mark").allInnerTexts();
  expect(typed.length > 0 && typed.every((m) => m.toLowerCase().startsWith("evening")), `results for what was typed: ${typed}`);
  const facet = page.locator(".facets a").first();
  await facet.click();
  expect((await page.getByRole("link", { name: "Clear the filters" }).count()) === 1, "a facet narrows the search");
  await page.goto(`${base}/`);
  found = false;
  for (let i = 0; i < 12 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Log feedback");
  }
  expect(found, "the keyboard reaches Log feedback again");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/feedback/new`);
  await check(page, "log-feedback");
  await context.close();

}
