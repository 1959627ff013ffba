// Browser: "typing…" both ways (the visitor's in the inbox, the agent's in the widget), each cleared by the message itself; "Seen" on both sides (under the visitor's message once an agent read it, under the agent's reply once the visitor saw it), still there after a reload.
import { test, before, after } from 'node:test';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widget, inbox, rowUnread, T, DESK_VARS } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage({ vars: DESK_VARS })));
after(() => stopStage({ desk, site, browser }));

/** Types `text` key by key as a person does, over more than one typing period (2 s), without sending. */
const typeSlowly = (box, text) => box.pressSequentially(text, { delay: 90 });
const gone = (locator) => locator.waitFor({ state: 'hidden', timeout: T });

test('typing shows on the other side and the message clears it; "Seen" on both sides survives a reload', { timeout: 180_000 }, async () => {
  const d = deskName('typing');
  const v = await openVisitor(browser, site, d, 'Dana');
  const w = widget(v.page);
  await visitorSays(v.page, 'Hi, is anyone there?');

  const adminCtx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Dana', 1);
  await ui.row('Dana').click();
  await rowUnread(admin, 'Dana', 0); // read after a second on screen

  // the agent read it: the widget says so under the visitor's message
  const asked = w.log.getByRole('listitem').filter({ hasText: 'Hi, is anyone there?' });
  await asked.filter({ hasText: /· Seen$/ }).waitFor({ timeout: T });

  // the visitor types: the open conversation says so, until the message comes
  const visitorTyping = admin.getByText('Dana is typing…', { exact: true });
  await typeSlowly(w.input, 'My parcel never arrived');
  await visitorTyping.waitFor({ timeout: T });
  await w.input.press('Enter');
  await ui.log.getByText('My parcel never arrived', { exact: true }).waitFor({ timeout: T });
  await gone(visitorTyping);

  // the agent types: the widget names who, until the reply comes
  const agentTyping = v.page.getByText('Owner is typing…', { exact: true });
  await typeSlowly(ui.input, 'Sorry to hear that, let me check');
  await agentTyping.waitFor({ timeout: T });
  await ui.input.press('Enter');
  await widgetShows(v.page, 'Sorry to hear that, let me check');
  await gone(agentTyping);

  // the widget is open and visible: the visitor has seen the reply, and the inbox says so under it
  const replied = ui.log.getByRole('listitem').filter({ hasText: 'Sorry to hear that, let me check' });
  await replied.filter({ hasText: /· Seen$/ }).waitFor({ timeout: T });

  // both marks are stored: a reload of either side shows the same
  await admin.reload();
  await ui.row('Dana').click();
  await replied.filter({ hasText: /· Seen$/ }).waitFor({ timeout: T });
  await v.page.reload();
  await v.page.waitForFunction(() => window.SupportChat?.state === 'connected', null, { timeout: T });
  await w.launcher.click();
  await asked.filter({ hasText: /· Seen$/ }).waitFor({ timeout: T });
  await w.log.getByRole('listitem').filter({ hasText: 'My parcel never arrived' }).filter({ hasText: /· Seen$/ }).waitFor({ timeout: T });
  await adminCtx.close();
  await v.context.close();
});
