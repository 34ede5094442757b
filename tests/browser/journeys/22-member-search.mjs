// Hub member searching: a misspelt search is put right and says so, a facet is chosen (and
// marked, with the others still there) and removed, a result opens its item and leads back, the
// results download as CSV, and an item nobody may see is simply not found. axe on every page.

import { accessible, check, expect, login } from "../lib.mjs";

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "member.arun");

  // A misspelt search, typed and sent with Enter.
  await page.goto(`${base}/search`);
  await accessible(page, "search-empty");
  await page.fill("#q", "evning clinc");
  await page.locator("#q").press("Enter");
  await page.waitForURL(/\/search\?q=evning\+clinc/);
  const understood = await page.locator(".understood").innerText();
  expect(understood.includes("Showing results for evening clinic"), `the search says what it was taken for: ${understood}`);
  const marks = (await page.locator(".results mark").allInnerTexts()).map((m) => m.toLowerCase());
  expect(marks.includes("evening") && marks.includes("clinic"), `what it matched is marked: ${marks}`);
  const status = await page.locator("p[role=status]").innerText();
  expect(/^[1-9]\d* items? you may see match/.test(status), `it says how many match: ${status}`);
  await accessible(page, "search-misspelt");

  // Choose a hub: it is marked, by name and for screen readers, and the other values stay.
  const hub = page.locator("#filters li.facet a").filter({ hasText: /^Arun \(\d+ items?\)$/ }).first();
  expect((await hub.count()) === 1, "the hub facet shows the hub's name and a count in items");
  await hub.click();
  await page.waitForURL(/hub=arun/);
  const chosen = page.locator("#filters li[aria-current=true]");
  expect((await chosen.count()) === 1, "the chosen facet is marked as current");
  const chosenText = await chosen.innerText();
  expect(/^Arun \(\d+ items?\)\s+Selected\s+Remove/.test(chosenText), `it says it is selected: ${chosenText}`);
  const others = await page.locator("#filters li.facet:not([aria-current]) a").allInnerTexts();
  expect(others.length > 0 && others.every((o) => /\(\d+ items?\)$/.test(o)), `the other values stay: ${others}`);
  expect(others.every((o) => !/^[a-z0-9-]+ \(/.test(o)), `facets show names, never ids: ${others}`);
  await check(page, "search-facet");

  // The results as CSV, with the same filters.
  const download = page.locator("a[href^='/search/download?']");
  expect((await download.count()) === 1, "the results can be downloaded");
  const href = await download.getAttribute("href");
  expect(href.includes("hub=arun") && href.includes("q=evning"), `the download keeps the search: ${href}`);
  const csv = await page.request.get(`${base}${href}`);
  expect(csv.status() === 200 && csv.headers()["content-type"].startsWith("text/csv"), "the download is CSV");
  expect((await csv.text()).startsWith("id,said on,hub,themes"), "with a header row");

  // Open a result, by keyboard.
  const open = page.getByRole("link", { name: /^Open the item/ }).first();
  await open.focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/feedback\/[0-9a-f-]{36}/);
  expect((await page.locator("h1").innerText()) === "What was said", "the item opens");
  const said = await page.locator("dt:text-is('Said on') + dd").innerText();
  expect(/^\d{1,2} [A-Z][a-z]+ \d{4}$/.test(said), `the day reads as people write it: ${said}`);
  const shownHub = await page.locator("dt:text-is('Hub') + dd").innerText();
  expect(shownHub === "Arun", `the hub by name: ${shownHub}`);
  expect((await page.locator("dt:text-is('Who may see it') + dd").innerText()).length > 0, "consent is shown");
  await check(page, "feedback-item");
  await page.getByRole("link", { name: "Back to the search" }).click();
  await page.waitForURL(/\/search\?q=evning(\+|%20)clinc&hub=arun/);

  // Remove the chosen facet.
  await page.locator("#filters li[aria-current=true] a").click();
  await page.waitForURL((url) => url.pathname === "/search" && !url.search.includes("hub="));
  expect((await page.locator("#filters li[aria-current=true]").count()) === 0, "the facet is removed");

  // A mistake in the address is named, and the page still works.
  const wrong = await page.goto(`${base}/search?q=clinic&page=two&hub=arun&hub=crawley`);
  expect(wrong.status() === 400, "a bad address is refused");
  const problems = await page.locator(".error-summary").innerText();
  expect(problems.includes("Page must be a whole number") && problems.includes("Hub: choose one hub at a time"), problems);
  await accessible(page, "search-errors");

  // An item that is not there, or not theirs, is not found.
  const missing = await page.goto(`${base}/feedback/00000000-0000-4000-8000-000000000000`);
  expect(missing.status() === 404, "an item nobody may see is not found");
  expect((await page.locator("h1").innerText()) === "Page not found", "and says so plainly");
  await accessible(page, "feedback-item-not-found");
  await context.close();
}
