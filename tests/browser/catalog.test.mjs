// The catalog in a real browser: find a bundle, read an item's guide, pick optional items
// and see the merged form grow. Runs on the shipped demo catalog.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";

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

const figure = async (page, id) => Number(await page.textContent(`[data-testid=${id}]`));

test("search, guide, bundle picker, merged form", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/services`);
  await page.fill("[data-testid=search-input]", "孩子出生");
  await page.click("[data-testid=search-submit]");
  await page.waitForURL(/\/services\/search\?q=/);
  // The newborn bundle comes first.
  await page.click("[data-testid=search-results] li:first-child a");
  await page.waitForURL(/\/services\/bundles\/newborn$/);
  assert.match(await page.textContent("[data-testid=bundle-name]"), /新生儿出生一件事/);
  const before = await figure(page, "fields-after");
  const separately = await figure(page, "fields-before");
  assert.ok(before < separately, `${before} < ${separately}`);

  // Pick an optional item: the merged form asks more.
  await page.check("[data-testid='pick-410100-RS-0001']");
  await page.click("[data-testid=bundle-update]");
  await page.waitForURL(/optional=410100-RS-0001/);
  assert.ok(await page.isChecked("[data-testid='pick-410100-RS-0001']"));
  assert.ok((await figure(page, "fields-before")) > separately);
  assert.ok((await page.locator("[data-testid=merged-form] section").count()) >= 1);

  // From the bundle to an item's guide.
  await page.goto(`${server.base}/services/items/410100-GA-0003`);
  assert.match(await page.textContent("[data-testid=item-time-limit]"), /工作日/);
  assert.ok((await page.locator("[data-testid=item-materials] tbody tr").count()) >= 1);
  await context.close();
});

test("browse by life event and department", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(`${server.base}/services`);
  await page.click("a[href='/services/life-events/birth']");
  await page.waitForURL(/life-events\/birth$/);
  assert.ok((await page.locator("a[href='/services/bundles/newborn']").count()) >= 1);
  await page.goto(`${server.base}/services/departments`);
  await page.click("a[href='/services/departments/410100-GJJ']");
  assert.ok((await page.locator("a[href^='/services/items/410100-GJJ-']").count()) >= 1);
  await context.close();
});
