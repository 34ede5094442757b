// 7. Public: the home page and a hub's published "you said, we did" page, in the shared
// layout, with no login; a hub that does not exist is a plain "not found".

import { check, expect } from "../lib.mjs";
import { tablesScrollInTheirOwnBox } from "../charts.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  expect((await page.locator("h1").innerText()) === "Heard", "the home page says where you are");
  for (const section of ["What people said, and what came of it", "Get involved", "If a service did not respect your rights"]) {
    expect((await page.getByRole("heading", { level: 2, name: section, exact: true }).count()) === 1, `the home page has "${section}"`);
  }
  const rights = await page.locator("ol.rights li").allInnerTexts();
  expect(rights.length === 11 && rights.every((right) => right.startsWith("We have the right")), `the Bill of Rights in its own words: ${rights.length}`);
  expect((await page.getByRole("link", { name: "Raise a complaint" }).getAttribute("href")) === "/complaints/new", "the way to complain");
  expect((await page.locator("#involved").innerText()).includes("How to join"), "how to join a hub or the Forum");
  const quotes = await page.locator(".public-quotes li").allInnerTexts();
  expect(quotes.length > 0 && quotes.every((quote) => quote.includes("What came of it:")), `public words with what came of them: ${quotes.length}`);
  await check(page, "home");

  await page.getByRole("link", { name: "Arun" }).click();
  await page.waitForURL(/\/public\/you-said-we-did\/arun$/);
  expect((await page.locator("h1").innerText()) === "You said, we did: Arun", "a hub's public page opens");
  expect((await page.locator(".report-kicker").innerText()).startsWith("Public version"), "it says it is the public version");
  expect((await page.getByRole("link", { name: "Log in" }).count()) === 1, "in the shared layout, not logged in");
  expect((await page.getByRole("navigation", { name: "Your tasks" }).count()) === 0, "no tasks for someone not logged in");
  for (const section of ["Summary", "You said, we did", "The decisions in full", "Checking this report"]) {
    expect((await page.getByRole("heading", { level: 2, name: section, exact: true }).count()) === 1, `the page has "${section}"`);
  }
  expect((await page.locator("table.pairing").count()) === 1, "what was said beside what was done");
  expect((await page.getByRole("heading", { level: 2, name: "Get involved" }).count()) === 1, "how to get involved");
  expect((await page.locator("ol.rights li").count()) === 11, "and how to complain, with the Bill of Rights");
  await tablesScrollInTheirOwnBox(page, "public-arun");
  const csv = await page.getByRole("link", { name: "Download as CSV" }).getAttribute("href");
  expect(csv.includes("hub=arun") && csv.includes("public=true") && csv.includes("format=csv"), `the public CSV is offered: ${csv}`);
  const download = await page.request.get(`${base}${csv}`);
  expect(download.headers()["content-type"].startsWith("text/csv"), "the CSV downloads without a login");
  expect((await download.text()).includes("report,version,public"), "and it is the public version");
  await check(page, "public-arun");

  const missing = await page.goto(`${base}/public/you-said-we-did/atlantis`);
  expect(missing.status() === 404, "a hub that does not exist is not found");
  expect((await page.locator("h1").innerText()) === "Not found" && (await page.locator("main").innerText()).includes("atlantis"), "and says so");
  await context.close();
}
