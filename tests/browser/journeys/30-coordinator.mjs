// 2. Hub coordinator: redact the first item in the queue, check the shared version, share it;
// report back; record that a speaker narrowed their consent (the item leaves the queue); send
// an item that discloses a risk to a coordinator chosen by name, find it on the safeguarding
// page and record, on its own page, that the person withdrew their consent. Then moderation at volume: narrow the queue by theme,
// newest first, and page through it keeping the filters; confirm Heard's suggested redactions
// (unticking one); hold an item, find it under Held with its reason and release it; keep the
// hub's list of names and places.

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

  // The queue narrowed: one theme, newest first, with a plain GET form; paging keeps the filters.
  await follow(page, "Moderation", /\/moderation/);
  expect(!(await page.locator("select#theme").isVisible()), "the filters stay folded away until wanted");
  await page.locator("details.filters summary").click();
  const theme = await page.locator("select#theme option").nth(1).getAttribute("value");
  await page.selectOption("select#theme", theme);
  await page.selectOption("select#order", "newest");
  await page.getByRole("button", { name: "Show", exact: true }).click();
  await page.waitForURL(/theme=/);
  expect(page.url().includes(`theme=${theme}`) && page.url().includes("order=newest"), `the filters are in the address: ${page.url()}`);
  expect((await page.locator("select#theme").inputValue()) === theme, "the form shows the theme chosen");
  await check(page, "moderation-filtered");
  const days = await page.locator("article.item .item-title").allInnerTexts();
  const dated = days.map((text) => Date.parse(text.replace("Said on ", "")));
  expect(dated.every((day, i) => i === 0 || dated[i - 1] >= day), `newest first: ${days.join(", ")}`);
  await page.goto(`${base}/moderation?order=newest`);
  if ((await page.getByRole("link", { name: "Next page" }).count()) > 0) {
    await page.getByRole("link", { name: "Next page" }).click();
    await page.waitForURL(/page=2/);
    expect(page.url().includes("order=newest"), `the next page keeps the order: ${page.url()}`);
    expect((await page.locator("article.item").count()) <= 20, "at most 20 items a page");
    await page.getByRole("link", { name: "Previous page" }).click();
    await page.waitForURL((url) => !url.search.includes("page="));
  }

  // A suggested redaction: the passages Heard found are marked and ticked, never taken out by
  // themselves; the coordinator unticks one and confirms the rest.
  // The demo leaves the newest item of each hub that names someone waiting to be redacted.
  const finder = page.locator("article.item:has(.suggestions)").first();
  while ((await finder.count()) === 0 && (await page.getByRole("link", { name: "Next page" }).count()) > 0) {
    await page.getByRole("link", { name: "Next page" }).click();
    await page.waitForLoadState();
  }
  expect((await finder.count()) === 1, "an item in the demo queue has suggestions");
  const suggestedId = await finder.getAttribute("aria-labelledby");
  // Narrowed to the day it was said, so the page shows it with few others.
  const saidOn = new Date(Date.parse((await finder.locator(".item-title").innerText()).replace("Said on ", "")));
  const pad = (n) => String(n).padStart(2, "0");
  const day = `${saidOn.getFullYear()}-${pad(saidOn.getMonth() + 1)}-${pad(saidOn.getDate())}`;
  await page.goto(`${base}/moderation?from=${day}&to=${day}`);
  const suggested = page.locator(`article.item[aria-labelledby="${suggestedId}"]`);
  expect((await suggested.count()) === 1, `the item said on ${day} is there`);
  const boxes = suggested.locator(".suggestions input[type=checkbox]");
  const passages = await boxes.evaluateAll((inputs) => inputs.map((input) => [input.value, input.checked]));
  expect(passages.length > 0 && passages.every(([, ticked]) => ticked), `each suggestion is ticked: ${JSON.stringify(passages)}`);
  expect((await suggested.locator(".before-after mark").count()) > 0, "and marked in the words that would be shared");
  const before = await suggested.locator(".before-after blockquote").nth(1).innerText();
  expect(passages.every(([passage]) => before.includes(passage)), "nothing is taken out before the coordinator confirms");
  await check(page, "moderation-suggested-redaction");
  const kept = passages.length > 1 ? passages[passages.length - 1][0] : null;
  if (kept) await boxes.last().uncheck();
  await suggested.getByRole("button", { name: "Redact" }).click();
  expect((await page.locator(".notice").innerText()).includes("Redacted"), "the redaction is confirmed");
  expect(page.url().includes(`from=${day}&to=${day}`) && page.url().endsWith(`#${suggestedId}`), `back at the item, the filter kept: ${page.url()}`);
  const after = await page.locator(`article.item[aria-labelledby="${suggestedId}"] .before-after blockquote`).nth(1).innerText();
  const takenOut = passages.slice(0, kept ? -1 : undefined).map(([passage]) => passage);
  expect(takenOut.every((passage) => !after.includes(passage)), `the ticked ones are taken out: ${after}`);
  if (kept) expect(after.includes(kept), `the unticked one stays: ${after}`);

  // Held: the item leaves the queue, waits under Held with its reason, and comes back.
  await page.goto(`${base}/moderation`);
  const toHold = page.locator("article.item").nth(1);
  const heldId = await toHold.getAttribute("aria-labelledby");
  const nextId = await page.locator("article.item").nth(2).getAttribute("aria-labelledby");
  await toHold.locator("input[name=reason]").fill("Check the name with the speaker first");
  await toHold.getByRole("button", { name: "Hold in the hub" }).click();
  expect((await page.locator(".notice").innerText()).includes("Held in the hub"), "holding is confirmed");
  expect(page.url().endsWith(`#${nextId}`), `the page stands at the next item: ${page.url()}`);
  expect((await page.locator(`article.item[aria-labelledby="${heldId}"]`).count()) === 0, "a held item leaves the queue");
  await page.getByRole("link", { name: /^Held \(\d+\)$/ }).click();
  await page.waitForURL(/\/moderation\/held/);
  const held = page.locator(`article.item[aria-labelledby="${heldId}"]`);
  expect((await held.count()) === 1, "it waits under Held");
  expect((await held.locator(".held-reason").innerText()).includes("Check the name with the speaker first"), "with its reason");
  await held.scrollIntoViewIfNeeded();
  await check(page, "moderation-held");
  await held.getByRole("button", { name: "Release it back to the queue" }).click();
  expect((await page.locator(".notice").innerText()).includes("Released"), "releasing is confirmed");
  expect((await page.locator(`article.item[aria-labelledby="${heldId}"]`).count()) === 0, "it leaves Held");
  await page.getByRole("link", { name: /^To moderate \(\d+\)$/ }).click();
  expect((await page.locator(`#${heldId}`).count()) === 1 || (await page.getByRole("link", { name: "Next page" }).count()) > 0, "it is back in the queue");

  // The hub's own names and places: added, refused when blank, taken off.
  await page.getByRole("link", { name: "Names and places to take out" }).click();
  await page.waitForURL(/\/moderation\/gazetteer/);
  expect((await page.locator(".gazetteer li").count()) > 0, "the demo hub's towns are on its list");
  await check(page, "gazetteer");
  await page.getByRole("button", { name: "Add to the list" }).click();
  const missing = page.locator(".error-summary a");
  expect((await missing.first().getAttribute("href")) === "#name", "a blank name is an error linked to its field");
  await check(page, "gazetteer-error");
  await page.fill("#name", "Kezia Example");
  await page.check("input[name=kind][value=PERSON]");
  await page.getByRole("button", { name: "Add to the list" }).click();
  expect((await page.locator(".notice").innerText()).includes("Added to the list"), "adding is confirmed");
  const entry = page.locator(".gazetteer li", { hasText: "Kezia Example" });
  expect((await entry.count()) === 1, "the name is on the list");
  await entry.getByRole("button", { name: /Take off the list/ }).click();
  expect((await page.locator(".notice").innerText()).includes("Taken off the list"), "taking off is confirmed");
  expect((await page.locator(".gazetteer li", { hasText: "Kezia Example" }).count()) === 0, "and it is gone");
  await context.close();

}
