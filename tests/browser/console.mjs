// Drives Debian's Chromium through the administrators' console, as a person
// would: labels to find fields, the keyboard to reach and press buttons, links
// to move between pages. The Rust tests (tests/tests/acme_interop.rs) start the
// gateway and the ACME client, run one scenario of this script, and check what
// it reports against the CA (CRL, openssl verify).
//
//   node console.mjs --base https://127.0.0.1:8443 --user admin --password-file pw \
//        --out DIR approve --name q.test
//   node console.mjs ... certificate --name q.test
//   node console.mjs ... manage --new-admin rao1 --new-password-file pw2 --org Demo \
//        --endpoint lab-est --rotate default
//   node console.mjs ... access --revoke-key ID --change-password-file pw3
//   node console.mjs --base URL --out DIR sso-sp --expect-user alice
//   node console.mjs --base URL --out DIR sso-idp --idp-start URL --expect-path /console/queue
//
// Every page it opens is checked for the basics of accessibility (one h1, a
// label on every field, a name on every button and link) and for script or
// style the Content-Security-Policy refused (any console error fails the run).
// Screenshots are written to --out. The last line printed is a JSON report.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

function parseArgs(argv) {
  const opts = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      opts[a.slice(2)] = argv[++i];
    } else {
      opts.positional.push(a);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const scenario = opts.positional[0];
const base = opts.base;
const out = opts.out;
const password = opts['password-file'] ? readFileSync(opts['password-file'], 'utf8').trim() : '';
mkdirSync(out, { recursive: true });

function fail(message) {
  throw new Error(message);
}

const problems = [];
/** The status of a refusal the scenario provokes on purpose (not a problem), or null. */
let expectedRefusal = null;

/** Accessibility basics of the page that is open. */
async function checkAccessibility(page, what) {
  const report = await page.evaluate(() => {
    const visible = (el) => {
      const style = getComputedStyle(el);
      return style.display !== 'none' && style.visibility !== 'hidden' && el.type !== 'hidden';
    };
    const unlabelled = [...document.querySelectorAll('input, select, textarea')]
      .filter(visible)
      .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML.slice(0, 120));
    const nameless = [...document.querySelectorAll('a, button')]
      .filter(visible)
      .filter((el) => !(el.textContent || '').trim() && !el.getAttribute('aria-label'))
      .map((el) => el.outerHTML.slice(0, 120));
    const unreachable = [...document.querySelectorAll('a[href], button, input, select')]
      .filter(visible)
      .filter((el) => el.tabIndex < 0 || el.disabled)
      .map((el) => el.outerHTML.slice(0, 120));
    return {
      h1: document.querySelectorAll('h1').length,
      lang: document.documentElement.lang,
      title: document.title,
      unlabelled,
      nameless,
      unreachable,
    };
  });
  if (report.h1 !== 1) problems.push(`${what}: ${report.h1} h1 headings`);
  if (!report.lang) problems.push(`${what}: no lang on <html>`);
  if (!report.title) problems.push(`${what}: no <title>`);
  for (const el of report.unlabelled) problems.push(`${what}: field without a label: ${el}`);
  for (const el of report.nameless) problems.push(`${what}: control without a name: ${el}`);
  for (const el of report.unreachable) problems.push(`${what}: not keyboard-reachable: ${el}`);
}

/** Presses Tab until `target` has the focus; fails if it never does. */
async function tabTo(page, target, what) {
  const handle = await target.elementHandle();
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    if (await handle.evaluate((el) => el === document.activeElement)) return i + 1;
  }
  fail(`${what} is not reachable with the Tab key`);
}

async function signIn(page) {
  await page.goto(`${base}/console/`);
  if (!page.url().endsWith('/console/login')) fail(`not sent to the login form: ${page.url()}`);
  await checkAccessibility(page, 'login');
  await page.getByLabel('Username').fill(opts.user);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL(`${base}/console/`);
  const h1 = await page.locator('h1').textContent();
  if (h1.trim() !== 'Dashboard') fail(`after sign-in the page is "${h1}"`);
}

async function dashboard(page) {
  await checkAccessibility(page, 'dashboard');
  const charts = await page.locator('svg[role=img]').count();
  const bars = await page.locator('svg rect.bar').evaluateAll((rects) =>
    rects.map((r) => r.getBBox().width),
  );
  const tables = await page.locator('section.card table').count();
  if (charts < 8) fail(`the dashboard shows ${charts} charts`);
  if (!bars.some((w) => w > 1)) fail('every bar of the dashboard is empty');
  if (tables < charts) fail(`${charts} charts but ${tables} tables of their numbers`);
  await page.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });
  return { charts, bars: bars.filter((w) => w > 1).length };
}

async function approve(page) {
  await page.getByRole('link', { name: 'Approval queue' }).click();
  await page.waitForURL(`${base}/console/queue`);
  await checkAccessibility(page, 'queue');
  const row = page.locator('tbody tr', { hasText: opts.name });
  if ((await row.count()) !== 1) fail(`the queue lists ${await row.count()} requests for ${opts.name}`);
  const request = (await row.locator('td').nth(1).textContent()).trim();
  await page.screenshot({ path: join(out, 'queue.png'), fullPage: true });
  await row.getByLabel('Message').fill('approved in the browser test');
  const button = row.getByRole('button', { name: 'Approve', exact: true });
  const presses = await tabTo(page, button, 'the Approve button');
  await Promise.all([page.waitForURL(`${base}/console/queue`), page.keyboard.press('Enter')]);
  const left = await page.locator('tbody tr', { hasText: opts.name }).count();
  if (left !== 0) fail(`the request for ${opts.name} is still in the queue after approval`);
  return { request, tab_presses: presses };
}

async function certificate(page) {
  await page.getByRole('link', { name: 'Certificates', exact: true }).click();
  await page.waitForURL(`${base}/console/certificates`);
  await checkAccessibility(page, 'certificates');
  await page.getByLabel('Name or subject contains').fill(opts.name);
  await page.getByLabel('Status').selectOption('issued');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/\/console\/certificates\?/);
  const rows = page.locator('#certificates tbody tr');
  const count = await rows.count();
  if (count < 1) fail(`filtering by ${opts.name} lists nothing`);
  for (let i = 0; i < count; i++) {
    const text = await rows.nth(i).textContent();
    if (!text.includes(opts.name)) fail(`the filtered list shows a row without ${opts.name}: ${text}`);
  }
  const csvDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const csvPath = join(out, 'certificates.csv');
  await (await csvDownload).saveAs(csvPath);
  // Sorting by a column header keeps the filter.
  await page.getByRole('link', { name: 'Expires' }).click();
  await page.waitForURL(/sort=expires/);
  if ((await rows.count()) !== count) fail('sorting changed what the filter selects');

  const link = rows.first().locator('td').first().getByRole('link');
  const id = (await link.textContent()).trim();
  await link.click();
  await page.waitForURL(`${base}/console/certificates/${id}`);
  await checkAccessibility(page, 'certificate');
  await page.screenshot({ path: join(out, 'certificate.png'), fullPage: true });
  const pemDownload = page.waitForEvent('download');
  await page.getByRole('link', { name: 'pem-chain' }).click();
  const pemPath = join(out, 'downloaded.pem');
  await (await pemDownload).saveAs(pemPath);

  await page.getByLabel('Reason').selectOption('key-compromise');
  await page.getByLabel('Message').fill('revoked in the browser test');
  await Promise.all([
    page.waitForURL(`${base}/console/certificates/${id}`),
    page.getByRole('button', { name: 'Revoke' }).click(),
  ]);
  const status = await page.locator('tr', { hasText: 'Status' }).locator('td').textContent();
  if (status.trim() !== 'revoked') fail(`after revocation the status is ${status}`);
  // The management pages, each through its link in the navigation.
  const visited = [];
  for (const name of ['Organizations', 'Administrators', 'Endpoints', 'CAs', 'Profiles', 'Access', 'Audit log']) {
    await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name, exact: true }).click();
    await page.waitForLoadState();
    const h1 = (await page.locator('h1').textContent()).trim();
    await checkAccessibility(page, name);
    visited.push(h1);
  }
  return { certificate: id, pem: pemPath, csv: csvPath, listed: count, visited };
}

/** Opens a page through its link in the navigation. */
async function navigate(page, name, path) {
  await page.getByRole('navigation', { name: 'main' }).getByRole('link', { name, exact: true }).click();
  await page.waitForURL(`${base}${path}`);
  await checkAccessibility(page, name);
}

/** Submits a form with its button and waits for the page that answers it. */
async function submit(page, button, what) {
  await Promise.all([page.waitForNavigation(), button.click()]);
  await checkAccessibility(page, what);
  const h1 = (await page.locator('h1').textContent()).trim();
  if (h1 === 'Refused' || h1 === 'Error') {
    fail(`${what}: ${(await page.locator('main').textContent()).trim()}`);
  }
  return h1;
}

/** The text of an element that must be on the page. */
async function shown(page, selector, what) {
  const element = page.locator(selector);
  if ((await element.count()) !== 1) fail(`${what} is not shown on ${page.url()}`);
  return (await element.textContent()).trim();
}

/**
 * An MRAO's management: a new RAO with privileges ticked, an API key for them
 * (shown once), a new EST endpoint (its password shown once), a new password for
 * an existing one, and a one-time SCEP challenge.
 */
async function manage(page) {
  const newPassword = readFileSync(opts['new-password-file'], 'utf8').trim();
  await navigate(page, 'Administrators', '/console/administrators');
  const form = page.locator('#new-admin');
  await form.getByLabel('Username', { exact: true }).fill(opts['new-admin']);
  await form.getByLabel(/^Initial password/).fill(newPassword);
  await form.getByLabel('Role', { exact: true }).selectOption('rao');
  await form.getByRole('group', { name: "An RAO's organizations" }).getByLabel(opts.org).check();
  await form.getByLabel('TLS server request').check();
  await form.getByLabel('TLS server approve').check();
  await submit(page, form.getByRole('button', { name: 'Create administrator' }), 'new administrator');
  const row = page.locator('#administrators tbody tr', { hasText: opts['new-admin'] });
  if ((await row.count()) !== 1) fail(`${opts['new-admin']} is not listed after creation`);
  const rowText = (await row.textContent()).replace(/\s+/g, ' ');
  if (!rowText.includes('RAO') || !rowText.includes(opts.org)) fail(`the new row reads: ${rowText}`);
  await page.screenshot({ path: join(out, 'administrators.png'), fullPage: true });

  await page.getByLabel('For', { exact: true }).selectOption({ label: opts['new-admin'] });
  await page.getByLabel('Label (what the key is for)').fill('browser-test');
  await submit(page, page.getByRole('button', { name: 'Create API key' }), 'new API key');
  const apiKey = await shown(page, '#api-key', 'the new API key');
  await page.getByRole('link', { name: 'Back to the administrators' }).click();
  await page.waitForURL(`${base}/console/administrators`);
  const keyRow = page.locator('#api-keys tbody tr', { hasText: 'browser-test' });
  if ((await keyRow.count()) !== 1) fail('the new API key is not listed');
  if ((await page.content()).includes(apiKey)) fail('the administrators page shows an API key');
  const keyId = (await keyRow.locator('td').nth(1).textContent()).trim();

  await navigate(page, 'Endpoints', '/console/endpoints');
  const create = page.locator('#new-endpoint');
  await create.getByLabel(/^Name/).fill(opts.endpoint);
  await create.getByLabel('Protocol').selectOption('est');
  await create.getByLabel('Organization', { exact: true }).selectOption({ label: opts.org });
  await create.getByLabel('Profile').selectOption('device');
  await create.getByLabel('Approval').selectOption('auto');
  await submit(page, create.getByRole('button', { name: 'Create endpoint' }), 'new endpoint');
  const createdPassword = await shown(page, '#endpoint-secret', 'the new endpoint\'s password');
  await page.getByRole('link', { name: 'Back to the endpoints' }).click();
  await page.waitForURL(`${base}/console/endpoints`);
  if ((await page.locator('#endpoints tbody tr', { hasText: opts.endpoint }).count()) !== 1) {
    fail(`${opts.endpoint} is not listed`);
  }
  const rotate = page.getByRole('button', { name: `New password for ${opts.rotate}`, exact: true });
  await submit(page, rotate, 'new EST password');
  const rotatedPassword = await shown(page, '#endpoint-secret', 'the rotated password');
  await page.getByRole('link', { name: 'Back to the endpoints' }).click();
  await page.waitForURL(`${base}/console/endpoints`);
  const mint = page.getByRole('button', { name: `New one-time challenge for ${opts.rotate}`, exact: true });
  await submit(page, mint, 'one-time challenge');
  const challenge = await shown(page, '#scep-challenge', 'the one-time challenge');
  await page.screenshot({ path: join(out, 'scep-challenge.png'), fullPage: true });
  return { api_key: apiKey, api_key_id: keyId, created_password: createdPassword, rotated_password: rotatedPassword, challenge };
}

/**
 * The allow-lists: the RAO list set to a network this browser is outside of; the
 * MRAO's own list refused when it would shut the MRAO out; an API key revoked.
 */
async function access(page) {
  await navigate(page, 'Access', '/console/access');
  const own = await shown(page, '#client-address', 'your address');
  await page.getByLabel(/^RAO networks/).fill('192.0.2.0/24\n2001:db8::/32');
  await submit(page, page.getByRole('button', { name: 'Save allow-lists' }), 'allow-lists');
  const saved = await page.getByLabel(/^RAO networks/).inputValue();
  await page.screenshot({ path: join(out, 'access.png'), fullPage: true });
  await page.getByLabel(/^MRAO networks/).fill('192.0.2.0/24');
  expectedRefusal = 400;
  const answer = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save allow-lists' }).click()]);
  await checkAccessibility(page, 'refused allow-list');
  const refusal = (await page.locator('main').textContent()).trim();
  expectedRefusal = null;
  if (answer[0].status() !== 400) fail(`the refused allow-list was answered with ${answer[0].status()}`);
  await page.goto(`${base}/console/access`);
  const mraoAfter = await page.getByLabel(/^MRAO networks/).inputValue();

  await navigate(page, 'Administrators', '/console/administrators');
  const revoke = page.getByRole('button', { name: new RegExp(`^Revoke API key ${opts['revoke-key']} `) });
  await submit(page, revoke, 'revoked API key');
  const left = await page.locator('#api-keys tbody tr', { hasText: opts['revoke-key'] }).count();

  // One's own password: the session ends, and the new password signs in.
  const next = readFileSync(opts['change-password-file'], 'utf8').trim();
  const change = page.locator('#change-password');
  await change.getByLabel(/^Your current password/).fill(password);
  await change.getByLabel(/^New password/).fill(next);
  await Promise.all([
    page.waitForURL(`${base}/console/login`),
    change.getByRole('button', { name: 'Change password' }).click(),
  ]);
  await page.goto(`${base}/console/`);
  if (!page.url().endsWith('/console/login')) fail('the old session outlived the password change');
  await page.getByLabel('Username').fill(opts.user);
  await page.getByLabel('Password').fill(next);
  await Promise.all([page.waitForURL(`${base}/console/`), page.getByLabel('Password').press('Enter')]);
  const after = await signedInAs(page);
  return { address: own, rao_list: saved.split('\n'), refusal, mrao_list_after: mraoAfter, keys_left: left, signed_in_after_change: after };
}

/** Who the console says is signed in (the header's "name (ROLE)"). */
async function signedInAs(page) {
  return (await page.locator('header > span').last().textContent()).trim();
}

/** SP-initiated: the login page's single sign-on link, the IdP, back to the dashboard. */
async function ssoFromConsole(page) {
  await page.goto(`${base}/console/`);
  await page.waitForURL(`${base}/console/login`);
  await checkAccessibility(page, 'login');
  const link = page.getByRole('link', { name: 'Sign in with single sign-on' });
  await tabTo(page, link, 'the single sign-on link');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console/`, { timeout: 30000 });
  await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
  const who = await signedInAs(page);
  if (opts['expect-user'] && !who.startsWith(opts['expect-user'])) fail(`signed in as ${who}`);
  await page.screenshot({ path: join(out, 'sso-dashboard.png'), fullPage: true });
  return { who, url: page.url() };
}

/** IdP-initiated: the IdP's own page posts a Response; the relay state picks the page. */
async function ssoFromIdp(page) {
  const expect = opts['expect-path'] || '/console/';
  await page.goto(opts['idp-start']);
  await page.waitForURL(`${base}${expect}`, { timeout: 30000 });
  const who = await signedInAs(page);
  if (opts['expect-user'] && !who.startsWith(opts['expect-user'])) fail(`signed in as ${who}`);
  return { who, url: page.url() };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let report;
try {
  // The gateway's certificate chains to a root made for this test only.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // Only the console's own pages are held to it (not the identity provider's).
  const ours = () => page.url().startsWith(base);
  page.on('console', (m) => {
    if (m.type() !== 'error' || !ours()) return;
    // A refusal the scenario asks for is answered with its status, which Chromium logs.
    if (expectedRefusal && m.text().includes(`status of ${expectedRefusal}`)) return;
    problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    if (ours()) problems.push(`page error on ${page.url()}: ${e}`);
  });
  if (scenario === 'approve') {
    await signIn(page);
    const charts = await dashboard(page);
    report = { ...charts, ...(await approve(page)) };
  } else if (scenario === 'certificate') {
    await signIn(page);
    await dashboard(page);
    report = await certificate(page);
  } else if (scenario === 'manage') {
    await signIn(page);
    report = await manage(page);
  } else if (scenario === 'access') {
    await signIn(page);
    report = await access(page);
  } else if (scenario === 'sso-sp') {
    report = await ssoFromConsole(page);
  } else if (scenario === 'sso-idp') {
    report = await ssoFromIdp(page);
  } else {
    fail(`unknown scenario ${scenario}`);
  }
  if (problems.length > 0) fail(`problems:\n${problems.join('\n')}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
