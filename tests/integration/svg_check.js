// SPDX-License-Identifier: MIT
// Opens a leaksnoop flame graph in headless Chromium and exercises it like a
// person would: is it drawn, can a frame be hovered, clicked (zoom) and
// searched?  Prints one JSON object with what it saw.
// Usage: node svg_check.js FILE.svg FRAME_NAME SCREENSHOT.png
const path = require('path');
const { chromium } = require(path.join(process.env.PLAYWRIGHT_PATH, 'playwright-core'));

(async () => {
  const [svg, name, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + path.resolve(svg));
  await page.waitForLoadState('load');
  const frame = page.locator(`g.f[data-name="${name}"]`).first();
  const result = { errors };
  result.frames = await page.locator('g.f').count();
  result.label = await frame.locator('text').textContent();
  result.widthBefore = +(await frame.locator('rect').getAttribute('width'));
  await frame.hover();
  result.details = await page.locator('#details').textContent();
  result.tooltip = await frame.locator('title').textContent();
  await page.screenshot({ path: shot.replace(/\.png$/, '-full.png') });
  await frame.click();
  result.widthAfter = +(await frame.locator('rect').getAttribute('width'));
  await page.screenshot({ path: shot });
  await page.locator('#unzoom').click();
  result.widthReset = +(await frame.locator('rect').getAttribute('width'));
  await page.evaluate((n) => search(n), name);
  result.matchedClass = await frame.evaluate((g) => g.classList.contains('match'));
  result.matched = await page.locator('#matched').textContent();
  await browser.close();
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(e); process.exit(1); });
