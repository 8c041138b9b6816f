// What the step files of the real-VS-Code suite share: a chromium on the code-server workbench (started in a
// before hook, closed with its console log written in an after hook), named steps that screenshot a failure, and
// the palette, polling and webview-frame helpers. Env from run.mjs: SHOTS, PW_CORE, PROFILE_ROOT.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';

export const T = 90_000;

/** The workbench of the step file `name`; its before hook sets `page` and hands it to `onPage`. */
export function workbench(name, { chromiumArgs = [], onPage = () => {} } = {}) {
  const { chromium } = createRequire(import.meta.url)(process.env.PW_CORE);
  const SHOTS = process.env.SHOTS;
  const consoleLines = [];
  let context;
  fs.mkdirSync(SHOTS, { recursive: true });
  const wb = {
    page: undefined,
    step(stepName, fn) {
      test(stepName, async () => {
        try {
          await fn();
        } catch (e) {
          await wb.page.screenshot({ path: path.join(SHOTS, `FAILED-${name}-${stepName.replace(/[^a-z0-9]+/gi, '_')}.png`) }).catch(() => {});
          throw e;
        }
      });
    },
    shot: (shotName) => wb.page.screenshot({ path: path.join(SHOTS, `${shotName}.png`) }),
    /** Runs a palette command by its label, retrying until the extension has registered it. */
    async runCommand(label) {
      const { page } = wb;
      const deadline = Date.now() + T;
      for (;;) {
        await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }).catch(() => {});
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input.input');
        await input.waitFor({ state: 'visible', timeout: T });
        await input.fill(`>${label}`);
        const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
        if (found) break;
        await page.keyboard.press('Escape');
        if (Date.now() > deadline) throw new Error(`command "${label}" never appeared in the palette`);
      }
      await page.keyboard.press('Enter');
    },
    async until(check, what, timeout = T) {
      const deadline = Date.now() + timeout;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    /** The frame (of any webview) that holds `selector`, once one does. */
    async frameWith(selector, timeout = T) {
      let found;
      await wb.until(async () => {
        for (const f of wb.page.frames()) {
          if (await f.locator(selector).count().catch(() => 0)) {
            found = f;
            return true;
          }
        }
        return false;
      }, `a webview with ${selector}`, timeout);
      return found;
    },
  };
  before(async () => {
    const profile = fs.mkdtempSync(path.join(process.env.PROFILE_ROOT, `chromium-${name}-`));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...chromiumArgs],
    });
    wb.page = context.pages()[0] ?? (await context.newPage());
    wb.page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    onPage(wb.page);
  });
  after(async () => {
    fs.writeFileSync(path.join(SHOTS, `${name}-console.log`), consoleLines.join('\n'));
    await context?.close();
  });
  return wb;
}
