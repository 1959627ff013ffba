// Takes the README's screenshots (docs/screenshots/widget.png, admin.png, with the About this visitor panel) from a real run: `node tests/browser/screenshots.js` after `make build`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startWranglerDev, ROOT } from '../helpers/desk.js';
import { launch, startHostSite, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox, adminReplies, rowUnread, T, DESK_VARS } from './lib.js';

const out = join(ROOT, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const desk = await startWranglerDev({ vars: DESK_VARS }); // the customer site (another port) may embed the widget
const site = await startHostSite(desk.url);
const browser = await launch();
try {
  // the demo site, as a visitor sees it
  // from a newsletter link, in German, on Berlin time; the product opens in place (pushState)
  const visitorCtx = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  const demo = await visitorCtx.newPage();
  await demo.goto(`${desk.url}/?utm_source=newsletter`);
  await widgetConnected(demo);
  await demo.getByRole('link', { name: 'View the Gooseneck Pro' }).click();
  await visitorSays(demo, 'Hi! My Gooseneck Pro arrived with a dent in the lid.');

  const others = [];
  for (const [name, text] of [['Priya', 'Do you ship to Norway?'], ['Tomás', 'Can I change my delivery address?\nOrder #4411']]) {
    const v = await openVisitor(browser, site, 'demo', name);
    await visitorSays(v.page, text);
    others.push(v);
  }

  // wide enough for the About this visitor column beside the conversation
  const adminCtx = await browser.newContext({ viewport: { width: 1360, height: 760 } });
  const admin = await openAdmin(adminCtx, desk.url, 'demo');
  await rowUnread(admin, 'Priya', 1);
  // the owner signs replies with a name (Team page, "Your name")
  await admin.getByRole('button', { name: 'Team' }).click();
  await admin.getByRole('region', { name: 'Team' }).getByLabel('Your name').fill('Olga');
  await admin.getByRole('button', { name: 'Save name' }).click();
  await admin.getByText('Olga · owner', { exact: true }).waitFor({ timeout: T });
  await admin.getByRole('button', { name: 'Back to the inbox' }).click();
  const ui = inbox(admin);
  const visitorName = await ui.rows.last().evaluate((b) => b.querySelector('.name').textContent);
  await adminReplies(admin, visitorName, 'Sorry about that! Could you send a photo of the dent? We will ship a new lid today.');
  await widgetShows(demo, 'Sorry about that! Could you send a photo of the dent? We will ship a new lid today.');
  await visitorSays(demo, 'Sure, sending it by email. Thanks!');
  await ui.log.getByText('Sure, sending it by email. Thanks!', { exact: true }).waitFor({ timeout: T });
  // an internal note for the team, then back to replying
  await admin.getByRole('radio', { name: 'Note' }).check();
  await ui.note.fill('Replacement lid: order #3391, ships from the Leeds warehouse.');
  await ui.note.press('Enter');
  await ui.log.getByRole('listitem').filter({ hasText: 'Replacement lid' }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
  await admin.getByRole('radio', { name: 'Reply' }).check();
  await visitorSays(others[1].page, 'Also: is the Travel Mini back in stock?');
  await rowUnread(admin, 'Tomás', 2);
  await rowUnread(admin, visitorName, 0); // read: it has been on screen for more than a second
  await admin.getByRole('group', { name: 'About this visitor' }).getByRole('link', { name: 'Gooseneck Pro · Acme Kettles' }).first().waitFor({ timeout: T });

  await widget(demo).input.fill('');
  await demo.screenshot({ path: join(out, 'widget.png') });
  await admin.screenshot({ path: join(out, 'admin.png') });

  // the narrow layouts, for checking by eye (not in the README)
  if (process.env.NARROW) {
    await admin.setViewportSize({ width: 360, height: 700 });
    await admin.screenshot({ path: '/tmp/admin-narrow-conv.png' });
    await admin.getByRole('button', { name: 'Back to conversations' }).click();
    await admin.screenshot({ path: '/tmp/admin-narrow-list.png' });
    await demo.setViewportSize({ width: 375, height: 700 });
    await demo.screenshot({ path: '/tmp/widget-narrow.png' });
  }
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await site.close();
  await desk.stop();
}
