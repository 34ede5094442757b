// 2d. Hub coordinator importing the spreadsheet the hub keeps: they upload a CSV saved by an old
// copy of Excel (Windows-1252, with a £ in it) that has a row with a day that does not exist,
// read the preview (how many rows, the columns, every row that needs fixing with its row and
// column), fix nothing, import the good rows with the keyboard, watch the progress page say it
// has finished (its script checks again every 2 seconds), and download the rows that need
// fixing with an `error` column. axe on each page; the preview fits a 390 px phone.

import { readFileSync } from "node:fs";
import { check, expect, follow, login } from "../lib.mjs";

/** The bytes of `text` in Windows-1252, for the few characters this file holds. */
function windows1252(text) {
  return Buffer.from([...text].map((c) => (c === "£" ? 0xa3 : c.charCodeAt(0))));
}

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "coordinator.arun");
  await follow(page, "Import a spreadsheet", /\/import$/);
  await check(page, "import");
  const hub = page.locator("#hub");
  if ((await hub.inputValue()) === "") {
    await hub.selectOption({ label: "Arun" });
  }
  const file = windows1252(
    "Date,Channel,About,Text,Themes,Speaker,Consent\r\n" +
      "3/11/2026,drop-in,,The £5 bus fare to the clinic is too much,,anonymous,public\r\n" +
      "31/11/2026,forum,,The £2 tea at the drop-in is worth it,,anonymous,hub\r\n" +
      "10/11/2026,forum,,Evening opening on Thursdays would help people who work,,anonymous,commissioners\r\n",
  );
  await page.setInputFiles("#file", { name: "arun-hub-feedback.csv", mimeType: "text/csv", buffer: file });
  await page.getByRole("button", { name: "Upload and check" }).click();
  await page.waitForURL(/\/import\/[0-9a-zA-Z-]+$/);

  // The preview: nothing imported yet; what will be, and what needs fixing, row by row.
  const preview = await page.locator("main").innerText();
  expect(preview.includes("Nothing has been imported yet"), "nothing is written before the coordinator confirms");
  const ready = await page.locator("dt:text-is('Ready to import') + dd").innerText();
  expect(ready === "2 rows", `two good rows: ${ready}`);
  const problems = await page.locator("table:has(#to-fix-caption) tbody tr").allInnerTexts();
  expect(problems.length === 1, `one problem: ${problems}`);
  expect(/^3\s/.test(problems[0]) && /date/i.test(problems[0]) && problems[0].includes("31 November 2026 does not exist"),
    `row 3's date is named, in plain words: ${problems[0]}`);
  expect(!problems[0].includes("£2"), "what is wrong never repeats the cell");
  await check(page, "import-preview");
  await page.setViewportSize({ width: 390, height: 844 });
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(sideways <= 0, `the preview fits 390 px without scrolling sideways: ${sideways}`);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Import the good rows, with the keyboard alone.
  await page.getByRole("button", { name: "Import the 2 good rows" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/progress$/);
  expect((await page.locator("[data-import-job] [aria-live=polite]").count()) === 1, "progress is said in a polite live region");
  expect((await page.locator("progress#import-progress").count()) === 1, "with a progress bar and its label");
  // The page's script checks again every 2 seconds while it runs; no reload here.
  await page.waitForFunction(
    () => document.querySelector("[data-import-job]")?.getAttribute("data-state") === "FINISHED",
    null,
    { timeout: 60000 },
  );
  const status = await page.locator("#import-status").innerText();
  expect(status.includes("2 items were added to the hub's feedback"), `finished: ${status}`);
  expect((await page.getByRole("link", { name: "Go to the moderation queue" }).count()) === 1, "a way to the queue");
  await check(page, "import-progress");

  // The row that needs fixing, with what is wrong, as a file to fix and import again.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download the 1 row that needs fixing (CSV)" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
  const [header, row] = csv.split(/\r?\n/);
  expect(header.split(",").at(-1) === "error", `the rejects have an error column: ${header}`);
  expect(row.startsWith("31/11/2026,forum") && row.includes("The £2 tea"), `the row as the file had it, its £ intact: ${row}`);

  // The imported items wait in the moderation queue like any other: on the day they were said.
  await page.goto(`${base}/moderation?hub=arun&from=2026-11-03&to=2026-11-03`);
  const queue = await page.locator("main").innerText();
  expect(queue.includes("The £5 bus fare to the clinic is too much"), "the imported item waits in the queue, its £ intact");
  await context.close();
}
