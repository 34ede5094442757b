// 7. Public: the home page and a hub's published "you said, we did" page, in the shared
// layout, with no login; a hub that does not exist is a plain "not found".

import { check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  expect((await page.locator("h1").innerText()) === "Heard", "the home page says where you are");
  await check(page, "home");

  await page.getByRole("link", { name: "Arun" }).click();
  await page.waitForURL(/\/public\/you-said-we-did\/arun$/);
  expect((await page.locator("h1").innerText()) === "You said, we did: Arun", "a hub's public page opens");
  expect((await page.locator(".report-kicker").innerText()).startsWith("Public version"), "it says it is the public version");
  expect((await page.getByRole("link", { name: "Log in" }).count()) === 1, "in the shared layout, not logged in");
  expect((await page.getByRole("navigation", { name: "Your tasks" }).count()) === 0, "no tasks for someone not logged in");
  for (const section of ["Summary", "You said", "We did", "Checking this report"]) {
    expect((await page.getByRole("heading", { level: 2, name: section, exact: true }).count()) === 1, `the page has "${section}"`);
  }
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
