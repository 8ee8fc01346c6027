// Passkey ("刷脸") sign-in through Chromium's virtual authenticator: register a passkey on
// the account page, sign out, sign in with it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, idNumber, maskedId } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function withAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

test("register a passkey, sign out, sign in with the passkey", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const { cdp, authenticatorId } = await withAuthenticator(context, page);
  const id = idNumber(21);

  await page.goto(`${server.base}/sign-up`);
  await page.fill("#name", "通行密钥用户");
  await page.fill("#id_number", id);
  await page.fill("#phone", "13700000021");
  await page.fill("#password", "a sound passphrase");
  await page.click("[data-testid=sign-up-submit]");
  await page.waitForURL(/\/account$/);
  assert.ok(await page.isVisible("[data-testid=passkey-none]"));

  await page.click("[data-testid=passkey-register]");
  await page.waitForSelector("[data-testid=passkey-list] li");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);

  await page.click("[data-testid=sign-out]");
  await page.waitForURL(`${server.base}/`);

  await page.goto(`${server.base}/sign-in`);
  await page.fill("#login", id);
  await page.click("[data-testid=passkey-sign-in]");
  await page.waitForURL(/\/account$/);
  assert.equal(await page.textContent("[data-testid=account-id-number]"), maskedId(id));
  assert.match(await page.textContent("main"), /sign_in_passkey/);
  const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.ok(after.credentials[0].signCount >= 1);
  await context.close();
});

test("a passkey sign-in for an account without passkeys is refused with a message", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await withAuthenticator(context, page);
  await page.goto(`${server.base}/sign-in`);
  await page.fill("#login", idNumber(22));
  await page.click("[data-testid=passkey-sign-in]");
  await page.waitForSelector("[data-passkey-error]:not([hidden])");
  assert.match(await page.textContent("[data-passkey-error]"), /无法使用通行密钥登录/);
  assert.match(page.url(), /\/sign-in$/);
  await context.close();
});
