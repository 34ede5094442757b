// 5. Complaints handler: the queue by clock urgency, overdue ones marked; acknowledge one by
// keyboard alone, saying how and when, then work it on its own page through every step its
// stages allow: agree a period, assign it to a colleague chosen by name and take it back (it
// shows under Mine), investigate, extend (and whether the person agreed), pause and resume the
// clock, explain a delay, respond, record the outcome, the learning and an escalation. Then
// resolve another complaint early, and acknowledge one more with JavaScript switched off.

import { accessible, check, expect, follow, login, screenshots } from "../lib.mjs";

const words = (locator) => locator.innerText().then((text) => text.replace(/\s+/g, " ").trim());
/** A day as the pages write it: 4 December 2026. */
const inWords = (day) => day.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
/** A day as a date field holds it: 2026-12-04. */
const iso = (day) => `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "complaints");
  await follow(page, "Complaints", /\/complaints/);
  await check(page, "complaints");
  const firstCard = page.locator("article.complaint").first();
  expect((await firstCard.locator(".tag").innerText()) === "Overdue", "the most urgent complaint comes first, marked overdue");
  expect((await firstCard.locator(".clock").innerText()).includes("overdue by"), "its clock says by how much");
  expect((await words(firstCard.locator(".assigned"))).startsWith("Handled by:"), "each complaint says who handles it");
  const waiting = page.locator("article.complaint", { has: page.getByRole("link", { name: "Acknowledge", exact: true }) }).first();
  const title = await waiting.locator("h2").innerText();
  await waiting.getByRole("link", { name: "Acknowledge", exact: true }).click();
  await page.waitForURL(/\/complaints\/[0-9a-f-]+\/acknowledge\?from=queue$/);
  const ways = await page.locator("input[name=how]").evaluateAll((inputs) => inputs.map((i) => [i.value, i.checked]));
  expect(JSON.stringify(ways) === JSON.stringify([["PHONE", false], ["LETTER", false], ["EMAIL", false], ["IN_PERSON", false], ["TEXT_MESSAGE", false]]), `every way, none chosen in advance: ${ways}`);
  expect((await page.inputValue("#on")) === inWords(new Date()), "the day starts as today, as people write it");
  // Nothing chosen: the error is beside the choices and in the summary.
  await page.getByRole("button", { name: "Acknowledge", exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector(".error-summary");
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#how", "how they were told must be chosen");
  await check(page, "complaint-acknowledge-error");
  // By keyboard alone: the first way (by phone) with the space bar, then the button.
  await page.locator(".error-summary a").focus();
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => document.activeElement.id === "how"), "the summary's link takes the focus to the choices");
  await page.keyboard.press("Space");
  expect(await page.isChecked("input[name=how][value=PHONE]"), "the space bar chooses by phone");
  await page.getByRole("button", { name: "Acknowledge", exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/complaints\?done=acknowledge/);
  expect((await page.locator(".notice").innerText()).includes("Acknowledged"), "the acknowledgement is confirmed, back in the queue");
  const after = page.locator("article.complaint", { hasText: title.replace(/^(Overdue|Due soon)\s*/, "") }).first();
  expect((await after.locator(".meta").innerText()).startsWith("Acknowledged"), "the complaint moved on");

  // The complaint's own page: its clock, what happened, its history and the next steps.
  await after.locator("h2 a").click();
  await page.waitForURL(/\/complaints\/[0-9a-f-]+$/);
  const complaint = page.url();
  await check(page, "complaint");
  expect((await words(page.locator(".history"))).includes(`Acknowledged by phone on ${inWords(new Date())}`), "the history says how and when");
  const step = async (link) => {
    await page.getByRole("link", { name: link, exact: true }).click();
    await page.waitForURL(/\/complaints\/[0-9a-f-]+\/[a-z-]+$/);
  };
  const submit = (name) => page.locator("main form").getByRole("button", { name, exact: true }).click();
  const notice = () => words(page.locator(".notice"));

  // Agree a response period: what it means, then the API's range comes back beside the field.
  expect((await words(page.locator(".next-steps"))).includes("The person agreed a different time for the response than the usual 20 working days"), "the two are told apart where they are chosen");
  await step("Agree a response period");
  expect((await words(page.locator("main"))).includes("replaces the 20 working days"), "an agreed period replaces the 20 days");
  await page.fill("#working_days", "200");
  await submit("Agree a response period");
  expect((await words(page.locator("#working_days-error"))).includes("130"), "the API's limit is shown beside the field");
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#working_days", "and in the summary, linked to it");
  await check(page, "complaint-period-error");
  await page.fill("#working_days", "30");
  await submit("Agree a response period");
  expect((await notice()).includes("Response period agreed"), "the period is agreed");
  expect((await words(page.locator(".complaint-detail"))).includes("30 working days agreed"), "the agreed period is shown");

  // Assign it to a colleague chosen by name, then take it back: it shows under Mine.
  expect((await words(page.locator(".handler"))) === "Demo complaints handler (you)", "acknowledging it made it mine");
  await step("Assign to a handler");
  await check(page, "complaint-assign");
  const names = await page.locator("#handler_id option").evaluateAll((options) => options.map((o) => [o.textContent, o.selected]));
  expect(names[0][0] === "Choose a handler" && names[0][1], `nobody is chosen in advance: ${names}`);
  expect(names.some(([name]) => name === "Demo colleague in the complaints team"), `the team by name: ${names}`);
  expect(!names.some(([name]) => name.includes("(you)")), `not the one it is already with: ${names}`);
  await page.selectOption("#handler_id", { label: "Demo colleague in the complaints team" });
  await submit("Assign to a handler");
  expect((await notice()).includes("Assigned"), "the assignment is confirmed");
  expect((await words(page.locator(".handler"))) === "Demo colleague in the complaints team", "it is with the colleague");
  const assignedId = page.url().split("?")[0].split("/").pop();
  await page.goto(`${base}/complaints?show=mine`);
  expect((await page.locator(`#complaint-${assignedId}`).count()) === 0, "no longer under Mine");
  await page.goto(complaint);
  await step("Assign to a handler");
  await page.selectOption("#handler_id", { label: "Demo complaints handler (you)" });
  await submit("Assign to a handler");
  await follow(page, "All complaints", /\/complaints$/);
  await follow(page, "Mine", /show=mine/);
  await check(page, "complaints-mine");
  expect((await page.locator(`#complaint-${assignedId}`).count()) === 1, "taken back, it is under Mine");
  expect((await page.locator(".assigned strong").allInnerTexts()).every((name) => name === "Demo complaints handler (you)"), "Mine holds only mine");
  await page.goto(complaint);

  // Investigate, then extend: both answers are needed.
  await page.getByRole("button", { name: "Open an investigation" }).click();
  expect((await notice()).includes("Investigation opened"), "the investigation is open");
  await step("Extend the response period");
  expect((await words(page.locator("main"))).includes("added on top"), "an extension adds to the period that applies");
  expect((await page.locator("input[name=person_agreed]:checked").count()) === 0, "neither answer is chosen in advance");
  await check(page, "complaint-extend");
  await submit("Extend the response period");
  const links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#working_days", "#reason", "#person_agreed"]), `an extension needs days, a reason and the person's answer: ${links}`);
  await page.fill("#working_days", "5");
  await page.fill("#reason", "The keyworker involved is on leave until next week.");
  await page.check("input[name=person_agreed][value=YES]");
  await submit("Extend the response period");
  expect((await notice()).includes("extended"), "the extension is recorded");
  expect((await words(page.locator(".history"))).includes("Extended by 5 working days: The keyworker involved is on leave until next week. The person agreed to wait."), "with its reason and the person's answer");

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

  // With JavaScript switched off, another complaint is acknowledged by letter on the day typed.
  const off = await login(browser, base, "complaints", { javaScriptEnabled: false });
  await off.page.goto(`${base}/complaints`);
  const next = off.page.locator("article.complaint", { has: off.page.getByRole("link", { name: "Acknowledge", exact: true }) }).first();
  const nextId = (await next.getAttribute("id")).replace(/^complaint-/, "");
  await next.getByRole("link", { name: "Acknowledge", exact: true }).click();
  await off.page.check("input[name=how][value=LETTER]");
  await off.page.fill("#on", iso(new Date()));
  await off.page.getByRole("button", { name: "Acknowledge", exact: true }).click();
  await off.page.waitForURL(/\/complaints\?done=acknowledge/);
  await off.page.goto(`${base}/complaints/${nextId}`);
  expect((await words(off.page.locator(".history"))).includes(`Acknowledged by letter on ${inWords(new Date())}`), "acknowledged without JavaScript");
  await screenshots(off.page, "complaint-acknowledged-without-javascript");
  await off.context.close();

}
