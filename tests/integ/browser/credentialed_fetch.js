// Headless Chromium on https://shop.example:PAGE_PORT sends two credentialed
// fetches (credentials: 'include', JSON, so a preflight first) to a tenant's
// collector host https://t.shop.example:PORT. Chromium trusts only the test
// certificates, by their SPKI hashes.
// Each event's url is the page's own (PAGE_PATH, default /checkout.html, may
// carry a query such as ?fbclid=...).
// Usage: node credentialed_fetch.js PORT PAGE_PORT SPKI_SHA256_BASE64[,...] [PAGE_PATH]
// Prints one JSON line: {"statuses":[..],"cookies":[{name,value,domain,secure,httpOnly,sameSite}],
// "pageCookies": document.cookie of the page after the fetches}.
const { chromium } = require("playwright-core");

const [port, pagePort, spki, pagePath = "/checkout.html"] = process.argv.slice(2);
const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const collector = `https://t.shop.example:${port}`;

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      `--ignore-certificate-errors-spki-list=${spki}`,
      "--host-resolver-rules=MAP t.shop.example 127.0.0.1, MAP shop.example 127.0.0.1",
      "--no-sandbox",
    ],
    timeout: 60000,
  });
  try {
    const context = await browser.newContext({ userAgent: UA });
    const page = await context.newPage();
    await page.goto(`https://shop.example:${pagePort}${pagePath}`, { timeout: 30000 });
    const statuses = await page.evaluate(async (base) => {
      const out = [];
      for (const id of ["cred-1", "cred-2"]) {
        try {
          const r = await fetch(base + "/e", {
            method: "POST",
            credentials: "include",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ event: "Lead", event_id: id, url: location.href }),
          });
          out.push(r.status);
        } catch (e) {
          out.push("error: " + e.message);
        }
      }
      return out;
    }, collector);
    const cookies = (await context.cookies()).map((c) => ({
      name: c.name, value: c.value, domain: c.domain, secure: c.secure, httpOnly: c.httpOnly,
      sameSite: c.sameSite,
    }));
    const pageCookies = await page.evaluate(() => document.cookie);
    console.log(JSON.stringify({ statuses, cookies, pageCookies }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
