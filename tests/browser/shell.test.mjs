// The page shell in a real browser: sign up, sign in with a password, switch language,
// switch to the elderly mode and see it persist, and errors shown next to their fields.
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

async function signUp(page, n, password = "a sound passphrase") {
  await page.goto(`${server.base}/sign-up`);
  await page.fill("#name", "浏览器测试");
  await page.fill("#id_number", idNumber(n));
  await page.fill("#phone", `1370000${String(n).padStart(4, "0")}`);
  await page.fill("#password", password);
  await page.click("[data-testid=sign-up-submit]");
}

test("a citizen signs up and sees the masked ID number", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await signUp(page, 11);
  await page.waitForURL(/\/account$/);
  assert.equal(await page.textContent("[data-testid=account-id-number]"), maskedId(idNumber(11)));
  assert.equal(await page.textContent("[data-testid=account-name]"), "浏览器测试");
  await context.close();
});

test("a bad ID number is shown next to its field and nothing is stored", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const good = idNumber(12);
  const bad = good.slice(0, 17) + (good[17] === "0" ? "1" : "0");
  await page.goto(`${server.base}/sign-up`);
  await page.fill("#name", "浏览器测试");
  await page.fill("#id_number", bad);
  await page.fill("#phone", "13700000012");
  await page.fill("#password", "a sound passphrase");
  await page.click("[data-testid=sign-up-submit]");
  assert.match(await page.textContent("#id_number-error"), /^错误：.*校验位/);
  assert.equal(await page.getAttribute("#id_number", "aria-invalid"), "true");
  assert.ok(await page.isVisible("[data-testid=error-summary]"));
  // The summary links to the field.
  assert.equal(await page.getAttribute("[data-testid=error-summary] a", "href"), "#id_number");
  // What was typed is kept, except the password.
  assert.equal(await page.inputValue("#id_number"), bad);
  assert.equal(await page.inputValue("#password"), "");
  // Signing in with it fails: no account was made.
  await page.goto(`${server.base}/sign-in`);
  await page.fill("#login", bad);
  await page.fill("#password", "a sound passphrase");
  await page.click("[data-testid=sign-in-submit]");
  assert.match(await page.textContent("#login-error"), /账号或密码不正确/);
  await context.close();
});

test("sign out, then sign in with the password", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await signUp(page, 13);
  await page.waitForURL(/\/account$/);
  await page.click("[data-testid=sign-out]");
  await page.waitForURL(`${server.base}/`);
  await page.goto(`${server.base}/account`);
  await page.waitForURL(/\/sign-in\?next=%2Faccount|\/sign-in\?next=\/account/);
  await page.fill("#login", idNumber(13).toLowerCase());
  await page.fill("#password", "a sound passphrase");
  await page.click("[data-testid=sign-in-submit]");
  await page.waitForURL(/\/account$/);
  assert.equal(await page.textContent("[data-testid=account-id-number]"), maskedId(idNumber(13)));
  await context.close();
});

test("the language switch works and persists", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await page.click("[data-testid=switch-lang]");
  await page.waitForLoadState();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.textContent("h1"), /Government services/);
  await page.goto(`${server.base}/sign-in`);
  assert.equal(await page.textContent("h1"), "Sign in");
  await page.click("[data-testid=switch-lang]");
  await page.waitForLoadState();
  assert.equal(await page.textContent("h1"), "登录");
  await context.close();
});

test("the elderly mode persists across pages, reloads and devices", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await signUp(page, 14);
  await page.waitForURL(/\/account$/);
  const standardSize = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  await page.click("[data-testid=switch-mode]");
  await page.waitForURL(/\/account$/);
  assert.equal(await page.getAttribute("html", "class"), "elderly");
  const elderlySize = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  assert.ok(parseFloat(elderlySize) > parseFloat(standardSize), `${elderlySize} > ${standardSize}`);
  await page.goto(`${server.base}/`);
  assert.equal(await page.getAttribute("html", "class"), "elderly");
  await page.reload();
  assert.equal(await page.getAttribute("html", "class"), "elderly");
  await context.close();

  // Another device: the setting comes with the account at sign-in.
  const other = await browser.newContext({ locale: "zh-CN" });
  const page2 = await other.newPage();
  await page2.goto(`${server.base}/sign-in`);
  assert.equal(await page2.getAttribute("html", "class"), null);
  await page2.fill("#login", idNumber(14));
  await page2.fill("#password", "a sound passphrase");
  await page2.click("[data-testid=sign-in-submit]");
  await page2.waitForURL(/\/account$/);
  assert.equal(await page2.getAttribute("html", "class"), "elderly");
  await other.close();
});

test("pages have landmarks, a skip link and labelled fields", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/sign-up`);
  assert.equal(await page.locator("main#main").count(), 1);
  assert.equal(await page.locator("header").count(), 1);
  assert.equal(await page.locator("nav").count(), 1);
  assert.equal(await page.locator("footer").count(), 1);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link");
  for (const id of await page.locator("main input:not([type=hidden])").evaluateAll((els) => els.map((e) => e.id))) {
    assert.equal(await page.locator(`label[for=${id}]`).count(), 1, `label for ${id}`);
  }
  const res = await page.goto(`${server.base}/no-such-page`);
  assert.equal(res.status(), 404);
  await context.close();
});
