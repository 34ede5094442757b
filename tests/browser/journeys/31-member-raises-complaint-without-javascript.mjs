// 3. Hub member raises a Bill of Rights complaint with JavaScript switched off: what is missing
// first, then a name the form needs, then "check your answers", a change, and the complaint.
// Then the same pages with JavaScript on, checked with axe.

import { check, expect, login, screenshots } from "../lib.mjs";

const words = (locator) => locator.innerText().then((text) => text.replace(/\s+/g, " ").trim());

async function fill(page) {
  await page.check("input[name=provider][value=addaction]");
  await page.fill("#service", "The Bognor Regis hub");
  await page.check("input[name=articles][value='5']");
  await page.check("input[name=articles][value='6']");
  await page.fill("#what_happened", "After a relapse my keyworker said I had wasted everyone's time and cut my appointments.");
  await page.fill("#outcome_wanted", "An apology, and my appointments back.");
  await page.check("input[name=route][value=HUB]");
}

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "member.arun", { javaScriptEnabled: false });
  await page.goto(`${base}/complaints`);
  await page.getByRole("link", { name: "Raise a complaint" }).click();
  await page.waitForURL(/\/complaints\/new$/);
  expect((await page.inputValue("#received_on")).match(/^(\d{1,2} [A-Z][a-z]+ \d{4})?$/), "the day it came in is today or left empty for today, as people write it");

  // Nothing answered: every missing answer is named, in the order the form asks.
  await page.getByRole("button", { name: "Continue" }).click();
  const summary = page.locator(".error-summary");
  expect(await summary.isVisible(), "an empty form shows the error summary");
  const links = await summary.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(
    JSON.stringify(links) === JSON.stringify(["#provider", "#articles", "#what_happened", "#outcome_wanted", "#route", "#complainant_kind"]),
    `each error links to its field: ${links}`,
  );
  expect(await page.locator("#what_happened-error").isVisible(), "the error is also beside its field");
  expect((await page.locator("input[name=complainant_kind][value=RELAYED_BY_ADVOCATE]").count()) === 0, "only an advocate can pass a complaint on as its advocate");
  await screenshots(page, "complaint-new-errors-without-javascript");

  // A named complaint needs the name.
  await fill(page);
  await page.check("input[name=complainant_kind][value=NAMED]");
  await page.getByRole("button", { name: "Continue" }).click();
  const named = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(named) === JSON.stringify(["#complainant_name"]), `only the name is missing now: ${named}`);
  expect((await page.inputValue("#what_happened")).includes("wasted everyone's time"), "what was typed is kept");
  expect(await page.isChecked("input[name=articles][value='6']"), "the rights chosen are kept");
  await page.fill("#complainant_name", "Sam Example");
  await page.fill("#complainant_contact", "07700 900456");
  await page.getByRole("button", { name: "Continue" }).click();

  // Check your answers, change one, check again.
  expect((await page.locator("h1").innerText()).startsWith("Check your answers"), "the answers come back to check");
  const answers = await words(page.locator(".check-answers"));
  for (const answer of ["Addaction", "Right 5: Respectful, rapid, recovery-positive services", "Right 6: Not a label", "wasted everyone's time", "Through a hub", "Sam Example", "07700 900456"]) {
    expect(answers.includes(answer), `the check page shows "${answer}": ${answers}`);
  }
  await page.getByRole("button", { name: "Change what happened" }).click();
  expect((await page.inputValue("#what_happened")).includes("wasted everyone's time"), "Change brings the answer back to edit");
  expect(await page.isChecked("input[name=complainant_kind][value=NAMED]"), "and keeps the other answers");
  await page.fill("#what_happened", "After a relapse my keyworker said I had wasted everyone's time, and my appointments were cut to one a month.");
  await page.getByRole("button", { name: "Continue" }).click();
  expect((await words(page.locator(".check-answers"))).includes("cut to one a month"), "the changed answer is the one to check");

  // Record it.
  await page.getByRole("button", { name: "Record the complaint" }).click();
  await page.waitForURL(/\/complaints\/raised/);
  expect((await page.locator("h1").innerText()) === "Complaint recorded", "the complaint is recorded without JavaScript");
  expect(/acknowledge it by \d{4}-\d{2}-\d{2}/.test(await words(page.locator(".panel"))), "it says when it will be acknowledged");
  await context.close();

  // The same pages with JavaScript on, checked with axe at every step.
  const on = await login(browser, base, "member.arun");
  await on.page.goto(`${base}/complaints/new`);
  await check(on.page, "complaint-new");
  await on.page.getByRole("button", { name: "Continue" }).click();
  await check(on.page, "complaint-new-errors");
  await fill(on.page);
  await on.page.check("input[name=complainant_kind][value=ANONYMOUS]");
  await on.page.getByRole("button", { name: "Continue" }).click();
  expect(!(await words(on.page.locator(".check-answers"))).includes("Their name"), "an anonymous complaint asks for no name");
  await check(on.page, "complaint-check");
  await on.page.getByRole("button", { name: "Record the complaint" }).click();
  await on.page.waitForURL(/\/complaints\/raised/);
  await check(on.page, "complaint-raised");
  await on.context.close();

}
