// flow.mjs — a visitor and a manager, in real headless Chromium.
//
//   node flow.mjs BASE_URL OUT_DIR QR_CODE MEMBER_NAME MANAGER_EMAIL SALES_EMAIL PASSWORD
//
// On a phone-sized viewport the visitor opens the card's QR link, saves the
// contact, shares the card and signs up; then the manager signs in and must
// find that visit, share and sign-up on the dashboard, credited to the card's
// owner.  Screenshots of the landing page, thank-you page, dashboard and
// workspace go to OUT_DIR for a person to look at.  The manager also sees a
// scan arrive on the live feed, sorts the leaderboard and opens the share
// tree; the salesperson's editor preview follows their typing; without JavaScript a
// form error comes back on the card page itself.  Exits non-zero, with
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
page.on('console', (m) => {
    // The sign-up form's own 409/422 answers are expected below; the browser logs them.
    if (m.type() === 'error' && !/status of (409|422)/.test(m.text())) errors.push(m.text());
});

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
// Consent is required in the browser too: nothing is sent without it.
const cardUrl = page.url();
await page.fill('input[name=phone]', '12');
await page.click('#signup button[type=submit]');
if (!(await page.$eval('input[name=consent]', (e) => !e.validity.valid))) fail('consent is not required');
if (page.url() !== cardUrl) fail('the form was sent without consent');
// An error shows on the form itself, next to what was typed, which stays.
await page.check('input[name=consent]');
await page.click('#signup button[type=submit]');
await page.waitForSelector('#signup-error:not([hidden])');
if (!(await page.textContent('#signup-error')).includes('valid phone')) fail('no phone error on the form');
if ((await page.inputValue('input[name=name]')) !== 'E2E Visitor') fail('the form lost the name');
if ((await page.getAttribute('input[name=phone]', 'aria-invalid')) !== 'true') fail('the phone field is not marked');
await page.locator('#signup').screenshot({ path: join(out, 'form-error.png') });
await page.fill('input[name=phone]', '');
await page.fill('input[name=email]', 'e2e.visitor@example.com');
await Promise.all([page.waitForURL(/\/r\/[a-z0-9]{8}$/), page.click('#signup button[type=submit]')]);
const referral = (await page.textContent('#reflink')).trim();
if (!/\/l\/[a-z0-9]{8}$/.test(referral)) fail(`no referral link on the thank-you page: ${referral}`);
const refPage = page.url();
if (!(await page.textContent('#earn')).includes('points')) fail('the thank-you page does not say what is earned');
if (!(await page.textContent('#where')).includes(refPage)) fail('the thank-you page does not say where to see it');
await page.screenshot({ path: join(out, 'thanks.png'), fullPage: true });
// Signing up again from this browser leads back to the referral page.
await page.goto(cardUrl);
await page.fill('input[name=name]', 'E2E Visitor');
await page.fill('input[name=email]', 'e2e.visitor@example.com');
await page.check('input[name=consent]');
await page.click('#signup button[type=submit]');
await page.waitForSelector('#signup-again');
await page.locator('#signup').screenshot({ path: join(out, 'signup-again.png') });
await Promise.all([page.waitForURL(refPage), page.click('#signup-again')]);
// Without JavaScript (issue 17, round two): a form error comes back on the card page
// itself, 422, the message at the form, the field marked, what was typed kept; on a
// phone and on a laptop.
for (const [width, height] of [[390, 844], [1280, 900]]) {
    const nojs = await browser({ viewport: { width, height }, javaScriptEnabled: false,
        userAgent: width < 500 ? IPHONE : undefined });
    const np = await nojs.newPage();
    await np.goto(cardUrl);
    await np.fill('input[name=name]', 'No Script');
    await np.fill('input[name=phone]', '12');
    await np.check('input[name=consent]');
    const [answer] = await Promise.all([np.waitForNavigation(), np.click('#signup button[type=submit]')]);
    if (answer.status() !== 422) fail(`a form error without script answered ${answer.status()}`);
    if (!(await np.isVisible('#signup-error'))) fail('without script the error is not on the form');
    if (!(await np.textContent('#signup-error')).includes('valid phone')) fail('no phone error without script');
    if ((await np.inputValue('input[name=name]')) !== 'No Script') fail('without script the form lost the name');
    if ((await np.getAttribute('input[name=phone]', 'aria-invalid')) !== 'true') fail('without script the phone is not marked');
    if (!(await np.isChecked('input[name=consent]'))) fail('without script the consent tick was lost');
    await np.screenshot({ path: join(out, `form-error-nojs-${width}.png`), fullPage: true });
    await nojs.close();
}
// The visitor buys (through the API, as a shop would): revenue for the dashboard below.
const bought = await fetch(`${base}/api/v1/conversions`, { method: 'POST',
    headers: { Authorization: `Bearer ${process.env.SC_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'e2e.visitor@example.com', amount: 123456.78, order_id: 'E2E-1' }) });
if (bought.status !== 201) fail(`the purchase answered ${bought.status}`);
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
// The live feed: a new scan, made elsewhere, appears without a reload.
const walker = await browser({ userAgent: IPHONE, isMobile: true });
const wp = await walker.newPage();
await wp.goto(`${base}/l/${code}`);
await walker.close();
try {
    await dash.waitForSelector('#live li[data-type=scan]', { timeout: 15000 });
} catch (e) {
    fail('the live feed did not show the new scan');
}
const said = await dash.textContent('#live li[data-type=scan]');
if (!said.includes(`scanned ${memberName}'s QR code`)) fail(`the live feed said: ${said}`);
// Sorting the leaderboard by a column marks it and keeps every row.
const before = await dash.locator('#leaderboard tbody tr').count();
await dash.click('#leaderboard th:has-text("Sign-ups")');
if ((await dash.getAttribute('#leaderboard th:has-text("Sign-ups")', 'aria-sort')) !== 'descending')
    fail('the leaderboard did not sort');
if ((await dash.locator('#leaderboard tbody tr').count()) !== before) fail('sorting lost rows');
await dash.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });
// Money in the deployment's currency (CNY by default), times in its zone (SHARECARD_TZ).
const revenue = (await dash.textContent('[data-kpi=revenue] .v')).trim();
if (revenue !== '¥123,456.78') fail(`the revenue reads ${revenue}`);
// Text that is read as one piece stays on one line: an amount in its tile.
const lines = (sel) => dash.$$eval(sel, (es) => es.map((e) => {
    const r = document.createRange();
    r.selectNodeContents(e);
    return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
}));
if ((await lines('[data-kpi=revenue] .v'))[0] !== 1) fail('the revenue breaks over two lines');
if (!(await dash.textContent('#tz')).includes('Asia/Shanghai')) fail('the page does not name its time zone');
const shown = (await dash.textContent('#signups tbody tr td')).trim();
const beijing = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
if (!shown.startsWith(beijing)) fail(`the sign-up's time ${shown} is not Beijing's day ${beijing}`);
if ((await dash.locator('svg.chart text.xday').count()) < 2) fail('the chart has no dates');
// The rewards ledger: in the navigation, filtered, approved in bulk.
await Promise.all([dash.waitForNavigation(), dash.click('nav.menu a[href="/admin/rewards"]')]);
await dash.selectOption('select[name=status]', 'pending');
await Promise.all([dash.waitForNavigation(), dash.click('form.filters button[type=submit]')]);
const states = await dash.$$eval('#rewards tbody tr', (rs) => rs.map((r) => r.dataset.status));
if (!states.length || states.some((st) => st !== 'pending')) fail(`the filter shows ${states}`);
await dash.check('#select-all');
await dash.screenshot({ path: join(out, 'rewards.png'), fullPage: true });
await Promise.all([dash.waitForNavigation(), dash.click('form.bulk button[type=submit]')]);
const said2 = await dash.textContent('main');
if (!said2.includes(`Approved ${states.length} of the ${states.length} selected rows.`)) fail('bulk approval did not say so');
await dash.goto(`${base}/admin/rewards?status=pending`);
if ((await dash.locator('#rewards tbody tr').count()) !== 0) fail('rows still pending after bulk approval');
await dash.goto(`${base}/dashboard`);
// The share tree of the card: its QR link and, under it, the visitor's share.
await Promise.all([dash.waitForNavigation(), dash.click(`#leaderboard a:has-text("${memberName}")`)]);
if (!/\/dashboard\/tree\//.test(dash.url())) fail(`the leaderboard led to ${dash.url()}`);
if ((await dash.locator('#tree li[data-depth="1"]').count()) < 1) fail('the share is not in the tree');
await dash.screenshot({ path: join(out, 'share-tree.png'), fullPage: true });
await dash.goto(`${base}/admin/members`);
await dash.screenshot({ path: join(out, 'members.png'), fullPage: true });
await laptop.close();

// The same dashboard for a manager whose browser prefers Chinese.
const zh = await browser({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
const dzh = await signIn(zh, managerEmail);
if ((await dzh.getAttribute('html', 'lang')) !== 'zh-CN') fail('the dashboard is not in Chinese');
if (!(await dzh.textContent('h1')).includes('仪表盘')) fail(`the Chinese dashboard says ${await dzh.textContent('h1')}`);
// Chinese headings wrap between words, never inside one (浏/览): each is one line here.
const zhLines = await dzh.$$eval('#channels th', (es) => es.map((e) => {
    const r = document.createRange();
    r.selectNodeContents(e);
    return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
}));
if (zhLines.some((n) => n > 1)) fail(`a Chinese channels heading breaks inside a word: ${zhLines}`);
await dzh.screenshot({ path: join(out, 'dashboard-zh.png'), fullPage: true });
await zh.close();
// The manager on a phone: wide tables say they scroll.
const mob = await browser({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
const dm = await signIn(mob, managerEmail);
if ((await dm.locator('.scroll-hint').count()) < 1) fail('no hint that the tables scroll on a phone');
// A wide table scrolls inside its box; the page itself never scrolls sideways.
const fits = async (p, what) => {
    const w = await p.evaluate(() => document.documentElement.scrollWidth);
    if (w > 390) fail(`${what} is ${w} px wide on a 390 px phone`);
};
await fits(dm, 'the dashboard');
await dm.screenshot({ path: join(out, 'dashboard-phone.png'), fullPage: true });
await dm.goto(`${base}/admin/rewards`);
await fits(dm, '/admin/rewards');
await dm.screenshot({ path: join(out, 'rewards-phone.png'), fullPage: true });
for (const path of ['/leads', '/customers', '/customers?nps=detractor']) {
    await dm.goto(`${base}${path}`);
    await fits(dm, path);
}
await mob.close();

// ---- the salesperson's workspace ----------------------------------------------
const own = await browser({ viewport: { width: 390, height: 844 }, isMobile: true });
const me = await signIn(own, salesEmail);
if (!me.url().endsWith('/me')) fail(`the salesperson landed on ${me.url()}`);
if (!(await me.getAttribute('[data-kpi=signups]', 'data-value') >= 1)) fail('no sign-up in the workspace');
await fits(me, '/me');
await me.screenshot({ path: join(out, 'workspace.png'), fullPage: true });
// "Show my QR code" is on top and fills the phone's screen, to hold out at a fair.
const showQr = await me.locator('#show-qr').boundingBox();
if (!showQr || showQr.y > 400) fail(`"Show my QR code" is not on top: ${JSON.stringify(showQr)}`);
if (!(await me.getAttribute('[data-kpi=rank]', 'data-value') >= 1)) fail('no rank on top of /me');
await Promise.all([me.waitForURL(/\/me\/qr$/), me.click('#show-qr')]);
const qrBox = await me.locator('#qrfull-img').boundingBox();
if (!qrBox || qrBox.width < 0.8 * 390) fail(`the QR code does not fill the screen: ${JSON.stringify(qrBox)}`);
await me.screenshot({ path: join(out, 'show-qr.png') });
// The editor's preview follows what is typed, before saving.
await me.goto(`${base}/me/edit`);
await me.fill('.editor input[name=title]', 'Preview Title 预览');
const preview = me.frameLocator('iframe.preview');
try {
    await preview.locator('.job:has-text("Preview Title 预览")').waitFor({ timeout: 5000 });
} catch (e) {
    fail('the editor preview did not follow the typing');
}
// While typing on a phone the preview stays in sight (on top, sticky).
await me.fill('.editor textarea[name=bio]', 'Typing far down the form');
const pv = await me.locator('iframe.preview').boundingBox();
if (!pv || pv.y < -1 || pv.y > 844 - 100) fail(`the preview is out of sight while typing: ${JSON.stringify(pv)}`);
await me.screenshot({ path: join(out, 'editor.png') });
await own.close();

for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(`ok: visit, save, share and sign-up seen on the dashboard; screenshots in ${out}`);
