// 8. Administrator: accounts, a one-time password shown once on the new person's page (and not
// again on a refresh), a token made and revoked, the log; one person's page (what they do
// changed, an error first; unlocked after someone typed their password wrongly too often; their
// one-time password changed at their first login; a new one-time password; deactivated through
// a check-your-answers page, which logs them out at once, then reactivated); an administrator
// told beside the account that they cannot deactivate their own; hubs and providers (a hub
// added, an error first). The menu marks the page, or the section, the administrator is on.

import { check, expect, follow, login } from "../lib.mjs";

const summaryLinks = (page) => page.locator(".error-summary a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
/** The header's link marked as the page the person is on. */
const current = (page) => page.locator("header a[aria-current=page]").allInnerTexts();

export default async function ({ browser, base }) {
  const { context, page } = await login(browser, base, "admin");
  expect(JSON.stringify(await current(page)) === JSON.stringify(["Home"]), "the menu marks Home");
  await follow(page, "Administration", /\/admin$/);
  expect(JSON.stringify(await current(page)) === JSON.stringify(["Administration"]), "the menu marks Administration");
  const marked = await page.locator("header a[aria-current=page]").evaluate((a) => getComputedStyle(a).borderBottomStyle);
  expect(marked === "solid", `the marked link has a bar under it: ${marked}`);
  await check(page, "admin");

  // An account, its one-time password shown once, on the new person's page.
  await page.fill("#display_name", "New volunteer");
  await page.fill("#email", "volunteer@demo.heard.example");
  await page.check("input[name=roles][value=HUB_MEMBER]");
  await page.check("input[name=hubs][value=arun]");
  await page.getByRole("button", { name: "Add the account" }).click();
  await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}\?done=account-added$/);
  expect((await page.locator(".secret").count()) === 1, "the one-time password is shown once");
  expect(!page.url().includes("secret"), "a secret never goes in the address");
  const password = await page.locator(".secret").innerText();
  expect((await page.locator("h1").innerText()) === "New volunteer", "on the new person's page");
  expect(JSON.stringify(await current(page)) === JSON.stringify(["Administration"]), "a page under Administration marks it");
  await check(page, "admin-user-added");
  // Refreshing does not add the account again, and the password is not shown again.
  await page.reload();
  expect((await page.locator(".secret").count()) === 0, "a refresh does not show the password again");
  expect((await page.locator(".notice").allInnerTexts()).join(" ").includes("shown once"), "it says it was shown once");
  expect(!(await page.locator("main").innerText()).includes("already exists"), "nor does it try to add it again");
  await page.goto(`${base}/admin`);
  expect((await page.locator("table").first().innerText()).includes("volunteer@demo.heard.example"), "the account is listed");

  // A token, made and revoked.
  await page.fill("#label", "County dashboard");
  await page.getByRole("button", { name: "Create a token" }).click();
  expect((await page.locator(".secret").innerText()).startsWith("heard_"), "the token is shown once");
  await page.getByRole("button", { name: "Revoke County dashboard" }).click();
  expect((await page.locator(".notice").innerText()).includes("revoked"), "the token is revoked");

  // Someone types the volunteer's password wrongly until the account locks.
  const other = await browser.newContext({ bypassCSP: true });
  const guess = await other.newPage();
  for (let attempt = 1; attempt <= 5; attempt++) {
    await guess.goto(`${base}/login`);
    await guess.fill("#email", "volunteer@demo.heard.example");
    await guess.fill("#password", `wrong guess ${attempt}`);
    await guess.click("button[type=submit]");
  }
  expect((await guess.locator("#email-error").innerText()).includes("locked"), "the account is locked");

  // The volunteer's page: locked, and what they do.
  await page.goto(`${base}/admin`);
  const row = page.locator("tr", { hasText: "volunteer@demo.heard.example" });
  expect((await row.innerText()).includes("Locked"), "the list shows the account is locked");
  await row.getByRole("link", { name: "New volunteer" }).click();
  await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  expect((await page.locator("h1").innerText()) === "New volunteer", "one person's page");
  expect(await page.getByRole("heading", { name: "Locked after failed logins" }).isVisible(), "it says the account is locked");
  expect(await page.isChecked("input[name=roles][value=HUB_MEMBER]") && (await page.isChecked("input[name=hubs][value=arun]")), "what they do now is ticked");
  await check(page, "admin-user");

  // An error first: a coordinator with no hub.
  await page.uncheck("input[name=roles][value=HUB_MEMBER]");
  await page.check("input[name=roles][value=HUB_COORDINATOR]");
  await page.uncheck("input[name=hubs][value=arun]");
  await page.getByRole("button", { name: "Save what they do" }).click();
  let links = await summaryLinks(page);
  expect(JSON.stringify(links) === JSON.stringify(["#hubs"]), `the summary links to the hubs: ${links}`);
  expect((await page.locator("#hubs-error").innerText()).includes("hub"), "the error is beside the hubs");
  expect(await page.isChecked("input[name=roles][value=HUB_COORDINATOR]"), "what was ticked is kept");
  await check(page, "admin-user-errors");
  await page.check("input[name=hubs][value=arun]");
  await page.check("input[name=hubs][value=chichester]");
  await page.getByRole("button", { name: "Save what they do" }).click();
  await page.waitForURL(/\?done=roles-saved$/);
  const facts = await page.locator(".summary-list").innerText();
  expect(facts.includes("Hub coordinator") && !facts.includes("Hub member") && facts.includes("Chichester"), `the new roles are saved: ${facts}`);

  // Unlocked, and the volunteer logs in.
  await page.getByRole("button", { name: "Unlock the account" }).click();
  await page.waitForURL(/\?done=unlocked$/);
  expect((await page.locator(".notice").innerText()).includes("Unlocked"), "the account is unlocked");
  expect((await page.getByRole("heading", { name: "Locked after failed logins" }).count()) === 0, "and no longer says it is locked");
  await guess.goto(`${base}/login`);
  await guess.fill("#email", "volunteer@demo.heard.example");
  await guess.fill("#password", password);
  await guess.click("button[type=submit]");
  // The one-time password opens only the change-password page, until they choose their own.
  await guess.waitForURL(`${base}/account/password`);
  await guess.goto(`${base}/moderation`);
  await guess.waitForURL(`${base}/account/password`);
  await check(guess, "account-password");
  await guess.fill("#current_password", password);
  await guess.fill("#new_password", "the volunteer's own password");
  await guess.fill("#confirm_password", "the volunteer's own password");
  await guess.getByRole("button", { name: "Change your password" }).click();
  await guess.waitForURL(/\/account\/password\?done=changed$/);
  expect((await guess.locator(".notice").innerText()).includes("Your password is changed"), "the password is changed");
  await guess.goto(`${base}/`);
  expect((await guess.getByRole("link", { name: "Moderation", exact: true }).count()) === 1, "logged in, as a coordinator now");

  // Their session shows on their page, and the administrator logs them out of it.
  await page.reload();
  await page.getByRole("button", { name: /Log them out of this session/ }).click();
  await page.waitForURL(/\?done=session-ended$/);
  expect((await page.locator("main").innerText()).includes("not logged in anywhere"), "the session is ended");
  await guess.goto(`${base}/moderation`);
  await guess.waitForURL(`${base}/login?next=%2Fmoderation`); // sent to log in, and back to moderation after
  const volunteerPage = page.url().split("?")[0];

  // They forgot their password: a new one-time password, shown once.
  await page.getByRole("button", { name: "Give them a new one-time password" }).click();
  await page.waitForURL(/\?done=password-reset$/);
  const reset = await page.locator(".secret").innerText();
  expect(reset.length >= 12 && reset !== password, "a new one-time password is shown");
  await check(page, "admin-user-reset");
  await page.reload();
  expect((await page.locator(".secret").count()) === 0, "and only once");
  await guess.fill("#email", "volunteer@demo.heard.example");
  await guess.fill("#password", reset);
  await guess.click("button[type=submit]");
  await guess.waitForURL(`${base}/account/password`); // it must be changed before anything else
  await guess.fill("#current_password", reset);
  await guess.fill("#new_password", "the volunteer's second password");
  await guess.fill("#confirm_password", "the volunteer's second password");
  await guess.getByRole("button", { name: "Change your password" }).click();
  await guess.waitForURL(/\/account\/password\?done=changed$/);

  // They leave: the account is deactivated after checking, and stops working at once.
  await page.goto(volunteerPage);
  await page.getByRole("link", { name: "Deactivate the account" }).click();
  await page.waitForURL(/\/deactivate$/);
  expect((await page.locator("h1").innerText()) === "Deactivate New volunteer's account?", "check before deactivating");
  expect((await page.locator(".check-answers").innerText()).includes("volunteer@demo.heard.example"), "whose account it is");
  await check(page, "admin-deactivate");
  await page.getByRole("button", { name: "Deactivate the account" }).click();
  await page.waitForURL(/\?done=deactivated$/);
  expect((await page.locator(".notice").innerText()).includes("Deactivated"), "it is deactivated");
  await check(page, "admin-user-deactivated");
  await guess.goto(`${base}/moderation`);
  await guess.waitForURL(`${base}/login?next=%2Fmoderation`); // logged out at once
  await guess.fill("#email", "volunteer@demo.heard.example");
  await guess.fill("#password", "the volunteer's second password");
  await guess.click("button[type=submit]");
  expect((await guess.locator("#email-error").innerText()).includes("deactivated"), "the right password no longer logs in");
  await page.getByRole("button", { name: "Reactivate the account" }).click();
  await page.waitForURL(/\?done=reactivated$/);
  expect((await page.getByRole("link", { name: "Deactivate the account" }).count()) === 1, "it can be deactivated again");
  await other.close();

  // Their own account: refused beside the account, with no button to press.
  await page.goto(`${base}/admin`);
  const own = await page.locator("tr", { hasText: "admin@demo.heard.example" }).getByRole("link").getAttribute("href");
  await page.goto(`${base}${own}/deactivate`);
  const refusal = await summaryLinks(page);
  expect(JSON.stringify(refusal) === JSON.stringify(["#account"]), `the summary links to the account: ${refusal}`);
  expect((await page.locator("#account-error").innerText()).includes("your own account"), "the reason is beside the account");
  expect((await page.getByRole("button", { name: "Deactivate the account" }).count()) === 0, "no button to press");
  await check(page, "admin-deactivate-self");

  // Hubs and providers: an error first, then a new hub.
  await page.goto(`${base}/admin`);
  await page.getByRole("link", { name: "Hubs and providers" }).first().click();
  await page.waitForURL(/\/admin\/hubs$/);
  expect((await page.locator("table").first().innerText()).includes("West Sussex Forum"), "the hubs and the Forum are listed");
  await check(page, "admin-hubs");
  await page.fill("#hub_name", "Bognor Regis");
  await page.getByRole("button", { name: "Add the hub" }).click();
  links = await summaryLinks(page);
  expect(JSON.stringify(links) === JSON.stringify(["#kind", "#area"]), `the summary names what is missing: ${links}`);
  expect((await page.inputValue("#hub_name")) === "Bognor Regis", "the name is kept");
  await page.check("input[name=kind][value=HUB]");
  await page.fill("#area", "West Sussex");
  await page.getByRole("button", { name: "Add the hub" }).click();
  await page.waitForURL(/\?done=hub-added$/);
  expect((await page.locator("table").first().innerText()).includes("Bognor Regis"), "the new hub is listed");
  await page.fill("#provider_name", "Bognor community pharmacy");
  await page.getByRole("button", { name: "Add the provider" }).click();
  await page.waitForURL(/\?done=provider-added/);
  expect((await page.locator("table").nth(1).innerText()).includes("Bognor community pharmacy"), "the new provider is listed");
  await context.close();

  // Home pages count what waits for each person, each count a link to where the work is.
  for (const [account, pattern, href, name] of [
    ["coordinator.arun", /^(No items|1 item|\d+ items|\d+ or more items) to moderate$/, /\/moderation\?hub=arun$/, "Moderation"],
    ["commissioner", /^(No shared items|1 shared item|\d+ shared items) to acknowledge$/, /\/shared$/, "Shared feedback"],
    ["complaints", /^(No open complaints|1 open complaint|\d+ open complaints|\d+ or more open complaints)$/, /\/complaints$/, "Complaints"],
    ["advocate", /^(No open cases|1 open case|\d+ open cases|\d+ or more open cases)$/, /\/cases$/, "My cases"],
  ]) {
    const someone = await login(browser, base, account);
    const first = someone.page.locator("section.waiting a").first();
    const words = await first.innerText();
    expect(pattern.test(words), `${account}'s home says what waits: ${words}`);
    await check(someone.page, `home-${account.split(".")[0]}`);
    await first.click();
    await someone.page.waitForURL(href);
    const marked = await current(someone.page);
    expect(JSON.stringify(marked) === JSON.stringify([name]), `the count leads to ${name}, marked in the menu: ${marked}`);
    await someone.context.close();
  }
}
