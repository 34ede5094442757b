// 4. Advocate: refer a case, accept it, keep the timeline, close it with the client's view.

import { accessible, check, expect } from "../lib.mjs";

export default async function ({ browser, base }) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill("#email", "advocate@demo.heard.example");
  await page.fill("#password", "heard demo advocate");
  await page.click("button[type=submit]");
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
  await page.check("input[name=action_kind][value=MEETING]");
  await page.fill("#text", "Met River at the hub; agreed to ask for a review meeting.");
  await page.getByRole("button", { name: "Save to the timeline" }).click();
  expect((await page.locator(".timeline").innerText()).includes("agreed to ask for a review"), "the action is on the timeline");
  await check(page, "case");
  await page.selectOption("#outcome", "ACHIEVED");
  await page.getByRole("button", { name: "Close the case" }).click();
  expect((await page.locator(".error-summary").innerText()).toLowerCase().includes("view"), "instructed advocacy needs the client's own view");
  await page.selectOption("#outcome", "ACHIEVED");
  await page.fill("#client_view", "I was listened to and the dose stays as it is.");
  await page.getByRole("button", { name: "Close the case" }).click();
  expect((await page.locator("main").innerText()).includes("Closed"), "the case is closed");
  await context.close();

}
