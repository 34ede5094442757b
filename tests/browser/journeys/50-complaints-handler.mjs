// 5. Complaints handler: the queue by clock urgency, overdue ones marked; acknowledge one, then
// work it on its own page through every step its stages allow: agree a period, investigate,
// extend, pause and resume the clock, explain a delay, respond, record the outcome, the
// learning and an escalation. Then resolve another complaint early.

import { accessible, check, expect, follow, login } from "../lib.mjs";

const words = (locator) => locator.innerText().then((text) => text.replace(/\s+/g, " ").trim());

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "complaints");
  await follow(page, "Complaints", /\/complaints/);
  await check(page, "complaints");
  const firstCard = page.locator("article.complaint").first();
  expect((await firstCard.locator(".tag").innerText()) === "Overdue", "the most urgent complaint comes first, marked overdue");
  expect((await firstCard.locator(".clock").innerText()).includes("overdue by"), "its clock says by how much");
  const waiting = page.locator("article.complaint", { has: page.getByRole("button", { name: "Acknowledge" }) }).first();
  const title = await waiting.locator("h2").innerText();
  await waiting.getByRole("button", { name: "Acknowledge" }).click();
  expect((await page.locator(".notice").innerText()).includes("Acknowledged"), "the acknowledgement is confirmed");
  const after = page.locator("article.complaint", { hasText: title.replace(/^(Overdue|Due soon)\s*/, "") }).first();
  expect((await after.locator(".meta").innerText()).startsWith("Acknowledged"), "the complaint moved on");

  // The complaint's own page: its clock, what happened, its history and the next steps.
  await after.locator("h2 a").click();
  await page.waitForURL(/\/complaints\/[0-9a-f-]+$/);
  const complaint = page.url();
  await check(page, "complaint");
  const step = async (link) => {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.waitForURL(/\/complaints\/[0-9a-f-]+\/[a-z-]+$/);
  };
  const submit = (name) => page.locator("main form").getByRole("button", { name, exact: true }).click();
  const notice = () => words(page.locator(".notice"));

  // Agree a response period: the API's range comes back beside the field.
  await step("Agree a response period");
  await page.fill("#working_days", "200");
  await submit("Agree a response period");
  expect((await words(page.locator("#working_days-error"))).includes("130"), "the API's limit is shown beside the field");
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#working_days", "and in the summary, linked to it");
  await check(page, "complaint-period-error");
  await page.fill("#working_days", "30");
  await submit("Agree a response period");
  expect((await notice()).includes("Response period agreed"), "the period is agreed");
  expect((await words(page.locator(".complaint-detail"))).includes("30 working days agreed"), "the agreed period is shown");

  // Investigate, then extend: both answers are needed.
  await page.getByRole("button", { name: "Open an investigation" }).click();
  expect((await notice()).includes("Investigation opened"), "the investigation is open");
  await step("Extend the response period");
  await submit("Extend the response period");
  const links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#working_days", "#reason"]), `an extension needs days and a reason: ${links}`);
  await page.fill("#working_days", "5");
  await page.fill("#reason", "The keyworker involved is on leave until next week.");
  await submit("Extend the response period");
  expect((await notice()).includes("extended"), "the extension is recorded");
  expect((await words(page.locator(".history"))).includes("Extended by 5 working days: The keyworker involved is on leave"), "with its reason");

  // Pause and resume the clock.
  await step("Pause the clock");
  await check(page, "complaint-pause");
  await page.fill("#reason", "Waiting to hear back from the person who complained.");
  await submit("Pause the clock");
  expect((await notice()).includes("paused"), "the clock is paused");
  expect((await words(page.locator(".complaint-detail .clock"))).includes("paused"), "the clock says so");
  expect((await page.getByRole("button", { name: "Record that the response was sent" }).count()) === 0, "no response while paused");
  await page.getByRole("button", { name: "Resume the clock" }).click();
  expect((await notice()).includes("running again"), "the clock runs again");
  expect((await words(page.locator(".history"))).includes("Waiting to hear back"), "the pause stays in the history");

  // Explain a delay.
  await step("Explain why it is taking so long");
  await page.fill("#reason", "Records had to be requested from the prison healthcare team.");
  await submit("Explain why it is taking so long");
  expect((await notice()).includes("Explanation recorded"), "the explanation is recorded");

  // Respond, then the outcome, which closes it.
  await page.getByRole("button", { name: "Record that the response was sent" }).click();
  expect((await notice()).includes("response was sent"), "the response is recorded");
  await step("Record the outcome");
  await submit("Record the outcome");
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#outcome", "an outcome must be chosen");
  await page.check("input[name=outcome][value=PARTLY_UPHELD]");
  await submit("Record the outcome");
  expect((await notice()).includes("Outcome recorded"), "the outcome is recorded");
  expect((await words(page.locator(".complaint-detail"))).includes("Partly upheld"), "and shown");

  // Learning: the API refuses a phone number, beside the field.
  await step("Record what should change");
  await page.fill("#statement", "Call the pharmacist on 07700 900123 about supervised doses");
  await submit("Record what should change");
  expect((await words(page.locator("#statement-error"))).toLowerCase().includes("identify"), "learning must identify nobody");
  await page.fill("#statement", "Supervised doses are given in a private room, not at the counter");
  await submit("Record what should change");
  expect((await notice()).includes("Learning recorded"), "the learning is recorded");

  // Escalation to the provider's own process, with its reference.
  await step("Record an escalation");
  await check(page, "complaint-escalate");
  await page.check("input[name=to][value=PROVIDER_PROCESS]");
  await page.fill("#reference", "ADD-2026-118");
  await submit("Record an escalation");
  expect((await notice()).includes("Escalation recorded"), "the escalation is recorded");
  expect((await words(page.locator(".history"))).includes("the provider's own complaints process, reference ADD-2026-118"), "with its reference");
  await check(page, "complaint-closed");

  // The closed tab lists it; the open queue does not.
  await page.getByRole("link", { name: "All complaints" }).click();
  const id = complaint.split("/").pop();
  expect((await page.locator(`#complaint-${id}`).count()) === 0, "a closed complaint leaves the open queue");
  await follow(page, "Closed", /show=closed/);
  expect((await words(page.locator(`#complaint-${id} .clock`))).includes("Partly upheld"), "the closed tab lists it with its outcome");

  // Another complaint, acknowledged earlier, is resolved early.
  await page.getByRole("link", { name: "Open", exact: true }).click();
  const early = page.locator("article.complaint", { has: page.getByRole("button", { name: "Try early resolution" }) }).first();
  const earlyId = (await early.getAttribute("id")).replace(/^complaint-/, "");
  await early.getByRole("button", { name: "Try early resolution" }).click();
  expect((await notice()).includes("Early resolution chosen"), "early resolution is chosen from the queue");
  await page.goto(`${base}/complaints/${earlyId}/outcome`);
  const offered = await page.locator("input[name=outcome]").evaluateAll((inputs) => inputs.map((i) => i.value));
  expect(JSON.stringify(offered) === JSON.stringify(["RESOLVED_EARLY", "WITHDRAWN"]), `before a response only these outcomes are offered: ${offered}`);
  await accessible(page, "complaint-outcome");
  await page.check("input[name=outcome][value=RESOLVED_EARLY]");
  await submit("Record the outcome");
  expect((await words(page.locator(".complaint-detail"))).includes("Resolved early"), "it is resolved early");
  await context.close();

}
