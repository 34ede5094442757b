// 2b. Hub member logging into a meeting on a 390 px phone with JavaScript on: the form is short,
// the themes fold into a list that can be searched, and no text is smaller than 12 px.

import { accessible, check, expect, login } from "../lib.mjs";

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "member.arun", { viewport: { width: 390, height: 844 } });
  await page.goto(`${base}/meetings`);
  await page.fill("#place", "Worthing drop-in");
  await page.click("button:has-text(\"Start the meeting\")");
  await page.waitForURL(/\/meetings\/[0-9a-f-]+/);
  const visibleBoxes = await page.locator("form input[type=checkbox]:visible").count();
  expect(visibleBoxes === 0, `no theme checkboxes to scroll past until the themes are opened: ${visibleBoxes}`);
  const height = await page.evaluate(() => document.querySelector("form button[type=submit]").getBoundingClientRect().bottom + window.scrollY);
  expect(height < 844 * 2.5, `the save button is within two and a half screens of the top: ${height}px`);
  await page.locator("details.themes-fold summary").click();
  await page.fill("#theme-filter", "open");
  const shown = await page.locator("#themes-list .choice:visible label").allInnerTexts();
  expect(shown.length > 0 && shown.every((t) => t.toLowerCase().includes("open")), `finding a theme narrows the list: ${shown}`);
  expect((await page.locator("#theme-filter-status").innerText()).includes("shown"), "the number shown is announced");
  await page.locator("#themes-list .choice:visible input").first().check();
  await page.fill("#theme-filter", "");
  await page.fill("#text", "Opening at weekends would help me keep appointments");
  await page.check("input[name=speaker][value=ANONYMOUS]");
  await page.check("input[name=consent][value=HUB]");
  await page.keyboard.press("Tab");
  await page.click("text=Save and log another");
  await page.waitForURL(/\?logged=/);
  expect(await page.evaluate(() => document.activeElement?.id === "text"), "the cursor is back in the text box");
  expect((await page.locator(".running-list .meta").first().innerText()).includes("Opening"), "the chosen theme is kept");
  const tiny = await page.evaluate(() =>
    [...document.querySelectorAll("main *")]
      .filter((el) => el.childNodes.length && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
      .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 12).length,
  );
  expect(tiny === 0, `no text below 12 px at 390 px: ${tiny}`);
  await check(page, "meeting-phone");
  // The pages journey 21 walks without JavaScript, checked with axe here.
  await page.getByRole("link", { name: "Edit the item you just logged" }).click();
  await accessible(page, "feedback-edit");
  await page.goBack();
  await page.getByRole("link", { name: "Record attendance and minutes" }).click();
  await accessible(page, "meeting-end");
  await page.click("text=Record the meeting >> nth=-1");
  await accessible(page, "meeting-end-errors");
  await page.goto(`${base}/meetings`);
  await accessible(page, "meetings");
  await context.close();
}
