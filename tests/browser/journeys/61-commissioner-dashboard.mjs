// 6. Commissioner: the dashboard's four charts, each a real SVG image with a text alternative
// (its accessible name, and the same figures as a table), for every hub and then for one.

import { check, expect, follow, login } from "../lib.mjs";
import { chartTextReadableOnAPhone, tablesScrollInTheirOwnBox } from "../charts.mjs";

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "commissioner");
  await follow(page, "Dashboard", /\/dashboard$/);
  expect((await page.locator("h1").innerText()) === "What people are telling you", "the dashboard opens");
  const charts = page.getByRole("img");
  const names = await charts.evaluateAll((svgs) =>
    svgs.map((svg) => document.getElementById(svg.getAttribute("aria-labelledby"))?.textContent ?? ""),
  );
  expect(names.length === 4, `four charts: ${JSON.stringify(names)}`);
  for (const name of names) expect(name.length > 20, `each chart has a summary in words: "${name}"`);
  const captions = await page.locator("figure figcaption").allInnerTexts();
  expect(
    JSON.stringify(captions) ===
      JSON.stringify(["Feedback by theme over time", "Loops closed", "Time to a first response", "Complaints by right"]),
    `the charts are the four the commissioner needs: ${captions}`,
  );
  // The plotted series are there: a legend naming themes, bars for the loop and complaints.
  const themes = await page.locator("figure").nth(0).locator("table tbody th").allInnerTexts();
  expect(themes.length > 0, "the themes table lists the themes");
  expect((await page.locator("figure").nth(0).locator("svg.chart--wide").innerHTML()).includes(themes[0]), "the chart's legend names the top theme");
  expect((await page.locator("figure").nth(3).locator("svg.chart--wide rect").count()) > 2, "complaints are drawn as bars");
  const articles = await page.locator("figure").nth(3).locator("table tbody tr").allInnerTexts();
  expect(articles.some((row) => row.includes("Article 5")), `complaints by article: ${articles}`);
  expect(articles.some((row) => row.includes("not shown")), "small counts are hidden, and say so");
  await check(page, "dashboard");
  // On a phone: the charts drawn for a phone, their text at least 12 px as rendered; the
  // tables under them scroll inside their own box at every width.
  await page.setViewportSize({ width: 390, height: 900 });
  expect((await page.getByRole("img").count()) === 4, "four charts on a phone too, drawn for its width");
  expect((await page.locator("svg.chart--phone:visible").count()) === 4 && (await page.locator("svg.chart--wide:visible").count()) === 0, "the phone's charts are shown, not the wide ones");
  expect((await chartTextReadableOnAPhone(page, "dashboard")) > 20, "there is chart text to measure");
  await tablesScrollInTheirOwnBox(page, "dashboard");
  await page.setViewportSize({ width: 1280, height: 900 });
  // One hub's feedback.
  await page.selectOption("#hub", "arun");
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/hub=arun/);
  expect((await page.locator(".lead").innerText()).includes("Arun"), "the dashboard narrows to one hub");
  // Issue #15: a chart with nothing to show now says why instead of drawing bare axes, so
  // "still four charts" became "four charts, or the words saying why one is empty".
  const arunEmpty = await page.locator(".chart-empty").allInnerTexts();
  expect((await page.getByRole("img").count()) + arunEmpty.length === 4, `still four charts, or why one is empty: ${arunEmpty}`);
  for (const why of arunEmpty) expect(why.length > 20, `an empty chart says why: ${why}`);
  await chartTextReadableOnAPhone(page, "dashboard-arun");
  // A hub where nothing was shared: each chart says why it is empty, with no bare axes.
  await page.goto(`${base}/dashboard?hub=west-sussex-forum`);
  const empty = await page.locator(".chart-empty").allInnerTexts();
  const drawn = await page.locator("svg.chart").count();
  expect(empty.length + drawn / 2 === 4, `each chart is drawn or says why not: ${empty}`);
  for (const why of empty) expect(why.length > 20 && !/\d/.test(why), `an empty chart says why in words: ${why}`);
  await check(page, "dashboard-forum");
  // Another role is turned away.
  await context.close();
  const member = await login(browser, base, "member.arun");
  const response = await member.page.goto(`${base}/dashboard`);
  expect(response.status() === 403, "a hub member cannot open the commissioner's dashboard");
  await member.context.close();
}
