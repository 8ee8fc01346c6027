// The README's first command: `haoban demo` starts the demo city and prints its accounts; a
// browser signs in as the printed demo citizen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, maskedId } from "./harness.mjs";

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

test("sign in as the printed demo citizen", async () => {
  // Wait until the account table has been printed after the address.
  let line;
  for (let i = 0; i < 100 && !line; i++) {
    line = server.output().split("\n").find((l) => l.trim().startsWith("citizen "));
    if (!line) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(line, server.output());
  const [, login, password] = line.trim().split(/\s+/);
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/sign-in`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await page.click("[data-testid=sign-in-submit]");
  await page.waitForURL(/\/account$/);
  assert.equal(await page.textContent("[data-testid=account-id-number]"), maskedId(login));
  await context.close();
});

test("the demo reviewer signs in at the staff page", async () => {
  let line;
  for (let i = 0; i < 100 && !line; i++) {
    line = server.output().split("\n").find((l) => l.trim().startsWith("reviewer "));
    if (!line) await new Promise((r) => setTimeout(r, 100));
  }
  const [, login, password] = line.trim().split(/\s+/);
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/staff/sign-in`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/account$/);
  assert.match(await page.textContent("main"), /郑州市民政局/);
  await context.close();
});
