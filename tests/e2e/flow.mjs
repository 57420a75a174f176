// flow.mjs — a visitor and a manager, in real headless Chromium.
//
//   node flow.mjs BASE_URL OUT_DIR QR_CODE MEMBER_NAME MANAGER_EMAIL SALES_EMAIL PASSWORD
//
// On a phone-sized viewport the visitor opens the card's QR link, saves the
// contact, shares the card and signs up; then the manager signs in and must
// find that visit, share and sign-up on the dashboard, credited to the card's
// owner.  Screenshots of the landing page, thank-you page, dashboard and
// workspace go to OUT_DIR for a person to look at.  Exits non-zero, with
// the reason, at the first thing that is not as a user would expect.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, out, code, memberName, managerEmail, salesEmail, password] = process.argv.slice(2);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'];
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 ' +
    '(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const dirs = [];

function fail(msg) {
    console.error(`FAIL: ${msg}`);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    process.exit(1);
}

async function browser(options) {
    const dir = mkdtempSync(join(tmpdir(), 'sharecard-e2e-')); // a fresh --user-data-dir
    dirs.push(dir);
    return chromium.launchPersistentContext(dir, {
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true, args: FLAGS, acceptDownloads: true, ...options,
    });
}

async function signIn(ctx, email) {
    const p = await ctx.newPage();
    await p.goto(`${base}/login`);
    await p.fill('input[name=email]', email);
    await p.fill('input[name=password]', password);
    await Promise.all([p.waitForNavigation(), p.click('form button[type=submit]')]);
    return p;
}

// ---- the visitor, on a phone ------------------------------------------------
const phone = await browser({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2,
    isMobile: true, hasTouch: true, userAgent: IPHONE });
const page = await phone.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

await page.goto(`${base}/l/${code}`);
if (!/\/c\/[a-z0-9-]+\?l=/.test(page.url())) fail(`the QR link did not land on the card: ${page.url()}`);
if (!(await page.textContent('h1.name')).includes(memberName)) fail('the card shows another name');
await page.screenshot({ path: join(out, 'landing.png'), fullPage: true });

const [download] = await Promise.all([page.waitForEvent('download'),
    page.click('a[data-action=save]')]);
if (!download.suggestedFilename().endsWith('.vcf')) fail(`save contact gave ${download.suggestedFilename()}`);

const shared = page.waitForResponse((r) => r.url().endsWith('/share') && r.request().method() === 'POST');
await page.click('#share');
const shareResponse = await shared;
if (shareResponse.status() !== 201) fail(`sharing answered ${shareResponse.status()}`);
const link = (await shareResponse.json()).url;
if (!/\/l\/[a-z0-9]{8}$/.test(link)) fail(`the shared link looks wrong: ${link}`);

await page.fill('input[name=name]', 'E2E Visitor');
await page.fill('input[name=email]', 'e2e.visitor@example.com');
await page.check('input[name=consent]');
await Promise.all([page.waitForURL(/\/r\/[a-z0-9]{8}$/), page.click('#signup button[type=submit]')]);
const referral = (await page.textContent('#reflink')).trim();
if (!/\/l\/[a-z0-9]{8}$/.test(referral)) fail(`no referral link on the thank-you page: ${referral}`);
await page.screenshot({ path: join(out, 'thanks.png'), fullPage: true });
if (errors.length) fail(`the pages logged errors: ${errors.join(' | ')}`);
await phone.close();

// ---- the manager, on a laptop -------------------------------------------------
const laptop = await browser({ viewport: { width: 1280, height: 900 } });
const dash = await signIn(laptop, managerEmail);
if (!dash.url().endsWith('/dashboard')) fail(`the manager landed on ${dash.url()}`);
const kpi = async (k) => Number(await dash.getAttribute(`[data-kpi=${k}]`, 'data-value'));
for (const k of ['scans', 'views', 'uniques', 'shares', 'saves', 'signups'])
    if (!(await kpi(k) >= 1)) fail(`the dashboard shows no ${k}`);
const rows = await dash.textContent('#signups');
if (!rows.includes('E2E Visitor')) fail('the sign-up is not on the dashboard');
if (!rows.includes(`${memberName} (member)`)) fail('the sign-up is not credited to the card owner');
await dash.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });
await laptop.close();

// ---- the salesperson's workspace ----------------------------------------------
const own = await browser({ viewport: { width: 390, height: 844 }, isMobile: true });
const me = await signIn(own, salesEmail);
if (!me.url().endsWith('/me')) fail(`the salesperson landed on ${me.url()}`);
if (!(await me.getAttribute('[data-kpi=signups]', 'data-value') >= 1)) fail('no sign-up in the workspace');
await me.screenshot({ path: join(out, 'workspace.png'), fullPage: true });
await own.close();

for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(`ok: visit, save, share and sign-up seen on the dashboard; screenshots in ${out}`);
