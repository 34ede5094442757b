// 5b. Provider responder: the complaints about their own service, read-only, never who
// complained; no handler's steps anywhere.

import { check, expect, follow, login } from "../lib.mjs";

const words = (locator) => locator.innerText().then((text) => text.replace(/\s+/g, " ").trim());

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "provider");
  await follow(page, "Complaints", /\/complaints/);
  expect((await page.locator("h1").innerText()) === "Complaints about your service", "the page is about their own service");
  if ((await page.locator("article.complaint").count()) === 0) {
    await page.getByRole("link", { name: "Closed", exact: true }).click();
  }
  const titles = await page.locator("article.complaint h2").allInnerTexts();
  expect(titles.length > 0, "the demo has complaints about Addaction");
  expect(titles.every((title) => title.includes("Addaction")), `only complaints about their own service: ${titles}`);
  expect((await page.locator("main article.complaint button").count()) === 0, "no steps to take on any complaint: the complaints team handles them");
  expect((await page.getByRole("link", { name: "Raise a complaint" }).count()) === 0, "a provider does not raise complaints");
  expect((await page.getByRole("link", { name: "Mine", exact: true }).count()) === 0, "no Mine tab: complaints are never assigned to a provider");
  expect((await page.locator(".assigned").count()) === 0, "nor does a provider learn who handles each complaint");
  await check(page, "complaints-provider");

  await page.locator("article.complaint h2 a").first().click();
  await page.waitForURL(/\/complaints\/[0-9a-f-]+$/);
  const detail = await words(page.locator("main"));
  expect(detail.includes("Who complained Withheld"), `who complained is withheld: ${detail}`);
  for (const name of ["Jo Demo", "Alex Sample", "Sam Example", "07700"]) {
    expect(!detail.includes(name), `no complainant's details on the page (${name})`);
  }
  expect((await page.locator(".next-steps").count()) === 0, "no next steps for a provider");
  await check(page, "complaint-provider");
  expect(!detail.includes("Handled by"), "who handles it is not shown to the provider");
  const complaintUrl = page.url();
  const step = await page.goto(`${complaintUrl}/outcome`);
  expect(step.status() === 403, `a handler's step page is refused: ${step.status()}`);
  const assign = await page.goto(`${complaintUrl}/assign`);
  expect(assign.status() === 403, `the assign page and its list of the team are refused: ${assign.status()}`);
  expect(!(await words(page.locator("main"))).includes("Demo complaints handler"), "no handler's name on it");
  await page.goto(`${base}/complaints?show=mine`);
  expect((await page.locator("h1").innerText()) === "Complaints about your service", "asking for Mine shows the ordinary page");
  await context.close();

}
