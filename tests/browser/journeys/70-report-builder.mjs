// 6, the report. Commissioner: builds a "you said, we did" report for a hub and a period
// (an end date before the start first), opens it, prints it (the menus, buttons and footer
// are left off the paper) and downloads it as CSV. Under the real Content-Security-Policy the
// Print button's script, a file, still runs.

import { readFileSync } from "node:fs";
import { check, expect, follow, login, screenshots } from "../lib.mjs";
import { tablesScrollInTheirOwnBox } from "../charts.mjs";

const summaryLinks = (page) => page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));

// A day as the forms show it: 30 September 2026.
const written = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "commissioner");

  // The builder.
  await follow(page, "Reports", /\/reports$/);
  expect((await page.locator("h1").innerText()).includes("report"), "the builder opens");
  expect(await page.isChecked("input[name=period][value=last-quarter]"), "the last quarter is the first choice");
  expect((await page.locator("label[for=period]").innerText()).startsWith("The last quarter: "), "each quick choice says its days");
  await check(page, "reports");

  // An error first: the end before the start.
  await page.selectOption("#hub", "arun");
  await page.check("input[name=period][value=dates]");
  await page.fill("#from", "2026-09-30");
  await page.fill("#to", "2026-07-01");
  await page.getByRole("button", { name: "Open the report" }).click();
  await page.waitForSelector(".error-summary");
  const links = await summaryLinks(page);
  expect(JSON.stringify(links) === JSON.stringify(["#to"]), `the summary links to the end date: ${links}`);
  expect((await page.locator("#to-error").innerText()).includes("after"), "the error is beside the end date");
  expect((await page.locator("#to").getAttribute("aria-invalid")) === "true", "and the field says it is wrong");
  expect((await page.inputValue("#from")) === "30 September 2026" && (await page.inputValue("#hub")) === "arun", "what was chosen is kept, the day as people write it");
  expect((await page.title()).startsWith("Error: "), "the title says there is a problem");
  await check(page, "reports-errors");

  // The last 12 months at Arun.
  await page.fill("#from", "");
  await page.fill("#to", "");
  await page.check("input[name=period][value=last-12-months]");
  await page.getByRole("button", { name: "Open the report" }).click();
  await page.waitForURL(/\/reports\/you-said-we-did\?hub=arun&from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d$/);
  expect((await page.locator("h1").innerText()) === "You said, we did: Arun", "the report opens for Arun");
  expect((await page.locator(".report-kicker").innerText()) === "For commissioners and hubs", "the commissioners' version");
  for (const section of ["Summary", "You said, we did", "The decisions in full", "Checking this report"]) {
    expect((await page.getByRole("heading", { level: 2, name: section, exact: true }).count()) === 1, `the report has "${section}"`);
  }
  // "You said" beside "we did": one table, theme by theme (the sections were renamed in issue #15).
  expect((await page.locator("table.report-table tbody tr").count()) > 0, "what was said, by theme");
  const heads = await page.locator("table.pairing thead th").allInnerTexts();
  expect(JSON.stringify(heads) === JSON.stringify(["Theme", "What people said", "What was decided or done", "When"]), `the pairing's columns: ${heads}`);
  const paired = await page.locator("table.pairing tbody.pair").evaluateAll((groups) =>
    groups.map((group) => group.innerText.replace(/\s+/g, " ")),
  );
  expect(paired.some((group) => /(Decided|To be decided) \d{1,2} [A-Z][a-z]+ \d{4}/.test(group)), `a theme is paired with a decision and when: ${paired.slice(0, 2)}`);
  expect(paired.some((group) => group.includes("What came of it:")), "quotes say what came of them");
  expect(!/Rung \d/.test(await page.locator("main").innerText()), "the ladder is told in words");
  await tablesScrollInTheirOwnBox(page, "report");
  expect((await page.locator("main").innerText()).includes("heard verify --at"), "it says how to check it");
  const print = page.getByRole("button", { name: "Print" });
  expect(await print.isVisible(), "with JavaScript, a Print button");
  await check(page, "report");

  // On paper: no menus, no buttons, no footer; the report itself stays.
  await page.emulateMedia({ media: "print" });
  expect(!(await page.getByRole("navigation", { name: "Your tasks" }).isVisible()), "printing hides the menu");
  expect(!(await page.locator(".site-footer").isVisible()), "and the footer");
  expect(!(await print.isVisible()) && !(await page.getByRole("link", { name: "Download as CSV" }).isVisible()), "and the buttons");
  expect(await page.locator("h1").isVisible() && (await page.locator(".report-figures").isVisible()), "the report is printed");
  await screenshots(page, "report-print");
  await page.emulateMedia({ media: "screen" });

  // The same report as CSV.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download as CSV" }).click(),
  ]);
  expect(download.suggestedFilename() === "you-said-we-did.csv", `a CSV file: ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), "utf8");
  expect(csv.startsWith("section,name,value,detail,theme"), `with a header row; each row paired with its theme: ${csv.slice(0, 80)}`);
  expect(csv.includes("report,version,commissioners and hubs"), "the version the commissioner may see");

  // Changing it goes back to the builder with the same choices.
  const from = new URL(page.url()).searchParams.get("from");
  await page.getByRole("link", { name: "Change what this report covers" }).click();
  await page.waitForURL(/\/reports\?/);
  expect((await page.inputValue("#from")) === written(from) && (await page.isChecked("input[name=period][value=dates]")), "the dates are kept");
  await context.close();

  // Under the real Content-Security-Policy (no bypass), the Print button's script runs.
  const strict = await browser.newContext();
  const plain = await strict.newPage();
  await plain.goto(`${base}/public/you-said-we-did/arun`);
  await plain.getByRole("button", { name: "Print" }).waitFor({ state: "visible" });
  await strict.close();
}
