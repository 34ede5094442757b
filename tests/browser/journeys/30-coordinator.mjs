// 2. Hub coordinator: redact the first item in the queue, check the shared version, share it;
// report back; record that a speaker narrowed their consent (the item leaves the queue); send
// an item that discloses a risk to a coordinator chosen by name, find it on the safeguarding
// page and record, on its own page, that the person withdrew their consent.

import { check, expect, follow, login } from "../lib.mjs";

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "coordinator.arun");
  await follow(page, "Moderation", /\/moderation/);
  await check(page, "moderation");
  const first = page.locator("article.item").first();
  const said = await first.locator(".before-after blockquote").first().innerText();
  const word = said.split(/\s+/).find((w) => w.length > 4) ?? said.split(/\s+/)[0];
  await first.locator("textarea").fill(word);
  await first.getByRole("button", { name: "Redact" }).click();
  expect((await page.locator(".notice").innerText()).includes("Redacted"), "the redaction is confirmed");
  const redactedItem = page.locator("article.item").first();
  const shared = await redactedItem.locator(".before-after blockquote").nth(1).innerText();
  expect(!shared.includes(word), `the shared version leaves out "${word}": ${shared}`);
  expect((await redactedItem.locator(".before-after blockquote").first().innerText()).includes(word), "the hub keeps the words as said");
  await redactedItem.getByRole("button", { name: "Share" }).click();
  expect((await page.locator(".notice").innerText()).includes("Shared"), "the item is shared");
  await check(page, "moderation-after");
  // Close the loop: report back what commissioners did with an item.
  await follow(page, "Report back", /\/report-back/);
  await check(page, "report-back");
  const waiting = await page.getByRole("button", { name: "Reported back at a meeting" }).count();
  if (waiting > 0) {
    await page.getByRole("button", { name: "Reported back at a meeting" }).first().click();
    expect((await page.locator(".notice").innerText()).includes("Recorded"), "the report-back is recorded");
    expect((await page.getByRole("button", { name: "Reported back at a meeting" }).count()) === waiting - 1, "the item leaves the list");
  }

  // The speaker narrows what they agreed to: first forgetting to choose, then "this hub only".
  await follow(page, "Moderation", /\/moderation/);
  const narrowed = page.locator("article.item").first();
  const narrowedId = await narrowed.getAttribute("aria-labelledby");
  const narrowedSaid = await narrowed.locator(".before-after blockquote").first().innerText();
  await narrowed.locator("summary").click();
  await narrowed.getByRole("button", { name: "Change consent" }).click();
  const consentError = await page.locator(".error-summary a").first();
  expect((await consentError.innerText()).includes("Choose who may see it now"), "choosing nothing is an error");
  expect((await consentError.getAttribute("href")).startsWith("#consent-"), "the error links to the item's consent choices");
  const again = page.locator(`article.item[aria-labelledby="${narrowedId}"]`);
  expect(await again.locator("details").evaluate((d) => d.open), "the item's consent form is open beside its error");
  expect(await again.locator(".field-error").first().isVisible(), "the error is beside the choices");
  await check(page, "moderation-consent-error");
  await again.locator("input[type=radio][value=HUB]").check();
  await again.getByRole("button", { name: "Change consent" }).click();
  expect((await page.locator(".notice").innerText()).includes("Consent changed"), "the consent change is confirmed");
  expect((await page.locator(`article.item[aria-labelledby="${narrowedId}"]`).count()) === 0, "an item kept in the hub leaves the moderation queue");

  // An item tells of a risk: it goes to a coordinator with a duty of care chosen by name
  // (nobody chosen in advance), and nowhere else.
  const risky = page.locator("article.item").first();
  const riskyId = (await risky.getAttribute("aria-labelledby")).replace(/^item-/, "");
  const riskySaid = await risky.locator(".before-after blockquote").first().innerText();
  expect(riskySaid !== narrowedSaid, "another item");
  await risky.locator("summary").click();
  expect((await page.inputValue(`#coordinator-${riskyId}`)) === "", "nobody is chosen in advance, not even you");
  await page.locator(`#coordinator-${riskyId}`).selectOption({ label: "Demo hub coordinator (you)" });
  await risky.getByRole("button", { name: "Send for safeguarding" }).click();
  expect((await page.locator(".notice").innerText()).includes("Sent for safeguarding"), "the flag is confirmed");
  expect((await page.locator(`article.item[aria-labelledby="item-${riskyId}"]`).count()) === 0, "the item leaves the moderation queue");
  await page.getByRole("link", { name: "Go to safeguarding" }).click();
  await page.waitForURL(/\/safeguarding$/);
  const queued = page.locator(`#disclosure-${riskyId}`);
  expect((await queued.count()) === 1, "the item waits on the safeguarding page");
  expect((await queued.locator("blockquote").innerText()) === riskySaid, `in the words as said: ${riskySaid}`);
  await check(page, "safeguarding-flagged");
  // The person withdraws their consent: recorded on the disclosure's own page.
  await queued.locator("h3 a").click();
  await page.waitForURL(new RegExp(`/safeguarding/${riskyId}$`));
  await page.locator("input[type=radio][value=WITHDRAWN]").check();
  await page.getByRole("button", { name: "Change consent" }).click();
  expect((await page.locator(".notice").innerText()).includes("Consent changed"), "the withdrawal is confirmed");
  expect((await page.locator("blockquote").first().innerText()).includes("consent withdrawn"), "the words are no longer shown once consent is withdrawn");
  expect((await page.getByRole("button", { name: "Change consent" }).count()) === 0, "nothing is left to change");
  await context.close();

}
