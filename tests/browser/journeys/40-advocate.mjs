// 4. Advocate: refer a case, accept it, record the client's consent to share, keep the
// timeline (an action on the day it happened), close it with the outcome (none chosen in
// advance) and the client's view, record that consent was withdrawn, reopen it, and hand it to
// another advocate chosen by name. Then pass a complaint on for a client, and follow it under
// "Complaints you passed on".

import { accessible, check, expect, login } from "../lib.mjs";

export default async function ({ browser, base }) {
  // An administrator adds a second advocate, for the case to be handed to.
  const admin = await login(browser, base, "admin");
  await admin.page.goto(`${base}/admin`);
  await admin.page.fill("#display_name", "Jo Advocate");
  await admin.page.fill("#email", "jo.advocate@demo.heard.example");
  await admin.page.check("input[name=roles][value=ADVOCATE]");
  await admin.page.getByRole("button", { name: "Add the account" }).click();
  expect((await admin.page.locator(".secret").count()) === 1, "the second advocate's account is made");
  await admin.context.close();

  const { context, page } = await login(browser, base, "advocate");
  await page.getByRole("link", { name: "My cases", exact: true }).first().click();
  await page.waitForURL(/\/cases$/);
  await check(page, "cases");
  await page.getByRole("link", { name: "Refer a new case" }).click();
  await page.getByRole("button", { name: "Refer", exact: true }).click();
  const links = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(links) === JSON.stringify(["#issue", "#kind"]), `the refer form names what is missing: ${links}`);
  await accessible(page, "refer-errors");
  await page.fill("#pseudonym", "River");
  await page.fill("#issue", "Wants a review before the methadone dose is cut again");
  await page.check("input[name=kind][value=INSTRUCTED]");
  await page.selectOption("#domain", "PRESCRIBING_REVIEW");
  await page.getByRole("button", { name: "Refer", exact: true }).click();
  await page.waitForURL(/\/cases\/[0-9a-f-]+/);
  expect((await page.locator("h1").innerText()) === "River", "the new case opens");
  await page.getByRole("button", { name: "Accept" }).click();
  expect((await page.locator(".notice").innerText()).includes("Accepted"), "the case is accepted");
  await page.getByRole("button", { name: "Record consent" }).click();
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#scope", "consent needs a scope");
  expect(await page.locator("#scope-error").isVisible(), "the error is beside the choices");
  await page.check("input[name=scope][value=NAMED_SERVICES]");
  await page.getByRole("button", { name: "Record consent" }).click();
  expect((await page.locator(".notice").innerText()).includes("Consent recorded"), "the consent is recorded");
  expect((await page.locator(".summary-list").innerText()).includes("Only the services they named"), "the consent in force is in plain words");
  await page.check("input[name=action_kind][value=MEETING]");
  const today = await page.inputValue("#action_on");
  expect(/^\d{1,2} [A-Z][a-z]+ \d{4}$/.test(today), `the day of the action is today unless changed, as people write it: ${today}`);
  await page.fill("#text", "Met River at the hub; agreed to ask for a review meeting.");
  await page.getByRole("button", { name: "Save to the timeline" }).click();
  const timeline = await page.locator(".timeline").innerText();
  expect(timeline.includes("agreed to ask for a review"), "the action is on the timeline");
  expect(timeline.includes(`${today} · Meeting`), "with the day it happened");
  await check(page, "case");
  expect((await page.locator("input[name=outcome]:checked").count()) === 0, "no outcome is chosen in advance");
  expect((await page.inputValue("#reason")) === "", "no reason for closing is chosen in advance");
  await page.getByRole("button", { name: "Close the case" }).click();
  const closingErrors = await page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  expect(JSON.stringify(closingErrors) === JSON.stringify(["#outcome", "#reason"]), `closing needs the outcome and the reason: ${closingErrors}`);
  await page.check("input[name=outcome][value=ACHIEVED]");
  await page.selectOption("#reason", "ISSUE_RESOLVED");
  await page.getByRole("button", { name: "Close the case" }).click();
  expect((await page.locator(".error-summary").innerText()).toLowerCase().includes("view"), "instructed advocacy needs the client's own view");
  await page.check("input[name=outcome][value=ACHIEVED]");
  await page.fill("#client_view", "I was listened to and the dose stays as it is.");
  await page.getByRole("button", { name: "Close the case" }).click();
  expect((await page.locator("main").innerText()).includes("Closed"), "the case is closed");
  expect((await page.locator(".timeline").innerText()).includes("Closed. Outcome: achieved"), "the closing is on the timeline with its outcome");
  await check(page, "case-closed");
  // The client withdraws their consent after the case closed.
  await page.getByRole("button", { name: "Record that consent was withdrawn" }).click();
  expect((await page.locator(".notice").innerText()).includes("Consent withdrawn"), "the withdrawal is recorded");
  expect((await page.locator(".summary-list").innerText()).includes("Withdrawn"), "no consent is in force");
  expect((await page.getByRole("button", { name: "Record that consent was withdrawn" }).count()) === 0, "there is nothing left to withdraw");
  // The agreed review did not happen: reopen, first without a reason.
  await page.getByRole("button", { name: "Reopen the case" }).click();
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#reopen_reason", "reopening needs a reason");
  await accessible(page, "case-reopen-errors");
  await page.fill("#reopen_reason", "The review meeting was cancelled and not rearranged.");
  await page.getByRole("button", { name: "Reopen the case" }).click();
  expect((await page.locator(".notice").innerText()).includes("Reopened"), "the case is reopened");
  expect((await page.locator(".timeline").innerText()).includes("review meeting was cancelled"), "the reopening is on the timeline");
  expect((await page.getByRole("button", { name: "Save to the timeline" }).count()) === 1, "an open case takes actions again");
  await check(page, "case-reopened");
  // Handed to another advocate, chosen by name; first without choosing anyone.
  await page.getByText("Hand the case to another advocate").click();
  expect((await page.inputValue("#advocate_id")) === "", "nobody is chosen in advance");
  const names = await page.locator("#advocate_id option").allInnerTexts();
  expect(names.includes("Jo Advocate") && !names.includes("Demo advocate"), `the other advocates by name: ${names}`);
  await page.getByRole("button", { name: "Hand over the case" }).click();
  expect((await page.locator(".error-summary a").getAttribute("href")) === "#advocate_id", "handing over needs an advocate");
  await page.getByLabel("Which advocate?").selectOption({ label: "Jo Advocate" });
  await page.getByRole("button", { name: "Hand over the case" }).click();
  await page.waitForURL(/\/cases\?done=assigned/);
  expect((await page.locator(".notice").innerText()).includes("Handed over"), "the case is with the other advocate");

  // A client wants to complain without the service knowing who: the advocate passes it on.
  await page.goto(`${base}/complaints/new`);
  await page.check("input[name=provider][value=cri]");
  await page.check("input[name=articles][value='10']");
  await page.fill("#what_happened", "Released on a Friday with no script arranged, and nobody answered the phone.");
  await page.fill("#outcome_wanted", "A script ready on the day of release for everyone.");
  await page.check("input[name=route][value=ADVOCATE]");
  await page.check("input[name=complainant_kind][value=RELAYED_BY_ADVOCATE]");
  await page.getByRole("button", { name: "Continue" }).click();
  expect((await page.locator(".check-answers").innerText()).includes("I am their advocate"), "the check page says it is passed on");
  await page.getByRole("button", { name: "Record the complaint" }).click();
  await page.waitForURL(/\/complaints\/raised/);
  await page.goto(`${base}/complaints`);
  expect((await page.locator("h1").innerText()) === "Complaints you passed on", "the advocate follows the complaints they passed on");
  const relayed = page.locator("article.complaint", { hasText: "Released on a Friday with no script arranged, and nobody" });
  expect((await relayed.count()) >= 1, "the new complaint is listed");
  expect((await page.locator("main article.complaint button").count()) === 0, "an advocate does not handle complaints: no step buttons on any complaint");
  expect((await page.getByLabel("Find a complaint by its reference").count()) === 1, "the advocate can find a complaint by its reference");
  await context.close();

}
