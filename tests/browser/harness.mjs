// Starts a real haoban server on a fresh SQLite database and Debian's Chromium for the
// browser tests. Never downloads a browser.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

// `args` is the haoban command line: ["serve"], or ["demo", "--persons", "300"].
export async function startServer(extraEnv = {}, args = ["serve"]) {
  const bin = process.env.HAOBAN_BIN;
  if (!bin || !existsSync(bin)) throw new Error(`HAOBAN_BIN must name the haoban binary, not ${bin}`);
  const dir = mkdtempSync(join(tmpdir(), "haoban-browser-"));
  const child = spawn(bin, args, {
    env: {
      ...process.env,
      HAOBAN_LISTEN: "127.0.0.1:0",
      HAOBAN_DATABASE_URL: `sqlite://${join(dir, "haoban.db")}`,
      HAOBAN_LOG: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start: ${out}`));
    }, 30000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      // The server prints http://localhost:PORT: WebAuthn needs a host name, not an address.
      const m = out.match(/(?:serving|running) at (http:\/\/localhost:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
  return {
    base,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-gpu",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

// A valid resident ID number (GB 11643) born on 1980-05-17 with sequence n.
export function idNumber(n) {
  const body = `410105${"19800517"}${String(n % 1000).padStart(3, "0")}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * WEIGHTS[i];
  return body + CHECK[sum % 11];
}

export function maskedId(id) {
  return id.slice(0, 4) + "*".repeat(10) + id.slice(14);
}
