// The catalog in a real browser: find a bundle, read an item's guide, pick optional items
// and see the merged form grow. Runs on the shipped demo catalog.
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

test("a citizen answers a bundle's merged form screen by screen and checks the answers", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const id = idNumber(321);
  await page.goto(`${server.base}/sign-up`);
  await page.fill("#name", "办件测试");
  await page.fill("#id_number", id);
  await page.fill("#phone", "13700000321");
  await page.fill("#password", "a sound passphrase");
  await page.click("[data-testid=sign-up-submit]");
  await page.waitForURL(/\/account$/);

  // The bundle page, with an optional item picked, starts the application.
  await page.goto(`${server.base}/services/bundles/newborn`);
  await page.check("[data-testid='pick-410100-RS-0001']");
  await page.click("[data-testid=bundle-update]");
  await page.waitForURL(/optional=410100-RS-0001/);
  await page.click("[data-testid=apply]");
  await page.waitForURL(/\/apply\?optional=410100-RS-0001$/);
  await page.click("[data-testid=start]");
  await page.waitForURL(/\/applications\/[^/]+\/pages\/\d+$/);
  const masked = new RegExp(maskedId(id).replace(/\*/g, "\\*"));
  let sawLockedId = false;

  // Submitting an empty screen shows the errors next to the fields and in a summary.
  const firstUrl = page.url();
  const emptyOnes = await page.locator("form[data-testid=screen-form] input[type=text]").evaluateAll(
    (inputs) => inputs.filter((i) => i.value === "").length,
  );
  if (emptyOnes > 0) {
    await page.click("[data-testid=continue]");
    await page.waitForSelector("[data-testid=error-summary]");
    assert.ok((await page.locator(".error-message").count()) >= 1);
    assert.equal(page.url(), firstUrl);
  }

  // Answer every screen until the check page.
  for (let i = 0; i < 25 && !/\/check$/.test(page.url()); i++) {
    // The applicant's own ID number is filled in from the account, masked, not editable.
    const locked = page.locator("[data-testid='locked-person.id_number']");
    if ((await locked.count()) > 0) {
      assert.match(await locked.textContent(), masked);
      sawLockedId = true;
    }
    const form = page.locator("form[data-testid=screen-form]");
    for (const radio of await form.locator("fieldset.radios").all()) {
      if ((await radio.locator("input:checked").count()) === 0) await radio.locator("input").first().check();
    }
    for (const select of await form.locator("select").all()) {
      if (!(await select.inputValue())) await select.selectOption({ index: 1 });
    }
    for (const input of await form.locator("input[type=text], input[type=date], input[type=month], textarea").all()) {
      if (await input.inputValue()) continue;
      const name = await input.getAttribute("name");
      const type = await input.getAttribute("type");
      const mode = await input.getAttribute("inputmode");
      // A field with a set form says it in its hint, usually with an example.
      const hintId = ((await input.getAttribute("aria-describedby")) || "").split(" ").find((x) => x.endsWith("-hint"));
      const hint = hintId ? await page.textContent(`#${hintId}`) : "";
      const example = hint.match(/如\s*([^\s，,（(]+)/);
      const digits = hint.match(/(\d+)(?:至\d+)?位数字/);
      let v = "测试";
      if (example) v = example[1];
      else if (digits) v = "1".repeat(Number(digits[1]));
      else if (type === "date") v = "2026-03-01";
      else if (type === "month") v = "2026-03";
      else if (mode === "numeric" || mode === "decimal") v = "3200";
      else if (name.endsWith("id_number")) v = idNumber(322);
      else if (name.endsWith("phone")) v = "13800000322";
      await input.fill(v);
    }
    await Promise.all([page.waitForNavigation(), page.click("[data-testid=continue]")]);
    const problems = page.locator("[data-testid=error-summary]");
    assert.equal(await problems.count(), 0, `${page.url()}: ${(await page.locator(".error-message").allTextContents()).join("; ")}`);
  }
  assert.match(page.url(), /\/check$/);
  assert.ok(sawLockedId, "the ID number was prefilled");
  await page.waitForSelector("[data-testid=answers-complete]");
  assert.match(await page.textContent("main"), masked);
  assert.ok(!(await page.textContent("main")).includes(id), "no full ID number on the check page");
  const checkUrl = page.url();

  // Change one answer and come back to the check.
  await page.locator(".check-row a").first().click();
  await page.waitForURL(/change=1/);
  await page.click("[data-testid=continue]");
  await page.waitForURL(checkUrl);
  // The back link of the check page leads to the last screen.
  await page.click("[data-testid=back]");
  await page.waitForURL(/\/pages\/\d+$/);

  // The draft is waiting under My applications.
  await page.goto(`${server.base}/applications`);
  assert.match(await page.textContent("[data-testid=drafts]"), /新生儿出生一件事/);
  await context.close();
});
