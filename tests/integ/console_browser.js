// Drives the console in headless Chromium (Debian's, through playwright-core
// from build/npm): run by test_console_browser.py against a real pixeld under
// load, with the environment it sets. Prints "ok NAME" / "FAIL NAME" lines
// and "N passed, N failed"; writes a screenshot of each view to SHOTS.
"use strict";

const { chromium } = require(process.env.PLAYWRIGHT);
const fs = require("fs");

const ADMIN = process.env.ADMIN_URL;
const PUBLIC = process.env.PUBLIC_URL;
const KEY = process.env.ADMIN_KEY;
const SHOTS = process.env.SHOTS;
const MARKS = process.env.MARKS.split(",");
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log("ok   " + name);
  } catch (e) {
    failed++;
    console.log("FAIL " + name + ": " + (e && e.stack || e));
  }
}
function assert(cond, what) { if (!cond) throw new Error(what); }
const text = (page, sel) => page.locator(sel).innerText();
async function until(page, fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error("timed out after " + ms + " ms: " + what);
    await page.waitForTimeout(200);
  }
}
async function view(page, name) {
  await page.click("#tabs button[data-view=" + name + "]");
  await page.locator("#view-" + name).waitFor({ state: "visible" });
}
async function shot(page, name) {
  await page.screenshot({ path: SHOTS + "/console-" + name + ".png" });
}
async function sendMark(id) {
  const r = await fetch(PUBLIC + "/p.gif?e=ConsoleMark&id=" + id, { headers: { "User-Agent": UA } });
  assert(r.status === 200, "pixel " + id + ": " + r.status);
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox"] });
  try {
    await check("the console refuses without the admin key", async () => {
      const ctx = await browser.newContext();
      const resp = await ctx.request.get(ADMIN + "/");
      assert(resp.status() === 401, "status " + resp.status());
      assert(/Basic/.test(resp.headers()["www-authenticate"] || ""), "no Basic challenge");
      assert(!(await resp.text()).includes("console.js"), "the page came anyway");
      const stream = await ctx.request.get(ADMIN + "/admin/stream");
      assert(stream.status() === 401, "stream status " + stream.status());
      await ctx.close();
    });
    await check("a wrong key is refused too", async () => {
      const ctx = await browser.newContext({ httpCredentials: { username: "ops", password: "not-the-key" } });
      const resp = await ctx.request.get(ADMIN + "/admin/stream");
      assert(resp.status() === 401, "status " + resp.status());
      await ctx.close();
    });

    const ctx = await browser.newContext({ httpCredentials: { username: "ops", password: KEY },
                                           viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await check("the page loads with the key", async () => {
      const resp = await page.goto(ADMIN + "/");
      assert(resp.status() === 200, "status " + resp.status());
      await until(page, async () => /pixeld \d/.test(await text(page, "#state")), "the status line");
    });
    await check("throughput: live rates by endpoint, tenant and source", async () => {
      await until(page, async () => {
        const t = await text(page, "#by-endpoint");
        const m = /pixel_gif\s+([\d.]+)/.exec(t);
        return m && Number(m[1]) > 0;
      }, "pixel_gif events/s above 0 under load");
      assert(/default\s+\d/.test(await text(page, "#by-tenant")), "no tenant row");
      assert(/pixel\s+\d/.test(await text(page, "#by-source")), "no source row");
      await until(page, async () => /bad_json|invalid|unknown|json/.test(await text(page, "#by-reason")),
                  "a refusal reason row");
      await until(page, async () => Number(await page.locator("#chart").getAttribute("data-points")) >= 6,
                  "six seconds in the chart");
      await shot(page, "throughput");
    });
    await check("destinations: rates, breaker, last error, replay of dead letters", async () => {
      await view(page, "destinations");
      await until(page, async () => {
        const t = await text(page, "#dests");
        return /events/.test(t) && /meta/.test(t) && /closed|none|open/.test(t);
      }, "both destinations listed");
      await until(page, async () => {
        const row = await page.locator("#dests tr", { hasText: "meta" }).innerText();
        return Number(row.split("\t")[8]) >= 1;
      }, "a dead letter for meta");
      // The last error, with its time (UTC), redacted: never the access token.
      await until(page, async () => {
        const cells = (await page.locator("#dests tr", { hasText: "meta" }).innerText()).split("\t");
        return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \S/.test(cells[10]) && !/test-console/.test(cells[10]);
      }, "meta's last error with its time");
      const sink = (await page.locator("#dests tr", { hasText: "events" }).innerText()).split("\t");
      if (sink[10] !== "none") throw new Error("the jsonl sink shows a last error: " + sink[10]);
      await page.click("#dests button[data-dest=meta]");
      await until(page, async () => /meta: 200 .*"replayed":[1-9]/.test(await text(page, "#replay-result")),
                  "the replay answer");
      await shot(page, "destinations");
    });
    await check("dead letters: filter by destination, reason, time; show one", async () => {
      await page.fill("#dlq-dest", "meta");
      await page.fill("#dlq-since", "1h");
      await page.click("#dlq-search");
      await until(page, async () => /[1-9]\d* matched/.test(await text(page, "#dlq-count")), "meta's dead letters");
      const rows = await text(page, "#dlq");
      assert(/dl-\d+/.test(rows) && /currency/.test(rows), rows.slice(0, 300));
      await page.locator("#dlq button").first().click();
      const entry = JSON.parse(await text(page, "#dlq-entry"));
      assert(entry.dest === "meta" && entry.event && /^dl-/.test(entry.event.event_id), JSON.stringify(entry));
      await page.fill("#dlq-reason", "no-such-reason");
      await page.click("#dlq-search");
      await until(page, async () => /^0 matched/.test(await text(page, "#dlq-count")), "the reason filter");
      await page.fill("#dlq-reason", "");
      await page.fill("#dlq-dest", "nope");
      await page.click("#dlq-search");
      await until(page, async () => /^400 /.test(await text(page, "#dlq-count")), "a bad destination refused");
      await page.fill("#dlq-dest", "meta");
      await page.click("#dlq-search");
      await page.locator("#dlq button").first().click();
      await shot(page, "dead-letters");
    });
    await check("event tail: shows the events sent during the test, filters, pauses", async () => {
      await view(page, "tail");
      await page.fill("#f-event", "ConsoleMark");
      for (const id of MARKS) await sendMark(id);
      await until(page, async () => {
        const t = await text(page, "#tail");
        return MARKS.every((id) => t.includes('"' + id + '"'));
      }, "every marker event in the tail");
      const shown = await text(page, "#tail");
      assert(!shown.includes('"PageView"'), "the event filter let other events through");
      await page.click("#pause");
      await sendMark("while-paused");
      await page.waitForTimeout(2500); // two stream rounds: a paused tail must not move
      assert(!(await text(page, "#tail")).includes("while-paused"), "the paused tail moved");
      await page.click("#pause");
      await sendMark("after-resume");
      await until(page, async () => (await text(page, "#tail")).includes("after-resume"),
                  "events after resuming");
      await page.fill("#f-tenant", "no-such-tenant");
      assert((await text(page, "#tail")).trim() === "", "the tenant filter let events through");
      await page.fill("#f-tenant", "");
      await shot(page, "tail");
    });
    await check("XDP: attached mode, verdicts, block and unblock", async () => {
      await view(page, "xdp");
      await until(page, async () => /generic on lo/.test(await text(page, "#xdp")), "generic on lo");
      await until(page, async () => /pass\s+\S+\s+[1-9]/.test(await text(page, "#xdp-counters")),
                  "passed packets counted");
      await page.fill("#block-cidr", "198.51.100.0/24");
      await page.fill("#block-ttl", "600");
      await page.click("#block");
      await until(page, async () => /block 198.51.100.0\/24: 200/.test(await text(page, "#block-result")),
                  "the block answer");
      await until(page, async () => /198\.51\.100\.0\/24\s+manual\s+(59\d|600) s/.test(await text(page, "#xdp-blocks")),
                  "the block with its time left");
      await shot(page, "xdp");
      await page.click("#xdp-blocks button[data-cidr='198.51.100.0/24']");
      await until(page, async () => /unblock 198.51.100.0\/24: 200/.test(await text(page, "#block-result")),
                  "the unblock answer");
      await until(page, async () => !/198\.51\.100\.0/.test(await text(page, "#xdp-blocks")), "the block gone");
    });
    await check("email: opens by kind and by campaign", async () => {
      await view(page, "email");
      await until(page, async () => /human\s+[1-9]/.test(await text(page, "#opens")), "a human open");
      await until(page, async () => /console-campaign/.test(await text(page, "#campaigns")), "the campaign row");
      await shot(page, "email");
    });
    await check("journal: size, segments, lag per destination", async () => {
      await view(page, "journal");
      const t = await text(page, "#journal");
      assert(/bytes\s+[1-9]/.test(t) && /segments\s+[1-9]/.test(t), t);
      assert(/lag of meta \(bytes, events pending\)\s+\d+ B, \d+/.test(t), t);
      await shot(page, "journal");
    });
    await check("no script errors", async () => assert(errors.length === 0, errors.join("; ")));
  } finally {
    await browser.close();
  }
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
})().catch((e) => { console.log("FAIL setup: " + (e && e.stack || e)); console.log("0 passed, 1 failed"); process.exit(1); });
