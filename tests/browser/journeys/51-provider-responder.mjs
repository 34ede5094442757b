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
  const step = await page.goto(`${page.url()}/outcome`);
  expect(step.status() === 403, `a handler's step page is refused: ${step.status()}`);
  await context.close();

}
