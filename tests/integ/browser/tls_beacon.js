// Headless Chromium on an https page of another origin (https://shop.example:PAGE_PORT,
// a loopback server of the test) sends a sendBeacon and an image pixel to
// pixeld's TLS listener. Chromium trusts only the test certificate, by its
// SPKI hash. Usage: node tls_beacon.js PORT PAGE_PORT SPKI_SHA256_BASE64[,...]
// Prints one JSON line: {"beacon":true|false,"image":"loaded"|"error"}.
const { chromium } = require("playwright-core");

const [port, pagePort, spki] = process.argv.slice(2);
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
    await page.goto(`https://shop.example:${pagePort}/checkout.html`, { timeout: 30000 });
    const result = await page.evaluate(async (base) => {
      const beacon = navigator.sendBeacon(
        base + "/e",
        JSON.stringify({ event: "Purchase", event_id: "tls-beacon-1", props: { value: 9.5, currency: "EUR" } })
      );
      const image = await new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve("loaded");
        img.onerror = () => resolve("error");
        img.src = base + "/p.gif?e=PageView&id=tls-image-1";
      });
      return { beacon, image, origin: location.origin };
    }, collector);
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
