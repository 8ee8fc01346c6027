// The demo flow end to end: the newcomer `haoban demo` prints signs up with real-name binding;
// the demo citizen sees their licences in the wallet; another browser verifies one by its QR
// page; the issuing bureau's staff revokes it and the other browser sees that at once; the
// application start page resolves materials from the wallet and the exchange; each person's
// account page leads to the data accesses made about them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({}, ["demo", "--persons", "500"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The fields of the printed account line of `role`: role, login, password ("-" for the
// newcomer), name.
async function account(role) {
  let line;
  for (let i = 0; i < 100 && !line; i++) {
    line = server
      .output()
      .split("\n")
      .find((l) => l.trim().startsWith(`${role} `));
    if (!line) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(line, server.output());
  const [, login, password, name] = line.trim().split(/\s+/);
  return { login, password, name };
}

async function signIn(page, { login, password }) {
  await page.goto(`${server.base}/sign-in`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await page.click("[data-testid=sign-in-submit]");
  await page.waitForURL(/\/account$/);
}

// The account page links to the access log, which lists at least one access.
async function accessesFromAccount(page) {
  await page.goto(`${server.base}/account`);
  await page.click("[data-testid=data-accesses-link]");
  await page.waitForURL(/\/account\/data-accesses$/);
  await page.waitForSelector("[data-testid=accesses]");
  return page.textContent("[data-testid=accesses]");
}

test("the newcomer signs up with real-name binding and sees the check in the access log", async () => {
  const newcomer = await account("newcomer");
  assert.match(newcomer.login, /^\d{17}[\dX]$/);
  assert.equal(newcomer.password, "-");
  assert.ok(newcomer.name);
  assert.match(server.output(), /\/sign-up/);

  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const fill = async (name) => {
    await page.goto(`${server.base}/sign-up`);
    await page.fill("#name", name);
    await page.fill("#id_number", newcomer.login);
    await page.fill("#phone", "13700009876");
    await page.fill("#password", "a sound passphrase");
    await page.click("[data-testid=sign-up-submit]");
  };
  // Not the registry's name for this ID number: refused, the error next to the name.
  await fill(`${newcomer.name}某`);
  await page.waitForSelector("#name-error");
  assert.match(await page.textContent("#name-error"), /姓名与公民身份号码不一致/);
  assert.ok(await page.isVisible("[data-testid=error-summary]"));
  assert.equal(await page.getAttribute("[data-testid=error-summary] a", "href"), "#name");

  // The registry's name: the account is made and signed in.
  await fill(newcomer.name);
  await page.waitForURL(/\/account$/);
  assert.equal(await page.textContent("[data-testid=account-name]"), newcomer.name);
  const log = await accessesFromAccount(page);
  // Both checks, the refused one and the one that matched.
  assert.match(log, /注册时核验姓名与身份证号/);
  assert.ok((log.match(/注册时核验姓名与身份证号/g) || []).length >= 2, log);
  await context.close();
});

test("a licence verified by its QR page in another browser shows its revocation at once", async () => {
  const citizen = await account("citizen");
  const admin = await account("dept_admin");
  // The demo output says who may revoke the demo citizen's marriage certificate.
  assert.match(server.output(), /dept_admin.*民政局.*结婚证/);

  const holder = await browser.newContext({ locale: "zh-CN" });
  const page = await holder.newPage();
  await signIn(page, citizen);

  // The wallet from the navigation, then the marriage certificate's own page with its QR code.
  await page.click("[data-testid=nav-wallet]");
  await page.waitForURL(/\/licences$/);
  await page.waitForSelector("[data-testid=wallet]");
  const cards = await page.locator("[data-testid=licence-card]").count();
  assert.ok(cards >= 3, `licences in the wallet: ${cards}`);
  await page.click("[data-testid=licence-card] h2 a:has-text('结婚证')");
  await page.waitForURL(/\/licences\/[0-9A-Z]{35}$/);
  const licenceId = page.url().split("/").pop();
  assert.equal(await page.getAttribute("[data-testid=status]", "data-status"), "valid");
  const verifyUrl = await page.getAttribute("[data-testid=verify-link]", "href");
  assert.match(verifyUrl, /\/v\/HBL1\./);

  // The start page of divorce registration: the certificate comes from the wallet.
  const item = "410100-MZ-0003";
  await page.goto(`${server.base}/services/items/${item}/apply`);
  const row = page.locator("[data-testid=material][data-material=marriage_certificate]");
  assert.equal(await row.getAttribute("data-how"), "licence");
  assert.match(await row.locator("[data-testid=material-how]").textContent(), /电子证照：结婚证（自动调取）/);

  // Someone else, signed in nowhere, opens the QR link.
  const verifier = await browser.newContext({ locale: "zh-CN" });
  const other = await verifier.newPage();
  await other.goto(new URL(verifyUrl, server.base).toString());
  assert.equal(await other.getAttribute("[data-testid=verdict]", "data-result"), "valid");

  // The civil affairs bureau's administrator revokes it through the API.
  const session = await fetch(`${server.base}/api/v1/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: admin.login, password: admin.password }),
  });
  assert.equal(session.status, 200);
  const { token } = await session.json();
  const revoked = await fetch(`${server.base}/api/v1/licences/${licenceId}/revoke`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ reason: "登记信息有误" }),
  });
  assert.equal(revoked.status, 200, await revoked.text());

  // At once, on the verifier's reload.
  await other.reload();
  assert.equal(await other.getAttribute("[data-testid=verdict]", "data-result"), "revoked");
  await verifier.close();

  // The holder's start page now asks for an upload, and says why.
  await page.goto(`${server.base}/services/items/${item}/apply`);
  assert.equal(await row.getAttribute("data-how"), "upload");
  assert.match(await row.locator("[data-testid=material-reason]").textContent(), /钱包中没有有效的结婚证/);

  // A start page with shared-data materials asks the exchange; the lookups are in the log.
  const shared = "410100-FG-0003";
  await page.goto(`${server.base}/services/items/${shared}/apply`);
  await page.waitForSelector("[data-testid=material][data-material=deed_tax_receipt]");
  const log = await accessesFromAccount(page);
  assert.match(log, /购房契税补贴申领/);
  await holder.close();
});
