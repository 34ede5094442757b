// 6. Commissioner: propose a decision through "check your answers", link what people said to
// it (without JavaScript, then search-as-you-type with it), unlink with a reason, add a
// milestone, move the status on; then answer shared feedback.

import { check, expect, login } from "../lib.mjs";

const words = (locator) => locator.innerText().then((text) => text.replace(/\s+/g, " ").trim());

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "commissioner");

  // The list.
  await page.getByRole("link", { name: "Decisions", exact: true }).first().click();
  await page.waitForURL(/\/decisions$/);
  expect((await page.locator(".decision-list > li").count()) >= 4, "the demo's decisions are listed");
  const firstFacts = await words(page.locator(".decision-list > li").first());
  // How far people were involved is said in words, never as "Rung 5 of 8" (changed in issue #15).
  expect(/Where it stands/.test(firstFacts) && /People(’|')?s? (who use services|views)/.test(firstFacts) && /Evidence linked/.test(firstFacts), `each decision shows its status, how far people were involved and its evidence: ${firstFacts}`);
  expect(!/Rung/.test(await page.locator("main").innerText()), "no rung numbers on the page");
  await check(page, "decisions");

  // Propose: a missing answer first, then "check your answers", a change, an error the API
  // finds, and the decision.
  await page.getByRole("link", { name: "Propose a decision" }).click();
  await page.waitForURL(/\/decisions\/new/);
  await check(page, "decision-new");
  const title = `Pharmacy opening that fits around work (${Date.now() % 100000})`;
  await page.fill("#title", title);
  await page.fill("#service_area", "Community pharmacy");
  await page.fill("#decided_by", "West Sussex DAAT board");
  await page.fill("#decision_date", "2099-01-15");
  await page.fill("#involvement", "Hub members raised it at three forums; two peer representatives helped write the proposal.");
  await page.getByRole("button", { name: "Continue" }).click();
  let links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#ladder_rung"]), `the summary names the missing rung: ${links}`);
  expect(await page.locator("#ladder_rung-error").isVisible(), "the error is beside the ladder's question");
  expect((await page.inputValue("#title")) === title, "what was typed is kept");
  await page.check("input[name=ladder_rung][value='6']");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForSelector("h1:has-text('Check your answers')");
  const answers = await words(page.locator(".check-answers"));
  expect(answers.includes(title) && answers.includes("shared the planning and the decision") && answers.includes("Community pharmacy"), `the answers are shown back, the involvement in words: ${answers}`);
  await check(page, "decision-check");
  await page.getByRole("link", { name: "Change what was decided" }).click();
  await page.waitForURL(/\/decisions\/new\?/);
  expect((await page.inputValue("#service_area")) === "Community pharmacy", "changing one answer keeps the others");
  expect(await page.isChecked("input[name=ladder_rung][value='6']"), "the chosen rung is kept");
  const newTitle = title.replace("Pharmacy opening", "Later pharmacy opening");
  await page.fill("#title", newTitle);
  await page.getByRole("button", { name: "Continue" }).click();
  expect((await words(page.locator(".check-answers"))).includes(newTitle), "the changed answer is on the check page");
  await page.getByRole("button", { name: "Propose the decision" }).click();
  links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#decision_date"]), `the API's error goes beside the date: ${links}`);
  expect((await page.locator("#decision_date-error").innerText()).includes("ten years"), "in the API's words");
  await page.fill("#decision_date", "2026-12-01");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("button", { name: "Propose the decision" }).click();
  await page.waitForURL(/\/decisions\/[0-9a-f-]{36}\?/);
  expect((await page.locator("h1").innerText()) === newTitle, "the new decision opens");
  expect((await page.locator(".notice").innerText()).includes("proposed"), "it is proposed");
  const decisionUrl = page.url().split("?")[0];

  // The status: an illegal change shows the API's message; a legal one moves it on.
  await page.locator("input[name=status]").first().evaluate((radio) => { radio.value = "DONE"; });
  await page.locator("input[name=status]").first().check();
  await page.getByRole("button", { name: "Change the status" }).click();
  expect((await page.locator(".error-summary").innerText()).includes("cannot become done"), "an illegal change is refused in the API's words");
  expect(await page.locator("#status-error").isVisible(), "beside the status");
  await page.check("input[name=status][value=AGREED]");
  await page.getByRole("button", { name: "Change the status" }).click();
  expect((await page.locator(".notice").innerText()).includes("status is changed"), "the status changes");
  expect((await words(page.locator("#status-section .timeline"))).includes("Agreed on"), "the history shows it");
  const offered = await page.locator("input[name=status]").evaluateAll((radios) => radios.map((r) => r.value));
  expect(JSON.stringify(offered) === JSON.stringify(["IN_PROGRESS", "DONE", "WITHDRAWN"]), `only the legal next statuses are offered: ${offered}`);

  // A milestone, met; progress.
  await page.locator("summary", { hasText: "Add a milestone" }).click();
  await page.fill("#milestone_title", "Two pharmacies open until 8pm on weekdays");
  await page.fill("#milestone_due", "2027-03-31");
  await page.getByRole("button", { name: "Add the milestone" }).click();
  expect((await words(page.locator(".milestones"))).includes("open until 8pm"), "the milestone is listed");
  await page.getByRole("button", { name: /^Mark as met/ }).first().click();
  expect((await words(page.locator(".milestones"))).includes("Met on"), "the milestone is met");
  await page.locator("summary", { hasText: "Record progress" }).click();
  await page.fill("#percent", "25");
  await page.fill("#progress_note", "Two of eight pharmacies have agreed.");
  await page.getByRole("button", { name: "Record progress" }).click();
  expect((await words(page.locator("#we-did"))).includes("25% done"), "progress is recorded");

  // Search as you type, with JavaScript and the real Content-Security-Policy (not bypassed):
  // the picker's script loads as an external file from Heard itself. No submit: the results
  // and the count update as the words are typed.
  const strict = await login(browser, base, "commissioner", { bypassCSP: false });
  const problems = [];
  strict.page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  strict.page.on("pageerror", (error) => problems.push(String(error)));
  await strict.page.goto(decisionUrl);
  await strict.page.evaluate(() => { window.stillHere = true; });
  await strict.page.locator("#q").pressSequentially("pharmacy", { delay: 40 });
  await strict.page.waitForFunction(() => document.querySelectorAll("#picker-results li").length > 0, null, { timeout: 10000 });
  expect(await strict.page.evaluate(() => window.stillHere === true), "the page was not reloaded: the results came in as you typed");
  const status = await strict.page.locator("#picker-status").innerText();
  expect(/\d+ shared items? match.*pharmacy/.test(status), `the live region says how many match: ${status}`);
  expect((await strict.page.locator("#picker-status").getAttribute("aria-live")) === "polite", "politely");
  expect(strict.page.url().includes("q=pharmacy"), "the address follows the search, so Back and reload work");
  await strict.page.locator("#q").fill("");
  await strict.page.locator("#q").pressSequentially("zzqqxx", { delay: 40 });
  await strict.page.waitForFunction(() => document.querySelectorAll("#picker-results li").length === 0, null, { timeout: 10000 });
  expect((await strict.page.locator("#picker-status").innerText()).startsWith("No shared feedback matches"), "and says so when nothing matches");
  expect(problems.length === 0, `no script or CSP errors: ${problems}`);
  await strict.context.close();
  await page.goto(`${decisionUrl}?q=pharmacy#picker`);
  await check(page, "decision");

  // Link evidence with JavaScript switched off: search, a missing rationale, then the link.
  const nojs = await login(browser, base, "commissioner", { javaScriptEnabled: false });
  const plain = nojs.page;
  await plain.goto(decisionUrl);
  await plain.fill("#q", "pharmacy");
  await plain.getByRole("button", { name: "Search", exact: true }).click();
  await plain.waitForURL(/q=pharmacy/);
  const result = plain.locator("li.picker-result", { has: plain.locator("details") }).first();
  const said = await result.locator(".fragment").innerText();
  await result.locator("summary").click();
  await result.getByRole("button", { name: "Link this", exact: true }).click();
  expect(await plain.locator(".error-summary").isVisible(), "a link needs a rationale");
  const missing = plain.locator("li.picker-result", { has: plain.locator(".field--error") });
  expect((await missing.count()) === 1, "the error is beside that result's rationale");
  expect((await missing.locator(".fragment").innerText()) === said, "on the same result, still listed");
  await missing.locator("textarea").fill("People told us the pharmacy's hours do not fit around work or childcare.");
  await missing.getByRole("button", { name: "Link this", exact: true }).click();
  expect((await plain.locator(".notice").innerText()).includes("linked"), "it is linked");
  const evidence = plain.locator("#evidence li.evidence", { hasText: "do not fit around work" });
  expect((await evidence.count()) === 1, "the item is under the evidence with its rationale");
  const snippet = said.split(/\s+/).slice(0, 6).join(" ");
  expect((await words(evidence.locator("blockquote"))).includes(snippet), `with what was said: ${snippet}`);
  expect((await plain.locator("li.picker-result", { hasText: said.slice(0, 40) }).locator(".tag").innerText()).includes("Already linked"), "the result says it is linked now");
  // A theme, too.
  await plain.selectOption("#theme", { label: "Opening hours" });
  await plain.fill("#theme_rationale", "Opening hours came up at every hub this year.");
  await plain.getByRole("button", { name: "Link this theme" }).click();
  expect((await plain.locator(".notice").innerText()).includes("theme is linked"), "the theme is linked");
  // Unlink the item, with a reason: it stays, marked withdrawn.
  const linked = plain.locator("#evidence li.evidence", { hasText: "do not fit around work" });
  await linked.locator("summary", { hasText: "Unlink this" }).click();
  await linked.getByRole("button", { name: "Unlink" }).click();
  expect(await plain.locator(".error-summary").isVisible(), "unlinking needs a reason");
  const again = plain.locator("#evidence li.evidence", { hasText: "do not fit around work" });
  await again.locator("textarea").fill("Linked to the wrong decision by mistake.");
  await again.getByRole("button", { name: "Unlink" }).click();
  expect((await plain.locator(".notice").innerText()).includes("unlinked"), "it is unlinked");
  const withdrawn = await words(plain.locator(".evidence--withdrawn", { hasText: "do not fit around work" }));
  expect(withdrawn.includes("Withdrawn") && withdrawn.includes("wrong decision by mistake"), `it is shown as withdrawn, with why: ${withdrawn}`);
  await nojs.context.close();

  // Shared feedback: acknowledge one; answer one "not acted on", empty first.
  await page.getByRole("link", { name: "Shared feedback", exact: true }).first().click();
  await page.waitForURL(/\/shared/);
  await check(page, "shared");
  const first = page.locator("article.shared-item").first();
  const firstId = await first.getAttribute("id");
  await first.getByRole("button", { name: "Acknowledge" }).click();
  expect((await page.locator(".notice").innerText()).includes("Acknowledged"), "the acknowledgement is confirmed");
  expect((await page.locator(`#${firstId}`).count()) === 0, "it leaves the list waiting for acknowledgement");
  // Several at once, without JavaScript's help: tick two, then "Acknowledge selected".
  const ticked = await page.locator("input[name=items]").evaluateAll((boxes) => boxes.slice(0, 2).map((box) => box.value));
  expect(ticked.length === 2, "items waiting can be ticked");
  for (const id of ticked) {
    const label = await page.locator(`label[for=select-${id}]`).innerText();
    expect(label.startsWith("Select"), `each checkbox has its own label: ${label}`);
    await page.check(`#select-${id}`);
  }
  await page.getByRole("button", { name: "Acknowledge selected" }).click();
  await page.waitForURL(/done=acknowledged-selected/);
  expect((await page.locator(".notice").innerText()).includes("The items you selected are acknowledged"), "the acknowledgement of both is confirmed");
  for (const id of ticked) expect((await page.locator(`#card-${id}`).count()) === 0, "both leave the list waiting for acknowledgement");
  await page.goBack();
  await page.goForward();
  expect((await page.locator(".notice").count()) === 1, "Back and Forward show the page again, no resubmission");
  await page.getByRole("button", { name: "Acknowledge selected" }).click();
  expect((await page.locator(".error-summary").innerText()).includes("Select at least one item"), "nothing ticked says so");
  await check(page, "shared-selected-error");
  await page.goto(`${base}/shared`);
  const next = page.locator("article.shared-item").first();
  const nextId = (await next.getAttribute("id")).replace(/^card-/, "");
  await next.locator("summary", { hasText: "Not acted on" }).click();
  await next.getByRole("button", { name: "Send the answer" }).click();
  links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify([`#reason-${nextId}`]), `the summary links to that item's reason: ${links}`);
  expect(await page.locator(`#reason-${nextId}-error`).isVisible(), "the error is beside the reason, left open");
  await page.fill(`#reason-${nextId}`, "The pharmacy contract is held by NHS England, not by us. We have passed it on to them.");
  await page.locator(`#card-${nextId}`).getByRole("button", { name: "Send the answer" }).click();
  expect((await page.locator(".notice").innerText()).includes("Answered"), "the answer is sent");
  expect((await page.locator(`#card-${nextId}`).count()) === 0, "it leaves the list");
  await context.close();
}
