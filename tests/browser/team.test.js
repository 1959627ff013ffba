// Browser: a small team. The owner names itself and invites an agent from the Team page; the link, opened in another browser, joins as that agent; both answer one visitor, whose widget names each; revoking signs the agent out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widget, inbox, adminReplies, rowUnread, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

/** The Team page of an inbox page (opened from the header). */
async function teamPage(page) {
  const team = page.getByRole('region', { name: 'Team' });
  if (!(await team.isVisible())) await page.getByRole('button', { name: 'Team' }).click();
  await team.waitFor({ timeout: T });
  return team;
}

/** The owner creates an invite for `name` as `role`; resolves with the link the page shows. */
async function invite(page, name, role = 'agent') {
  const team = await teamPage(page);
  await team.getByLabel('Name', { exact: true }).fill(name);
  await team.getByLabel('Role').selectOption(role);
  await team.getByRole('button', { name: 'Create invite link' }).click();
  await team.getByText(/^Works once, until /).waitFor({ timeout: T });
  return team.getByRole('textbox', { name: 'Invite link' }).inputValue();
}

/** Opens an invite link in a fresh browser context and joins as `name`. Resolves { context, page }. */
async function join(link, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  const form = page.getByRole('region', { name: 'Join the team' });
  await form.getByLabel('Your name').fill(name);
  await form.getByRole('button', { name: 'Join' }).click();
  return { context, page };
}

test('the owner invites an agent on the Team page; the link joins in another browser as that agent; used again it is refused; revoked, the agent is signed out', { timeout: 120_000 }, async () => {
  const d = deskName('invite');
  const ownerCtx = await browser.newContext();
  const owner = await openAdmin(ownerCtx, desk.url, d);
  await owner.getByText('Owner · owner', { exact: true }).waitFor({ timeout: T });

  const link = await invite(owner, 'Ana');
  assert.match(link, new RegExp(`^${desk.url}/admin/chat\\?desk=${d}#invite=[0-9a-f]{64}$`), 'the code travels in the fragment');
  const team = await teamPage(owner);
  const members = team.getByRole('list', { name: 'Members' });
  await members.getByRole('listitem').filter({ hasText: 'Ana' }).filter({ hasText: 'invited, not joined yet' }).waitFor({ timeout: T });
  await ownerCtx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: desk.url });
  await team.getByRole('button', { name: 'Copy' }).click();
  await team.getByRole('button', { name: 'Copied' }).waitFor({ timeout: T });
  assert.equal(await owner.evaluate(() => navigator.clipboard.readText()), link);

  // Ana, in her own browser: "Join the team", a name, and she is in, signed in as herself
  const ana = await join(link, 'Ana');
  await ana.page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T });
  await ana.page.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });
  assert.equal(new URL(ana.page.url()).hash, '', 'the code is gone from the address bar');
  await ana.page.reload(); // her own token, kept: no prompt
  await ana.page.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });
  assert.equal(await ana.page.getByLabel('Admin token').isVisible(), false);
  await team.getByRole('button', { name: 'Refresh' }).click(); // the desk announces no joins: the page asks
  await members.getByRole('listitem').filter({ hasText: 'Ana' }).filter({ hasText: 'Agent · online' }).waitFor({ timeout: T });

  // an agent sees the members, not the invite form nor Revoke
  const anaTeam = await teamPage(ana.page);
  await anaTeam.getByRole('list', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Owner' }).waitFor({ timeout: T });
  assert.equal(await anaTeam.getByRole('button', { name: 'Create invite link' }).isVisible(), false);
  assert.equal(await anaTeam.getByRole('button', { name: /^Revoke/ }).count(), 0);

  // the same link once more: refused, with words
  const late = await join(link, 'Mallory');
  await late.page.getByRole('alert').filter({ hasText: 'This invite was already used or has expired' }).waitFor({ timeout: T });
  assert.equal(await late.page.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
  await late.context.close();

  // revoked: her open inbox closes with a clear message, and her browser forgets the token
  owner.once('dialog', (dialog) => dialog.accept());
  await team.getByRole('button', { name: 'Revoke Ana' }).click();
  await ana.page.getByRole('alert').filter({ hasText: 'Your access to this desk was revoked' }).waitFor({ timeout: T });
  await ana.page.getByLabel('Admin token').waitFor({ timeout: T });
  assert.equal(await ana.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('inbox.token')).length), 0);
  await members.getByRole('listitem').filter({ hasText: 'Ana' }).waitFor({ state: 'detached', timeout: T });
  await ana.context.close();
  await ownerCtx.close();
});

test('two named agents answer one visitor: the widget shows each name, the inbox says "You" only for one\'s own', { timeout: 120_000 }, async () => {
  const d = deskName('names');
  const V = await openVisitor(browser, site, d, 'Vera');
  await visitorSays(V.page, 'Is anyone there?');

  const ownerCtx = await browser.newContext();
  const owner = await openAdmin(ownerCtx, desk.url, d);
  const team = await teamPage(owner);
  await team.getByLabel('Your name').fill('Olga');
  await team.getByRole('button', { name: 'Save name' }).click();
  await owner.getByText('Olga · owner', { exact: true }).waitFor({ timeout: T });
  const ana = await join(await invite(owner, 'Ana'), 'Ana');
  await ana.page.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });
  await owner.getByRole('button', { name: 'Back to the inbox' }).click();

  await adminReplies(owner, 'Vera', 'Hi Vera, Olga here.');
  await adminReplies(ana.page, 'Vera', 'And Ana, from billing.');
  await widgetShows(V.page, 'Hi Vera, Olga here.');
  await widgetShows(V.page, 'And Ana, from billing.');
  const signed = async (page, log, text, who) => {
    const item = log.getByRole('listitem').filter({ hasText: text });
    await item.getByText(new RegExp(`^${who} · `)).waitFor({ timeout: T });
  };
  const wlog = widget(V.page).log;
  await signed(V.page, wlog, 'Hi Vera, Olga here.', 'Olga');
  await signed(V.page, wlog, 'And Ana, from billing.', 'Ana');
  // the names are stored: a reload of the visitor's page shows them again
  await V.page.reload();
  await widget(V.page).launcher.click();
  await signed(V.page, widget(V.page).log, 'Hi Vera, Olga here.', 'Olga');
  await signed(V.page, widget(V.page).log, 'And Ana, from billing.', 'Ana');

  // in each inbox: one's own reply is "You", the colleague's carries their name
  await signed(owner, inbox(owner).log, 'Hi Vera, Olga here.', 'You');
  await signed(owner, inbox(owner).log, 'And Ana, from billing.', 'Ana');
  await signed(ana.page, inbox(ana.page).log, 'And Ana, from billing.', 'You');
  await signed(ana.page, inbox(ana.page).log, 'Hi Vera, Olga here.', 'Olga');
  assert.equal(await inbox(ana.page).log.getByText(/^You · /).count(), 1, 'only her own reply is "You"');
  // and the sidebar's preview names the latest reply's author the same way
  await inbox(owner).row('Vera').filter({ hasText: 'Ana: And Ana, from billing.' }).waitFor({ timeout: T });
  await inbox(ana.page).row('Vera').filter({ hasText: 'You: And Ana, from billing.' }).waitFor({ timeout: T });
  await V.context.close();
  await ana.context.close();
  await ownerCtx.close();
});

test('from the header: assign to a colleague (it is in their Mine), Mark unread stays unread, Snooze moves it to Snoozed', { timeout: 120_000 }, async () => {
  const d = deskName('assign');
  const V = await openVisitor(browser, site, d, 'Wanda');
  await visitorSays(V.page, 'Can someone from billing help?');
  const ownerCtx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const owner = await openAdmin(ownerCtx, desk.url, d);
  const ana = await join(await invite(owner, 'Ana'), 'Ana');
  await ana.page.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });
  await owner.getByRole('button', { name: 'Back to the inbox' }).click();
  const ui = inbox(owner);
  const anaUi = inbox(ana.page);
  await anaUi.tab('Mine').click();
  await ana.page.getByText('No conversations here.').waitFor({ timeout: T }); // not hers yet

  await ui.row('Wanda').click();
  await rowUnread(owner, 'Wanda', 0); // read after a second on it
  const assignee = owner.getByRole('toolbar', { name: 'Conversation actions' }).getByLabel('Assignee');
  await assignee.locator('option', { hasText: 'Ana' }).waitFor({ state: 'attached', timeout: T });
  await assignee.selectOption({ label: 'Ana' });
  await ui.log.locator('.event').filter({ hasText: 'Ana' }).waitFor({ timeout: T });
  await owner.getByText(/assigned to Ana$/).waitFor({ timeout: T });
  await anaUi.row('Wanda').waitFor({ timeout: T }); // live into her Mine view
  await ana.page.getByRole('tab', { name: /^Mine 1$/ }).waitFor({ timeout: T });

  // Mark unread: the badge comes back and stays while the conversation is still on screen
  await ui.action('Mark unread').click();
  await rowUnread(owner, 'Wanda', 1);
  await visitorSays(V.page, 'Thanks!'); // a live message while it is kept unread: still not read
  await rowUnread(owner, 'Wanda', 2);

  // Snooze for an hour: out of Open (and out of her Mine), into Snoozed
  await owner.getByRole('toolbar', { name: 'Conversation actions' }).getByLabel('Snooze').selectOption({ label: '1 hour' });
  await ui.row('Wanda').waitFor({ state: 'detached', timeout: T });
  await anaUi.row('Wanda').waitFor({ state: 'detached', timeout: T });
  await owner.getByText(/^Snoozed until /).waitFor({ timeout: T });
  await ui.tab('Snoozed').click();
  await ui.row('Wanda').waitFor({ timeout: T });
  await owner.getByRole('tab', { name: /^Snoozed 1$/ }).waitFor({ timeout: T });
  await V.context.close();
  await ana.context.close();
  await ownerCtx.close();
});

test('an admin invites agents only, and may revoke agents but not the owner or another admin', { timeout: 120_000 }, async () => {
  const d = deskName('admins');
  const ownerCtx = await browser.newContext();
  const owner = await openAdmin(ownerCtx, desk.url, d);
  const ada = await join(await invite(owner, 'Ada', 'admin'), 'Ada');
  await ada.page.getByText('Ada · admin', { exact: true }).waitFor({ timeout: T });
  await invite(owner, 'Cyd', 'admin');
  const bo = await join(await invite(ada.page, 'Bo'), 'Bo'); // Ada invites an agent
  await bo.page.getByText('Bo · agent', { exact: true }).waitFor({ timeout: T });

  const team = await teamPage(ada.page);
  const role = team.getByLabel('Role');
  assert.deepEqual(await role.locator('option:not([disabled])').allTextContents(), ['Agent: answers conversations'], 'an admin is offered the agent role only');
  await team.getByRole('button', { name: 'Refresh' }).click();
  const members = team.getByRole('list', { name: 'Members' });
  await members.getByRole('listitem').filter({ hasText: 'Bo' }).filter({ hasText: 'Agent · online' }).waitFor({ timeout: T });
  assert.equal(await team.getByRole('button', { name: 'Revoke Bo' }).count(), 1);
  assert.equal(await team.getByRole('button', { name: /^Revoke (Owner|Cyd|Ada)$/ }).count(), 0, 'not the owner, another admin or herself');
  ada.page.once('dialog', (dialog) => dialog.accept());
  await team.getByRole('button', { name: 'Revoke Bo' }).click();
  await bo.page.getByRole('alert').filter({ hasText: 'Your access to this desk was revoked' }).waitFor({ timeout: T });
  for (const c of [ada.context, bo.context, ownerCtx]) await c.close();
});
